// The browser side of /ws: typed send methods, typed events, reconnect with backoff. No DOM.
import { CloseCode, type ClientMessage, type ServerMessage, type ServerMessageOf, type ServerMessageType, type SignalPayload } from '../../../shared/protocol.js';

type Listener<T extends ServerMessageType> = (msg: ServerMessageOf<T>) => void;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SignalingClientOptions {
  url?: string;
  /** Backoff bounds for reconnecting (ms). */
  minDelay?: number;
  maxDelay?: number;
  WebSocketImpl?: typeof WebSocket;
}

/**
 * SignalingClient — one connection to the server, kept open.
 * A reconnect presents the last welcome's resume token, so the tab normally keeps its peer id;
 * either way a new `welcome` arrives, and owners of room state listen to it and rejoin.
 */
export class SignalingClient {
  state: ConnectionState = 'connecting';
  peerId: string | null = null;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Map<string, Set<(msg: never) => void>>();
  private readonly stateListeners = new Set<(s: ConnectionState, info?: { code: number; reason: string }) => void>();
  private readonly url: string;
  /** The last welcome's resume token: presented on reconnect to keep this tab's peer id. */
  private resume: string | null = null;

  constructor(private readonly opts: SignalingClientOptions = {}) {
    this.url = opts.url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    // A page leaving (or entering the back/forward cache) must close its socket at once, so
    // others see this tab go away now rather than after the heartbeat window.
    globalThis.addEventListener?.('pagehide', () => {
      this.ws?.close(1000, 'page hidden');
      this.ws = null;
    });
    globalThis.addEventListener?.('pageshow', (ev) => {
      if ((ev as PageTransitionEvent).persisted && this.state !== 'closed') this.connect();
    });
  }

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
      if (msg.type === 'welcome') {
        this.peerId = msg.peerId;
        this.resume = msg.resume;
      }
      this.listeners.get(msg.type)?.forEach((fn) => (fn as Listener<typeof msg.type>)(msg as never));
      this.listeners.get('*')?.forEach((fn) => (fn as (m: ServerMessage) => void)(msg as never));
    };
    ws.onclose = (ev) => {
      this.ws = null;
      this.peerId = null;
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

  /** drop — closes the socket as if the network failed; it reconnects (used by tests and on network change). */
  drop(): void {
    this.ws?.close(4000, 'dropped');
  }

  on<T extends ServerMessageType>(type: T | '*', fn: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as (msg: never) => void);
    return () => set!.delete(fn as (msg: never) => void);
  }

  onState(fn: (s: ConnectionState, info?: { code: number; reason: string }) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  get isOpen(): boolean {
    return this.ws?.readyState === 1;
  }

  // ---- one method per client message ---------------------------------------------------

  join(room: string): boolean {
    return this.send({ type: 'join', room });
  }

  leave(): boolean {
    return this.send({ type: 'leave' });
  }

  signal(to: string, payload: SignalPayload): boolean {
    return this.send({ type: 'signal', to, payload });
  }

  media(muted: boolean, cameraOff: boolean): boolean {
    return this.send({ type: 'media', muted, cameraOff });
  }

  chat(text: string): boolean {
    return this.send({ type: 'chat', text });
  }

  /** ledger — records a transfer's state in the room's chat. */
  ledger(entry: Omit<Extract<ClientMessage, { type: 'ledger' }>, 'type' | 'ref'>): boolean {
    return this.send({ type: 'ledger', ...entry });
  }

  /** send — false when not connected (the caller decides whether to retry after reconnect). */
  send(msg: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.ws!.send(JSON.stringify(msg));
    return true;
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

  private setState(s: ConnectionState, info?: { code: number; reason: string }): void {
    this.state = s;
    this.stateListeners.forEach((fn) => fn(s, info));
  }
}
