// File-transfer wire formats: signaling app messages and data-channel control messages, validated on receipt.
import * as v from 'valibot';
import { SignalPayloadSchema } from '../../../shared/protocol.js';
import type { Negotiation } from '../../shared/lib/peer-link.js';

/** The signaling `app` names this feature uses. */
export const TRANSFER_APP = 'transfer';
/** Lobby-only: negotiation of the data-only RTCPeerConnection (kept apart from call negotiation). */
export const RTC_APP = 'transfer-rtc';

/** Limits on what a peer may claim; everything beyond is dropped as hostile or broken. */
export const LIMITS = {
  filesPerOffer: 64,
  name: 255,
  /** 1 TiB: far beyond a LAN transfer, small enough for exact doubles and bitmaps. */
  fileSize: 2 ** 40,
  minChunk: 16 * 1024,
  maxChunk: 4 * 1024 * 1024,
  /** Largest data-channel message either side sends or accepts (a chunk spans several). */
  message: 64 * 1024,
  /** Missing ranges per `need` (the rest follows after a `sync`). */
  ranges: 1024,
  idsPerMessage: 256,
} as const;

const IdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/));
const Ids = v.pipe(v.array(IdSchema), v.minLength(1), v.maxLength(LIMITS.idsPerMessage));
const Int = (max: number, min = 0) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const Hex64 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));

const FileMetaSchema = v.strictObject({
  id: IdSchema,
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(LIMITS.name)),
  size: Int(LIMITS.fileSize),
  chunkSize: Int(LIMITS.maxChunk, LIMITS.minChunk),
});
export type FileMeta = v.InferOutput<typeof FileMetaSchema>;

const CancelReason = v.optional(v.picklist(['cancelled', 'failed']));

/** TransferSignalSchema — a TransferSignal, sent through the server as `{kind:'app', app:'transfer', data}`. */
const TransferSignalSchema = v.variant('t', [
  /** offer — the sender proposes files; the receiver answers accept or decline. */
  v.strictObject({
    t: v.literal('offer'),
    offerId: IdSchema,
    files: v.pipe(v.array(FileMetaSchema), v.minLength(1), v.maxLength(LIMITS.filesPerOffer),
      v.check((fs) => new Set(fs.map((f) => f.id)).size === fs.length, 'duplicate file ids')),
  }),
  v.strictObject({ t: v.literal('accept'), offerId: IdSchema }),
  v.strictObject({ t: v.literal('decline'), offerId: IdSchema }),
  /** taken — another tab of the same person answered first: close the offer here. */
  v.strictObject({ t: v.literal('taken'), offerId: IdSchema }),
  v.strictObject({ t: v.literal('cancel'), ids: Ids, reason: CancelReason }),
  /** resume — the receiver asks the sender to reopen a channel for these transfers. */
  v.strictObject({ t: v.literal('resume'), ids: Ids }),
  /** knock — the sender can continue these transfers: the receiver answers with resume. */
  v.strictObject({ t: v.literal('knock'), ids: Ids }),
  /** wait — the sender's page reloaded: it must pick the file again before it can continue. */
  v.strictObject({ t: v.literal('wait'), ids: Ids }),
]);
export type TransferSignal = v.InferOutput<typeof TransferSignalSchema>;

const Index = Int(2 ** 26);

/** ChannelMessageSchema — a ChannelMessage: JSON text messages on a transfer's data channel (chunk bytes go as binary messages). */
const ChannelMessageSchema = v.variant('t', [
  /** need — receiver → sender: the chunk ranges [start, end) it still lacks. */
  v.strictObject({ t: v.literal('need'), r: v.pipe(v.array(v.tuple([Index, Index])), v.maxLength(LIMITS.ranges)), more: v.boolean() }),
  /** c — sender → receiver: chunk `i` with SHA-256 `h` follows as binary messages. */
  v.strictObject({ t: v.literal('c'), i: Index, h: Hex64 }),
  /** ack — receiver → sender: these chunks are verified and on disk (batched: one message per few chunks). */
  v.strictObject({ t: v.literal('ack'), i: v.pipe(v.array(Index), v.minLength(1), v.maxLength(64)) }),
  /** nack — the chunk's hash did not match: send it again. */
  v.strictObject({ t: v.literal('nack'), i: Index }),
  /** sync — sender → receiver: done with the listed ranges, send a fresh `need`. */
  v.strictObject({ t: v.literal('sync') }),
  v.strictObject({ t: v.literal('end'), sha256: Hex64 }),
  /** result — receiver → sender: the SHA-256 it computed from disk, and whether it matches. */
  v.strictObject({ t: v.literal('result'), ok: v.boolean(), sha256: Hex64 }),
  v.strictObject({ t: v.literal('cancel'), reason: CancelReason }),
  /** ping — either side, after a second of saying nothing: silence means the channel is dead. */
  v.strictObject({ t: v.literal('ping') }),
]);
export type ChannelMessage = v.InferOutput<typeof ChannelMessageSchema>;

// The envelope of a lobby link's negotiation: `pc` names the sending connection instance; the
// description or candidate inside is the call's own, checked by the call's own schema.
const RtcEnvelopeSchema = v.variant('k', [
  v.strictObject({ k: v.literal('sdp'), pc: IdSchema, sdp: v.unknown() }),
  v.strictObject({ k: v.literal('cand'), pc: IdSchema, cand: v.unknown() }),
]);

/** RtcSignal — a lobby link's negotiation: what its PeerLink said, from connection instance `pc`. */
export interface RtcSignal {
  pc: string;
  payload: Negotiation;
}

/** parseSignal — a validated transfer signal, or null (never throws). */
export function parseSignal(data: unknown): TransferSignal | null {
  const r = v.safeParse(TransferSignalSchema, data);
  return r.success ? r.output : null;
}

/** parseRtc — a validated `transfer-rtc` message (`{k:'sdp', pc, sdp}` or `{k:'cand', pc, cand}`), or null. */
export function parseRtc(data: unknown): RtcSignal | null {
  const e = v.safeParse(RtcEnvelopeSchema, data);
  if (!e.success) return null;
  const m = e.output;
  const p = v.safeParse(SignalPayloadSchema, m.k === 'sdp' ? { kind: 'description', description: m.sdp } : { kind: 'candidate', candidate: m.cand });
  if (!p.success || p.output.kind === 'app') return null;
  // A lobby link only ever sends offers and answers (never a rollback or a provisional answer).
  if (p.output.kind === 'description' && p.output.description.type !== 'offer' && p.output.description.type !== 'answer') return null;
  return { pc: m.pc, payload: p.output };
}

/** rtcData — the `transfer-rtc` message for `payload` from connection instance `pc`. */
export function rtcData(pc: string, payload: Negotiation): unknown {
  return payload.kind === 'description' ? { k: 'sdp', pc, sdp: payload.description } : { k: 'cand', pc, cand: payload.candidate };
}

/** parseChannel — a validated control message from a data channel's text frame, or null. */
export function parseChannel(text: string): ChannelMessage | null {
  if (text.length > LIMITS.message) return null;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const r = v.safeParse(ChannelMessageSchema, data);
  return r.success ? r.output : null;
}

/** randomId — 16 URL-safe random characters (96 bits): transfer and offer ids. */
export function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

/** toHex — lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
