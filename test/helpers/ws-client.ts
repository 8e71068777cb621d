// A signaling client for integration tests: a real `ws` socket with a signed-in user's cookie.
import WebSocket from 'ws';
import { LobbyState } from '../../src/shared/lobby.js';
import type { ClientMessage, ServerMessage, ServerMessageOf, ServerMessageType } from '../../src/shared/protocol.js';
import type { HttpClient } from './http-client.js';

/** TestSocket — records every server message and lets a test wait for the next of a type. */
export class TestSocket {
  readonly received: ServerMessage[] = [];
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  peerId = '';
  /** The welcome's resume token (a later socket presents it to keep this peer id). */
  resume = '';
  /** The lobby as a browser on this socket sees it (its `lobby` and `lobby-delta` messages applied). */
  readonly lobby = new LobbyState();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'welcome') {
        this.lobby.reset();
        this.peerId = m.peerId;
        this.resume = m.resume;
      }
      this.received.push(m);
      this.deliver(m);
      if (m.type === 'lobby' || m.type === 'lobby-delta') {
        const change = this.lobby.apply(m);
        // A delta also reaches `next('lobby')` waiters as the whole lobby it leads to, so a test
        // can wait for a lobby state without caring whether it came whole or as a delta.
        if (m.type === 'lobby-delta' && change && change !== 'gap') this.deliver({ type: 'lobby', seq: m.seq, online: this.lobby.online, rooms: this.lobby.rooms });
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  /** open — connects as the user signed in on `http` (cookie, CA, Origin of the server). */
  static async open(http: HttpClient, ca: Buffer, opts: { origin?: string | null; resume?: string; server?: string } = {}): Promise<TestSocket> {
    const cookie = [...http.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers: Record<string, string> = { cookie };
    // `server`: another instance sharing the same Redis (the session cookie works there too).
    const server = opts.server ?? http.origin;
    const origin = opts.origin === undefined ? server : opts.origin;
    if (origin) headers.origin = origin;
    const query = opts.resume ? `?resume=${encodeURIComponent(opts.resume)}` : '';
    const ws = new WebSocket(`${server.replace('https:', 'wss:')}/ws${query}`, { headers, ca });
    const sock = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    });
    await sock.next('welcome');
    return sock;
  }

  private deliver(m: ServerMessage): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(m)) return true;
      w.resolve(m);
      return false;
    });
  }

  send(msg: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  sendRaw(raw: string | Buffer): void {
    this.ws.send(raw);
  }

  /** next — the next message of `type` (matching `pred`) after now, or after `timeoutMs` an error. */
  next<T extends ServerMessageType>(type: T, pred: (m: ServerMessageOf<T>) => boolean = () => true, timeoutMs = 5_000): Promise<ServerMessageOf<T>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
      this.waiters.push({
        pred: (m) => m.type === type && pred(m as ServerMessageOf<T>),
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as ServerMessageOf<T>);
        },
      });
    });
  }

  /** request — sends and waits for the reply of `type` or an error. */
  async request<T extends ServerMessageType>(msg: ClientMessage | Record<string, unknown>, type: T): Promise<ServerMessageOf<T> | ServerMessageOf<'error'>> {
    const reply = Promise.race([this.next(type), this.next('error')]);
    this.send(msg);
    return reply;
  }

  waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(t);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  /** close — as a page does when it goes away (1001), unless another code is given. */
  close(code = 1001): void {
    this.ws.close(code);
  }
}

/** rawUpgrade — attempts the upgrade and returns the HTTP status if it was refused (or 101). */
export function rawUpgrade(origin: string, ca: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${origin.replace('https:', 'wss:')}/ws`, { headers, ca });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}
