// The signaling protocol, once: message schemas (valibot) and the TypeScript types inferred from them.
import * as v from 'valibot';
import { ShareItemSchema, SharedFileSchema } from './shares.js';

/** MAX_PAYLOAD — largest WebSocket message either side accepts, in bytes (ws closes with 1009 beyond). */
export const MAX_PAYLOAD = 64 * 1024;
const MAX_SDP = 60_000;
export const MAX_CHAT = 2_000;
const MAX_APP_DATA = 32 * 1024;

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
  /** The room is locked: nobody new may join (its owner and admins may). */
  RoomLocked: 'room-locked',
  /** You were removed from this room and may not rejoin yet. */
  Banned: 'banned',
  /** Only the room's owner or an admin may do that (or not to that person). */
  NotAllowed: 'not-allowed',
  /** The person already shares SHARE_LIMITS.itemsPerPerson items; they must stop sharing one first. */
  TooManyShares: 'too-many-shares',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

// ---- building blocks -------------------------------------------------------------------

const PeerIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,32}$/));
export const SlugSchema = v.pipe(v.string(), v.regex(/^[a-z0-9-]{3,64}$/));
const RefSchema = v.optional(v.pipe(v.string(), v.maxLength(64)));
const CallIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,32}$/));
export const UserIdSchema = v.pipe(v.string(), v.uuid());
const TransferIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/));
const Sha256Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));

/** TransferState — a file transfer's state as the room's ledger records it (the browser's ledger reports use this type too). */
const TransferStateSchema = v.picklist(['offered', 'declined', 'resumed', 'verified', 'failed', 'cancelled']);
export type TransferState = v.InferOutput<typeof TransferStateSchema>;

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
  v.strictObject({ type: v.literal('ring'), userId: UserIdSchema, room: v.optional(SlugSchema), ref: RefSchema }),
  /** ring-cancel — the caller hangs up before an answer. */
  v.strictObject({ type: v.literal('ring-cancel'), callId: CallIdSchema, ref: RefSchema }),
  /** ring-answer — the callee accepts or declines (the first answer from any tab wins). */
  v.strictObject({ type: v.literal('ring-answer'), callId: CallIdSchema, accept: v.boolean(), ref: RefSchema }),
  /** dnd — Do not disturb on or off for the sender's account. */
  v.strictObject({ type: v.literal('dnd'), on: v.boolean(), ref: RefSchema }),
  /** dismiss-missed — remove one missed call from the list. */
  v.strictObject({ type: v.literal('dismiss-missed'), id: CallIdSchema, ref: RefSchema }),
  /** moderate — the room's owner or an admin removes a person from `room` (every tab of theirs; they may not rejoin for a while). */
  v.strictObject({ type: v.literal('moderate'), action: v.literal('remove'), room: SlugSchema, userId: UserIdSchema, ref: RefSchema }),
  /** room-settings — the room's owner or an admin locks or unlocks `room`. */
  v.strictObject({ type: v.literal('room-settings'), room: SlugSchema, locked: v.boolean(), ref: RefSchema }),
  /**
   * ledger — records a file transfer's state in the room's chat (who sent what to whom, its hash).
   * The sender reports without `from`; the receiver reports with `from` (the sender's peer id).
   * Only a receiver may report `verified`: it is its own check of the whole file's SHA-256.
   */
  v.strictObject({
    type: v.literal('ledger'),
    transferId: TransferIdSchema,
    /** Sender's report: the receiver's peer id, or null for "everyone in the room". Receiver's report: null. */
    to: v.nullable(PeerIdSchema),
    /** Receiver's report: the sending peer's id. */
    from: v.optional(PeerIdSchema),
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
    size: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
    sha256: v.nullable(Sha256Schema),
    state: TransferStateSchema,
    ref: RefSchema,
  }),
  /** share — this tab holds `item` (it can serve every chunk of it), shared in `room` (the tab's room) or the lobby (null). */
  v.strictObject({ type: v.literal('share'), item: ShareItemSchema, room: v.nullable(SlugSchema), ref: RefSchema }),
  /** unshare — the sender stops sharing item `id` everywhere: every tab of theirs, and their record of it. */
  v.strictObject({ type: v.literal('unshare'), id: Sha256Schema, ref: RefSchema }),
  /** files-watch — send `files` now and whenever what this socket may see changes. */
  v.strictObject({ type: v.literal('files-watch'), ref: RefSchema }),
]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
type ClientMessageType = ClientMessage['type'];
/** CLIENT_MESSAGE_TYPES — every `type` a browser may send, read from the schema. */
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ClientMessageSchema.options.map((o) => o.entries.type.literal);

// ---- server → client -------------------------------------------------------------------
// The server builds these and the browser trusts its server, so nothing validates them at run
// time; the schemas give the types, and let PROTOCOL.md's examples be checked (test/unit/protocol-doc.test.ts).

const UserNameSchema = v.string();
const TimestampSchema = v.pipe(v.number(), v.integer(), v.minValue(0));
const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** UserRef — a person, as ringing names them. */
const UserRefSchema = v.strictObject({ userId: UserIdSchema, displayName: UserNameSchema });
export type UserRef = v.InferOutput<typeof UserRefSchema>;

/** Peer — one tab in a room. */
const PeerSchema = v.strictObject({
  peerId: PeerIdSchema,
  userId: UserIdSchema,
  displayName: UserNameSchema,
  muted: v.boolean(),
  cameraOff: v.boolean(),
});
export type Peer = v.InferOutput<typeof PeerSchema>;

/** Whereabouts — where a person is; private calls are not named. */
const WhereaboutsSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('lobby') }),
  v.strictObject({ kind: v.literal('room'), slug: SlugSchema, name: v.string() }),
  v.strictObject({ kind: v.literal('call') }),
]);

/** OnlineEntry — one person in Online now (several tabs are one entry). */
const OnlineEntrySchema = v.strictObject({
  userId: UserIdSchema,
  displayName: UserNameSchema,
  where: WhereaboutsSchema,
  /** The person's tabs that are in the lobby (not in a room): lobby peers may signal each other. */
  lobbyPeers: v.array(PeerIdSchema),
});
export type OnlineEntry = v.InferOutput<typeof OnlineEntrySchema>;

/** LiveRoom — a room with people in it, as the lobby shows it. */
const LiveRoomSchema = v.strictObject({
  slug: SlugSchema,
  name: v.string(),
  capacity: CountSchema,
  count: CountSchema,
  hasPasscode: v.boolean(),
  /** Locked: nobody new may join until its owner or an admin unlocks it. */
  locked: v.boolean(),
  members: v.array(v.strictObject({ userId: UserIdSchema, displayName: UserNameSchema })),
});
export type LiveRoom = v.InferOutput<typeof LiveRoomSchema>;

/** LedgerEntry — one file transfer's state as the room's chat records it. */
const LedgerEntrySchema = v.strictObject({
  transferId: TransferIdSchema,
  fromName: UserNameSchema,
  /** Receiver's display name, or null for everyone in the room. */
  toName: v.nullable(UserNameSchema),
  name: v.string(),
  size: CountSchema,
  sha256: v.nullable(Sha256Schema),
  state: TransferStateSchema,
  /** Set when the receiver reported this entry (its own check): only such entries say "verified". */
  by: v.optional(v.literal('receiver')),
});
export type LedgerEntry = v.InferOutput<typeof LedgerEntrySchema>;

/** ChatMessage — one line of a room's chat. */
const ChatMessageSchema = v.strictObject({
  id: v.string(),
  userId: UserIdSchema,
  displayName: UserNameSchema,
  text: v.string(),
  /** Milliseconds since the epoch (server clock). */
  ts: TimestampSchema,
  /** Present on file-transfer ledger entries (then `text` is a plain-language summary). */
  transfer: v.optional(LedgerEntrySchema),
});
export type ChatMessage = v.InferOutput<typeof ChatMessageSchema>;

/** CallState — how a ring ended (or `ringing` while it has not). */
const CallStateSchema = v.picklist(['ringing', 'accepted', 'declined', 'no-answer', 'busy', 'cancelled', 'offline', 'dnd', 'answered-elsewhere']);
export type CallState = v.InferOutput<typeof CallStateSchema>;

/** MissedCall — a ring nobody answered, kept until dismissed. */
const MissedCallSchema = v.strictObject({ id: CallIdSchema, from: UserRefSchema, ts: TimestampSchema });
export type MissedCall = v.InferOutput<typeof MissedCallSchema>;

/** RoomInfo — a room's name and size, as `joined` and `ring-incoming` give it. */
const RoomInfoSchema = v.strictObject({ slug: SlugSchema, name: v.string(), capacity: CountSchema });

/** IceServer — one STUN/TURN server (the `ICE_SERVERS` setting), as RTCPeerConnection takes it. */
const IceUrlSchema = v.pipe(v.string(), v.regex(/^(stun|stuns|turn|turns):/, 'an ICE server URL starts with stun:, stuns:, turn: or turns:'));
export const IceServerSchema = v.strictObject({
  urls: v.union([IceUrlSchema, v.pipe(v.array(IceUrlSchema), v.minLength(1))]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});
export type IceServer = v.InferOutput<typeof IceServerSchema>;
/** IceTransportPolicy — `relay` (ICE_TRANSPORT_POLICY=relay): only relayed candidates, for every peer connection. */
const IceTransportPolicySchema = v.picklist(['all', 'relay']);

const ServerRefSchema = v.optional(v.string());

/** What both views of a shared item say about it: its announcement, size, type, scope and age. */
const SharedItemEntries = {
  id: Sha256Schema,
  kind: v.picklist(['file', 'folder']),
  name: v.string(),
  files: v.array(SharedFileSchema),
  dirs: v.array(v.string()),
  /** Bytes of all its files. */
  size: CountSchema,
  /** A file's MIME type; '' for a folder. */
  type: v.string(),
  /** The room it is shared in, or null for everyone in the lobby. */
  room: v.nullable(SlugSchema),
  /** When it was first shared (the earliest record among its holders; ms). */
  sharedAt: TimestampSchema,
};

/** SharedItemView — a shared item that at least one live tab holds, as a socket that may see it gets it. */
const SharedItemViewSchema = v.strictObject({
  ...SharedItemEntries,
  /** The people whose tabs hold it now, and those tabs (peers to ask for chunks). */
  holders: v.array(v.strictObject({ userId: UserIdSchema, displayName: UserNameSchema, peers: v.array(PeerIdSchema) })),
});
export type SharedItemView = v.InferOutput<typeof SharedItemViewSchema>;

/** MyShare — one of the person's own share records; `held`: a tab of theirs holds it now (Available), else Offline. */
const MyShareSchema = v.strictObject({ ...SharedItemEntries, held: v.boolean() });
export type MyShare = v.InferOutput<typeof MyShareSchema>;

export const ServerMessageSchema = v.variant('type', [
  /** welcome — the first message on every socket: who you are, and how to come back (`resume`). */
  v.strictObject({
    type: v.literal('welcome'),
    peerId: PeerIdSchema,
    user: UserRefSchema,
    iceServers: v.array(IceServerSchema),
    iceTransportPolicy: IceTransportPolicySchema,
    maxPayload: CountSchema,
    resume: v.string(),
  }),
  /** lobby — the whole lobby: a socket's first lobby message. `seq` numbers this server instance's lobby feed. */
  v.strictObject({ type: v.literal('lobby'), seq: CountSchema, online: v.array(OnlineEntrySchema), rooms: v.array(LiveRoomSchema) }),
  /** lobby-delta — what changed since message `seq - 1`: entries to add or replace (`set`), userIds and slugs to drop (`remove`). */
  v.strictObject({
    type: v.literal('lobby-delta'),
    seq: CountSchema,
    online: v.strictObject({ set: v.array(OnlineEntrySchema), remove: v.array(UserIdSchema) }),
    rooms: v.strictObject({ set: v.array(LiveRoomSchema), remove: v.array(SlugSchema) }),
  }),
  v.strictObject({ type: v.literal('joined'), room: RoomInfoSchema, self: PeerSchema, peers: v.array(PeerSchema), ref: ServerRefSchema }),
  v.strictObject({ type: v.literal('left'), room: SlugSchema, ref: ServerRefSchema }),
  v.strictObject({ type: v.literal('peer-joined'), room: SlugSchema, peer: PeerSchema }),
  v.strictObject({ type: v.literal('peer-updated'), room: SlugSchema, peer: PeerSchema }),
  /** peer-left — reason: 'left' (Leave, or the tab closed), 'timeout' (heartbeat lapsed), 'dropped' (its connection broke; it may come back with the same peerId). */
  v.strictObject({ type: v.literal('peer-left'), room: SlugSchema, peerId: PeerIdSchema, reason: v.picklist(['left', 'timeout', 'dropped']) }),
  v.strictObject({ type: v.literal('room-closed'), room: SlugSchema, reason: v.literal('deleted') }),
  /** room-updated — the room's capacity, lock or passcode changed (to its members; with `ref`, the answer to `room-settings`). */
  v.strictObject({ type: v.literal('room-updated'), room: SlugSchema, capacity: CountSchema, locked: v.boolean(), hasPasscode: v.boolean(), ref: ServerRefSchema }),
  /** removed — to every tab of a person removed from `room`: out of its call, and kept out for `minutes`. */
  v.strictObject({ type: v.literal('removed'), room: SlugSchema, minutes: CountSchema }),
  /** moderated — the answer to `moderate`: done, and for how long the person is kept out. */
  v.strictObject({ type: v.literal('moderated'), room: SlugSchema, action: v.literal('remove'), userId: UserIdSchema, minutes: CountSchema, ref: ServerRefSchema }),
  v.strictObject({ type: v.literal('signal'), from: PeerIdSchema, payload: SignalPayloadSchema }),
  v.strictObject({ type: v.literal('chat'), room: SlugSchema, message: ChatMessageSchema }),
  v.strictObject({ type: v.literal('ring-incoming'), callId: CallIdSchema, from: UserRefSchema, room: v.nullable(RoomInfoSchema), expiresAt: TimestampSchema }),
  /** ring-update — `join` (with `accepted`): a one-time token; `/r/<room>?join=<token>` takes the seat on arrival. */
  v.strictObject({
    type: v.literal('ring-update'),
    callId: CallIdSchema,
    state: CallStateSchema,
    peer: UserRefSchema,
    room: v.optional(SlugSchema),
    join: v.optional(v.string()),
    ref: ServerRefSchema,
  }),
  v.strictObject({ type: v.literal('ring-notice'), from: UserRefSchema, reason: v.picklist(['busy', 'dnd']) }),
  v.strictObject({ type: v.literal('missed-calls'), calls: v.array(MissedCallSchema) }),
  v.strictObject({ type: v.literal('dnd'), on: v.boolean() }),
  /** ice-servers — fresh TURN credentials before the last ones expire: for new connections, and live ones' next ICE restart. */
  v.strictObject({ type: v.literal('ice-servers'), iceServers: v.array(IceServerSchema), iceTransportPolicy: IceTransportPolicySchema }),
  /** shared — the answer to `share`: this tab holds item `id`. */
  v.strictObject({ type: v.literal('shared'), id: Sha256Schema, ref: ServerRefSchema }),
  /** unshared — the answer to `unshare`: nobody of yours shares item `id` any more. */
  v.strictObject({ type: v.literal('unshared'), id: Sha256Schema, ref: ServerRefSchema }),
  /** files — what this socket may see (`items`) and the person's own shares (`mine`); with `ref`, the answer to `files-watch`. */
  v.strictObject({ type: v.literal('files'), items: v.array(SharedItemViewSchema), mine: v.array(MyShareSchema), ref: ServerRefSchema }),
  v.strictObject({ type: v.literal('error'), code: v.picklist(Object.values(ErrorCode)), message: v.string(), ref: ServerRefSchema }),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
export type ServerMessageType = ServerMessage['type'];
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;
/** SERVER_MESSAGE_TYPES — every `type` the server sends, read from the schema. */
export const SERVER_MESSAGE_TYPES: readonly ServerMessageType[] = ServerMessageSchema.options.map((o) => o.entries.type.literal);

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
