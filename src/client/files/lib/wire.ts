// Shared files' data-channel messages (downloader ↔ holder), validated on receipt; chunk bytes go as binary messages.
import * as v from 'valibot';

/** FILES_RTC_APP — the signaling `app` that negotiates shared-files connections. */
export const FILES_RTC_APP = 'files-rtc';
/** CHANNEL_PREFIX — a channel labelled `sf:<sha256>` fetches that file. */
export const CHANNEL_PREFIX = 'sf:';
/** PART — binary message size (the interoperable data-channel limit is 64 KiB). */
export const PART = 64 * 1024;
/** Largest text message either side accepts. */
const MAX_TEXT = 16 * 1024;
/** Indices per `get`: a downloader keeps only a few chunks in flight per holder. */
const MAX_GET = 16;

const Index = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 21));

const WireSchema = v.variant('t', [
  /** manifest — downloader: send the chunk hashes; holder: `n` hashes (n×32 bytes) follow as binary messages. */
  v.strictObject({ t: v.literal('manifest'), n: v.optional(Index) }),
  /** get — downloader → holder: send these chunks. */
  v.strictObject({ t: v.literal('get'), i: v.pipe(v.array(Index), v.minLength(1), v.maxLength(MAX_GET)) }),
  /** c — holder → downloader: chunk `i` follows as binary messages. */
  v.strictObject({ t: v.literal('c'), i: Index }),
  /** ping — either side after a quiet second: silence means the channel is dead. */
  v.strictObject({ t: v.literal('ping') }),
]);
export type Wire = v.InferOutput<typeof WireSchema>;

/** parseWire — a validated text message, or null (never throws). */
export function parseWire(text: string): Wire | null {
  if (text.length > MAX_TEXT) return null;
  try {
    const r = v.safeParse(WireSchema, JSON.parse(text));
    return r.success ? r.output : null;
  } catch {
    return null;
  }
}

/** sendParts — `bytes` as ≤ 64 KiB binary messages. */
export function sendParts(dc: RTCDataChannel, bytes: Uint8Array<ArrayBuffer>): void {
  for (let off = 0; off < bytes.byteLength; off += PART) dc.send(bytes.subarray(off, off + PART));
}
