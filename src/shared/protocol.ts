// The signaling protocol, once: message schemas (valibot) and the TypeScript types inferred from them.
import * as v from 'valibot';

/** MAX_PAYLOAD — largest WebSocket message either side accepts, in bytes (ws closes with 1009 beyond). */
export const MAX_PAYLOAD = 64 * 1024;
export const MAX_SDP = 60_000;
export const MAX_CHAT = 2_000;
export const MAX_APP_DATA = 32 * 1024;

/** CloseCode — WebSocket close codes Hearth uses, beside the standard 1000/1001/1009. */
export const CloseCode = {
  /** The server is shutting down or restarting; reconnect with backoff. */
  GoingAway: 1001,
  /** A frame above MAX_PAYLOAD (sent by ws itself). */
  TooBig: 1009,
  /** Repeated abuse: too many messages or too many invalid ones. */
  PolicyViolation: 4008,
  /** The session ended (signed out or expired); reconnecting will not help: sign in again. */
  SessionEnded: 4401,
  /** This account or address has too many Hearth tabs open; close some and reconnect. */
  TooManySockets: 4429,
} as const;

/** ErrorCode — the stable `code` of every `error` message. */
export const ErrorCode = {
  BadJson: 'bad-json',
  BadMessage: 'bad-message',
  UnknownType: 'unknown-type',
  RateLimited: 'rate-limited',
  NotInRoom: 'not-in-room',
  RoomNotFound: 'room-not-found',
  RoomFull: 'room-full',
  PasscodeRequired: 'passcode-required',
  NotInvited: 'not-invited',
  PeerNotFound: 'peer-not-found',
  Unavailable: 'unavailable',
  Internal: 'internal',
  CallNotFound: 'call-not-found',
  UserNotFound: 'user-not-found',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ---- building blocks -------------------------------------------------------------------

export const PeerIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,32}$/));
export const SlugSchema = v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/));
const RefSchema = v.optional(v.pipe(v.string(), v.maxLength(64)));
export const CallIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,32}$/));

const DescriptionSchema = v.strictObject({
  type: v.picklist(['offer', 'answer', 'pranswer', 'rollback']),
  sdp: v.optional(v.pipe(v.string(), v.maxLength(MAX_SDP))),
});

const CandidateSchema = v.strictObject({
  candidate: v.pipe(v.string(), v.maxLength(2048)),
  sdpMid: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
  sdpMLineIndex: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1024)))),
  usernameFragment: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(256)))),
});

/** SignalPayload — what one peer sends another through the server; opaque to the server. */
export const SignalPayloadSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('description'), description: DescriptionSchema }),
  v.strictObject({ kind: v.literal('candidate'), candidate: v.nullable(CandidateSchema) }),
  // App messages for features built on the channel (file-transfer offers, resume requests…).
  v.strictObject({
    kind: v.literal('app'),
    app: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,31}$/)),
    data: v.pipe(v.unknown(), v.check((d) => jsonSize(d) <= MAX_APP_DATA, 'app data is too large')),
  }),
]);
export type SignalPayload = v.InferOutput<typeof SignalPayloadSchema>;

function jsonSize(d: unknown): number {
  try {
    return JSON.stringify(d ?? null).length;
  } catch {
    return Infinity;
  }
}

// ---- client → server -------------------------------------------------------------------

export const TRANSFER_STATES = ['offered', 'declined', 'resumed', 'verified', 'failed', 'cancelled'] as const;
export type TransferState = (typeof TRANSFER_STATES)[number];

export const ClientMessageSchema = v.variant('type', [
  /** join — enter a room (leaving any other room first). */
  v.strictObject({ type: v.literal('join'), room: SlugSchema, ref: RefSchema }),
  /** leave — leave the current room. */
  v.strictObject({ type: v.literal('leave'), ref: RefSchema }),
  /** signal — relay `payload` to peer `to`, who must be in the sender's room. */
  v.strictObject({ type: v.literal('signal'), to: PeerIdSchema, payload: SignalPayloadSchema, ref: RefSchema }),
  /** media — the sender's microphone/camera state, shown to everyone in the room. */
  v.strictObject({ type: v.literal('media'), muted: v.boolean(), cameraOff: v.boolean(), ref: RefSchema }),
  /** chat — a text message to the sender's room. */
  v.strictObject({
    type: v.literal('chat'),
    text: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CHAT), v.check((t) => t.trim().length > 0, 'empty message')),
    ref: RefSchema,
  }),
  /** ring — ring a person by user id, into a new private call or into the sender's `room`. */
  v.strictObject({ type: v.literal('ring'), userId: v.pipe(v.string(), v.uuid()), room: v.optional(SlugSchema), ref: RefSchema }),
  /** ring-cancel — the caller hangs up before an answer. */
  v.strictObject({ type: v.literal('ring-cancel'), callId: CallIdSchema, ref: RefSchema }),
  /** ring-answer — the callee accepts or declines (the first answer from any tab wins). */
  v.strictObject({ type: v.literal('ring-answer'), callId: CallIdSchema, accept: v.boolean(), ref: RefSchema }),
  /** dnd — Do not disturb on or off for the sender's account. */
  v.strictObject({ type: v.literal('dnd'), on: v.boolean(), ref: RefSchema }),
  /** dismiss-missed — remove one missed call from the list. */
  v.strictObject({ type: v.literal('dismiss-missed'), id: CallIdSchema, ref: RefSchema }),
  /**
   * ledger — records a file transfer's state in the room's chat (who sent what to whom, its hash).
   * The sender reports without `from`; the receiver reports with `from` (the sender's peer id).
   * Only a receiver may report `verified`: it is its own check of the whole file's SHA-256.
   */
  v.strictObject({
    type: v.literal('ledger'),
    transferId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/)),
    /** Sender's report: the receiver's peer id, or null for "everyone in the room". Receiver's report: null. */
    to: v.nullable(PeerIdSchema),
    /** Receiver's report: the sending peer's id. */
    from: v.optional(PeerIdSchema),
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    size: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
    sha256: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
    state: v.picklist(TRANSFER_STATES),
    ref: RefSchema,
  }),
]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ['join', 'leave', 'signal', 'media', 'chat', 'ring', 'ring-cancel', 'ring-answer', 'dnd', 'dismiss-missed', 'ledger'];

// ---- server → client (types only: the server builds them, the browser trusts its server) --

export interface UserRef {
  id: string;
  displayName: string;
}

/** Peer — one tab in a room. */
export interface Peer {
  peerId: string;
  userId: string;
  displayName: string;
  muted: boolean;
  cameraOff: boolean;
}

/** Whereabouts — where a person is; private calls are not named. */
export type Whereabouts = { kind: 'lobby' } | { kind: 'room'; slug: string; name: string } | { kind: 'call' };

/** OnlineEntry — one person in Online now (several tabs are one entry). */
export interface OnlineEntry {
  userId: string;
  displayName: string;
  where: Whereabouts;
  /** The person's tabs that are in the lobby (not in a room): lobby peers may signal each other. */
  lobbyPeers: string[];
}

/** LiveRoom — a room with people in it, as the lobby shows it. */
export interface LiveRoom {
  slug: string;
  name: string;
  capacity: number;
  count: number;
  hasPasscode: boolean;
  members: { userId: string; displayName: string }[];
}

export interface ChatMessage {
  id: string;
  userId: string;
  displayName: string;
  text: string;
  /** Milliseconds since the epoch (server clock). */
  ts: number;
  /** Present on file-transfer ledger entries (then `text` is a plain-language summary). */
  transfer?: LedgerEntry;
}

/** LedgerEntry — one file transfer's state as the room's chat records it. */
export interface LedgerEntry {
  transferId: string;
  fromName: string;
  /** Receiver's display name, or null for everyone in the room. */
  toName: string | null;
  name: string;
  size: number;
  sha256: string | null;
  state: TransferState;
  /** Set when the receiver reported this entry (its own check): only such entries say "verified". */
  by?: 'receiver';
}

/** CallOutcome — how a ring ended (or `ringing` while it has not). */
export type CallState = 'ringing' | 'accepted' | 'declined' | 'no-answer' | 'busy' | 'cancelled' | 'offline' | 'dnd' | 'answered-elsewhere';

/** MissedCall — a ring nobody answered, kept until dismissed. */
export interface MissedCall {
  id: string;
  from: UserRef;
  ts: number;
}

export interface RoomInfo {
  slug: string;
  name: string;
  capacity: number;
}

export type ServerMessage =
  | { type: 'welcome'; peerId: string; user: UserRef; iceServers: { urls: string | string[]; username?: string; credential?: string }[]; maxPayload: number; resume: string }
  /** lobby — the whole lobby: a socket's first lobby message. `seq` numbers this server instance's lobby feed. */
  | { type: 'lobby'; seq: number; online: OnlineEntry[]; rooms: LiveRoom[] }
  /** lobby-delta — what changed since message `seq - 1`: entries to add or replace (`set`), userIds and slugs to drop (`remove`). */
  | { type: 'lobby-delta'; seq: number; online: { set: OnlineEntry[]; remove: string[] }; rooms: { set: LiveRoom[]; remove: string[] } }
  | { type: 'joined'; room: RoomInfo; self: Peer; peers: Peer[]; ref?: string }
  | { type: 'left'; room: string; ref?: string }
  | { type: 'peer-joined'; room: string; peer: Peer }
  | { type: 'peer-updated'; room: string; peer: Peer }
  /** reason: 'left' (Leave, or the tab closed), 'timeout' (heartbeat lapsed), 'dropped' (its connection broke; it may come back with the same peerId). */
  | { type: 'peer-left'; room: string; peerId: string; reason: 'left' | 'timeout' | 'dropped' }
  | { type: 'room-closed'; room: string; reason: 'deleted' }
  | { type: 'signal'; from: string; payload: SignalPayload }
  | { type: 'chat'; room: string; message: ChatMessage }
  | { type: 'ring-incoming'; callId: string; from: UserRef; room: RoomInfo | null; expiresAt: number }
  /** `join` (with `accepted`): a one-time token; `/r/<room>?join=<token>` takes the seat on arrival. */
  | { type: 'ring-update'; callId: string; state: CallState; peer: UserRef; room?: string; join?: string; ref?: string }
  | { type: 'ring-notice'; from: UserRef; reason: 'busy' | 'dnd' }
  | { type: 'missed-calls'; calls: MissedCall[] }
  | { type: 'dnd'; on: boolean }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerMessageType = ServerMessage['type'];
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

/** ParseResult — a validated message, or the typed error to answer with. */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCode; message: string; ref?: string };

/** parseClientMessage — validates one raw frame; never throws. */
export function parseClientMessage(raw: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, code: ErrorCode.BadJson, message: 'The message is not valid JSON.' };
  }
  const ref = typeof (data as { ref?: unknown })?.ref === 'string' ? ((data as { ref: string }).ref).slice(0, 64) : undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, code: ErrorCode.BadMessage, message: 'A message must be a JSON object with a "type".', ref };
  }
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string' || !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type)) {
    return { ok: false, code: ErrorCode.UnknownType, message: `Unknown message type ${JSON.stringify(String(type).slice(0, 40))}.`, ref };
  }
  const result = v.safeParse(ClientMessageSchema, data);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') || '(message)';
    return { ok: false, code: ErrorCode.BadMessage, message: `Invalid "${type}" message at ${where}: ${issue?.message ?? 'invalid'}.`, ref };
  }
  return { ok: true, message: result.output };
}
