// The browser side of /ws: one socket kept open (reconnecting with backoff, resuming this tab's
// peer id), a typed event per server message, a request per message the server answers and a
// typed send… per message it does not. No DOM.
import { setIceConfiguration } from './peer-link.js';
import type { ShareItem } from '../../../shared/shares.js';
import { CloseCode, type ClientMessage, type ErrorCode, type ServerMessage, type ServerMessageOf, type ServerMessageType, type SignalPayload } from '../../../shared/protocol.js';

type Listener<T extends ServerMessageType> = (msg: ServerMessageOf<T>) => void;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** CloseInfo — why the socket closed (its WebSocket close code and reason). */
export interface CloseInfo {
  code: number;
  reason: string;
}

export interface SignalingClientOptions {
  /** Backoff bounds for reconnecting (ms). */
  minDelay?: number;
  maxDelay?: number;
  WebSocketImpl?: typeof WebSocket;
}

/**
 * SignalingError — the server refused a message (`code` is its stable error code), or the
 * socket was not open or closed before the answer came (`disconnected`).
 */
export class SignalingError extends Error {
  override name = 'SignalingError';

  constructor(readonly code: ErrorCode | 'disconnected', message: string) {
    super(message);
  }
}

/** Replies — the message the server answers each request with (it echoes the request's `ref`). */
interface Replies {
  join: 'joined';
  leave: 'left';
  ring: 'ring-update';
  moderate: 'moderated';
  'room-settings': 'room-updated';
  share: 'shared';
  unshare: 'unshared';
  'files-watch': 'files';
}
type RequestType = keyof Replies;
/** Outgoing — a client message of type T as callers write it (the client adds the `ref`). */
type Outgoing<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }> extends infer M ? (M extends unknown ? Omit<M, 'ref'> : never) : never;
/** Reply — what a request resolves with: the server's answer, or why there is none. */
export type Reply<T extends RequestType> = ServerMessageOf<Replies[T]> | SignalingError;
/** LedgerReport — a transfer's state for the room's chat (see the `ledger` message). */
export type LedgerReport = Omit<Outgoing<'ledger'>, 'type'>;

// Callbacks for refusals of sent messages are kept this many at a time: the server answers a
// refusal at once, and a message it accepts gets no answer at all, so old entries only go stale.
const MAX_REFUSAL_WATCHES = 32;

/**
 * SignalingClient — one connection to the server, kept open.
 *
 * Messages the server answers (`join` → `joined`, `leave` → `left`, `ring` → `ring-update`,
 * `moderate` → `moderated`, `room-settings` → `room-updated`, `share` → `shared`,
 * `unshare` → `unshared`, `files-watch` → `files`) are
 * requests: `join(room)` resolves with the reply or a SignalingError, never both and never
 * neither. Every other message goes out with a `send…` method that returns false when the socket
 * is not open; an `onError` given to it hears the server's refusal of that very message. The
 * client numbers the `ref`s itself: nothing outside it matches replies by ref.
 *
 * Every server message is also an event (`on('joined', …)`), except refusals claimed by a
 * request or an `onError`: `on('error')` hears only the errors nobody asked about.
 *
 * A reconnect presents the last welcome's resume token, so the tab normally keeps its peer id;
 * either way a new `welcome` arrives, and owners of room state listen to it and rejoin.
 */
export class SignalingClient {
  state: ConnectionState = 'connecting';
  peerId: string | null = null;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Map<ServerMessageType, Set<(msg: never) => void>>();
  private readonly stateListeners = new Set<(s: ConnectionState, info?: CloseInfo) => void>();
  /** The last welcome's resume token: presented on reconnect to keep this tab's peer id. */
  private resume: string | null = null;
  private refs = 0;
  /** Requests waiting for their reply, by ref. */
  private readonly requests = new Map<string, (reply: ServerMessage | SignalingError) => void>();
  /** `onError`s of sent messages, by ref (the oldest go first beyond MAX_REFUSAL_WATCHES). */
  private readonly refusals = new Map<string, (err: SignalingError) => void>();

  /** `url` — the server's /ws address. */
  constructor(private readonly url: string, private readonly opts: SignalingClientOptions = {}) {}

  connect(): void {
    if (this.ws || this.state === 'closed') return;
    const WS = this.opts.WebSocketImpl ?? WebSocket;
    const ws = new WS(this.resume ? `${this.url}?resume=${encodeURIComponent(this.resume)}` : this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
    };
    ws.onmessage = (ev) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws && this.ws !== null) return; // a newer socket has taken over
      this.ws = null;
      this.peerId = null;
      this.abandon();
      if (this.state === 'closed') return;
      // Reconnecting cannot help: the session ended (sign in again) or too many tabs are open.
      if (ev.code === CloseCode.SessionEnded || ev.code === CloseCode.TooManySockets) {
        this.setState('closed', { code: ev.code, reason: ev.reason });
        return;
      }
      this.setState('reconnecting', { code: ev.code, reason: ev.reason });
      this.scheduleReconnect();
    };
  }

  /** close — stops for good (page teardown). */
  close(): void {
    this.setState('closed');
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = null;
  }

  /** hangUp — closes the socket now, without giving up (the page is hidden; `connect` reopens it). */
  hangUp(): void {
    this.ws?.close(1000, 'page hidden');
    this.ws = null;
  }

  /** drop — closes the socket as if the network failed; it reconnects (used by tests and on a gap in the lobby feed). */
  drop(): void {
    this.ws?.close(4000, 'dropped');
  }

  on<T extends ServerMessageType>(type: T, fn: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (msg: never) => void);
    return () => set.delete(fn as (msg: never) => void);
  }

  onState(fn: (s: ConnectionState, info?: CloseInfo) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  get isOpen(): boolean {
    return this.ws?.readyState === 1;
  }

  // ---- requests: messages the server answers -----------------------------------------------

  /** join — enter `room` (leaving any other): `joined`, or why not (room-full, passcode-required…). */
  join(room: string): Promise<Reply<'join'>> {
    return this.request({ type: 'join', room });
  }

  /** leave — leave the current room: `left`, or not-in-room. */
  leave(): Promise<Reply<'leave'>> {
    return this.request({ type: 'leave' });
  }

  /** ring — ring a person (into `room`, the one this tab is in): the call's first `ring-update`, or why not. */
  ring(userId: string, room?: string): Promise<Reply<'ring'>> {
    return this.request({ type: 'ring', userId, ...(room ? { room } : {}) });
  }

  /** removeFromRoom — the room's owner or an admin removes a person from `room` (every tab of theirs leaves): `moderated`, or why not. */
  removeFromRoom(room: string, userId: string): Promise<Reply<'moderate'>> {
    return this.request({ type: 'moderate', action: 'remove', room, userId });
  }

  /** setRoomLocked — the room's owner or an admin locks or unlocks `room`: its new `room-updated`, or why not. */
  setRoomLocked(room: string, locked: boolean): Promise<Reply<'room-settings'>> {
    return this.request({ type: 'room-settings', room, locked });
  }

  /** share — this tab holds `item`, shared in `room` (this tab's room) or the lobby (null): `shared`, or why not (bad-message, not-in-room, too-many-shares). */
  share(item: ShareItem, room: string | null): Promise<Reply<'share'>> {
    return this.request({ type: 'share', item, room });
  }

  /** unshare — stop sharing item `id` from every tab of this person: `unshared`. */
  unshare(id: string): Promise<Reply<'unshare'>> {
    return this.request({ type: 'unshare', id });
  }

  /** watchFiles — the shared files this tab may see, now (`files`) and on every change after (as `files` events). */
  watchFiles(): Promise<Reply<'files-watch'>> {
    return this.request({ type: 'files-watch' });
  }

  /** request — sends `msg` under a fresh ref and resolves with the server's reply to it, or a SignalingError. */
  request<T extends RequestType>(msg: Outgoing<T>): Promise<Reply<T>> {
    const ref = this.nextRef();
    if (!this.transmit({ ...msg, ref } as unknown as ClientMessage)) return Promise.resolve(disconnected());
    return new Promise((resolve) => this.requests.set(ref, resolve as (reply: ServerMessage | SignalingError) => void));
  }

  // ---- sends: messages the server does not answer ------------------------------------------

  /** sendSignal — relays `payload` to peer `to` (same room, or both in the lobby). */
  sendSignal(to: string, payload: SignalPayload, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'signal', to, payload }, onError);
  }

  /** sendMedia — this tab's microphone and camera state, for the others in the room. */
  sendMedia(muted: boolean, cameraOff: boolean, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'media', muted, cameraOff }, onError);
  }

  /** sendChat — a message to this tab's room; everyone there (this tab too) receives it as `chat`. */
  sendChat(text: string, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'chat', text }, onError);
  }

  /** sendLedger — records a transfer's state in the room's chat. */
  sendLedger(report: LedgerReport, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'ledger', ...report }, onError);
  }

  /** sendRingCancel — the caller hangs up before an answer. */
  sendRingCancel(callId: string, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'ring-cancel', callId }, onError);
  }

  /** sendRingAnswer — accept or decline an incoming call (the first answer from any tab wins). */
  sendRingAnswer(callId: string, accept: boolean, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'ring-answer', callId, accept }, onError);
  }

  /** sendDnd — Do not disturb on or off (every tab of this account hears `dnd`). */
  sendDnd(on: boolean, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'dnd', on }, onError);
  }

  /** sendDismissMissed — removes one missed call from the list. */
  sendDismissMissed(id: string, onError?: (err: SignalingError) => void): boolean {
    return this.notify({ type: 'dismiss-missed', id }, onError);
  }

  // ---- internals ---------------------------------------------------------------------------

  private notify(msg: Outgoing<Exclude<ClientMessage['type'], RequestType>>, onError?: (err: SignalingError) => void): boolean {
    if (!onError) return this.transmit(msg as ClientMessage);
    const ref = this.nextRef();
    if (!this.transmit({ ...msg, ref } as ClientMessage)) return false;
    this.refusals.set(ref, onError);
    for (const old of this.refusals.keys()) {
      if (this.refusals.size <= MAX_REFUSAL_WATCHES) break;
      this.refusals.delete(old);
    }
    return true;
  }

  /** transmit — false when not connected (the caller decides whether to retry after reconnect). */
  private transmit(msg: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(msg));
    return true;
  }

  private nextRef(): string {
    return `r${++this.refs}`;
  }

  private receive(msg: ServerMessage): void {
    if (msg.type === 'welcome') {
      this.peerId = msg.peerId;
      this.resume = msg.resume;
    }
    // TURN credentials (and the relay-only policy) for every peer connection of this tab.
    if (msg.type === 'welcome' || msg.type === 'ice-servers') setIceConfiguration({ iceServers: msg.iceServers, iceTransportPolicy: msg.iceTransportPolicy });
    const ref = 'ref' in msg ? msg.ref : undefined;
    if (msg.type === 'error' && ref !== undefined) {
      const err = new SignalingError(msg.code, msg.message);
      const request = this.requests.get(ref);
      const refusal = this.refusals.get(ref);
      this.requests.delete(ref);
      this.refusals.delete(ref);
      if (request) return request(err);
      if (refusal) return refusal(err);
    }
    this.listeners.get(msg.type)?.forEach((fn) => (fn as Listener<typeof msg.type>)(msg as never));
    if (ref !== undefined) {
      const request = this.requests.get(ref);
      this.requests.delete(ref);
      request?.(msg);
    }
  }

  /** abandon — the socket is gone: requests still waiting will never hear back. */
  private abandon(): void {
    const waiting = [...this.requests.values()];
    this.requests.clear();
    this.refusals.clear();
    for (const resolve of waiting) resolve(disconnected());
  }

  private scheduleReconnect(): void {
    const min = this.opts.minDelay ?? 250;
    const max = this.opts.maxDelay ?? 5_000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private setState(s: ConnectionState, info?: CloseInfo): void {
    this.state = s;
    this.stateListeners.forEach((fn) => fn(s, info));
  }
}

function disconnected(): SignalingError {
  return new SignalingError('disconnected', 'Not connected to Hearth right now; try again in a moment.');
}
