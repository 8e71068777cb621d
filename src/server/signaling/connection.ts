// One signaling socket: validates every frame, rate-limits, runs handlers in order, cleans up on close.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { WebSocket } from 'ws';
import { CloseCode, ErrorCode, parseClientMessage, type ClientMessage, type ServerMessage } from '../../shared/protocol.js';
import type { ConnectionLimits } from '../config.js';
import type { Logger } from '../log.js';
import { isRedisUnavailable } from '../store/redis-errors.js';
import type { PresenceRecord } from '../store/rooms.js';
import type { LocalPeer } from './hub.js';
import type { SignalingTraffic } from './traffic.js';

/** HandlerError — a user error: answered with a typed `error`, the socket stays open. */
export class HandlerError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

type Handler<T extends ClientMessage['type']> = (conn: Connection, msg: Extract<ClientMessage, { type: T }>) => Promise<void>;
export type HandlerMap = { [T in ClientMessage['type']]: Handler<T> };

/** Connection — a signed-in browser tab's socket; the server-side identity (`peerId`, `userId`) is never taken from messages. */
export class Connection implements LocalPeer {
  room: string | null = null;
  /** Microphone and camera state as the tab last reported it (kept to rebuild presence). */
  muted = false;
  cameraOff = false;
  /** Rings this tab started that may still be ringing (cancelled if the tab goes away). */
  readonly calling = new Set<string>();
  private alive = true;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly budget: RateLimiterMemory;
  private readonly strikes: RateLimiterMemory;
  private readonly maxPending: number;
  private readonly maxBuffered: number;
  closed = false;
  /** Its tab reconnected and resumed this peer id on a new socket. */
  superseded = false;

  constructor(
    readonly ws: WebSocket,
    readonly peerId: string,
    readonly userId: string,
    readonly displayName: string,
    readonly sessionId: string,
    /** The client's address as socket caps count it (see deviceAddress). */
    readonly address: string,
    private readonly handlers: HandlerMap,
    private readonly log: Logger,
    limits: ConnectionLimits,
    /** Counts validated messages and accepted ledger reports (/metrics). */
    private readonly traffic: SignalingTraffic,
  ) {
    this.budget = new RateLimiterMemory({ points: limits.messagesPerSecond, duration: 1 });
    this.strikes = new RateLimiterMemory({ points: limits.strikesPer10s, duration: 10 });
    this.maxPending = limits.pendingFrames;
    this.maxBuffered = limits.maxBufferedBytes;
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  send(msg: ServerMessage): void {
    this.sendRaw(JSON.stringify(msg));
  }

  /** sendRaw — an already serialized message (one broadcast is serialized once for every socket). */
  sendRaw(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBuffered) {
      // The client stopped reading: keeping its messages would grow our memory without bound.
      this.log.warn({ peerId: this.peerId, userId: this.userId }, 'dropping a signaling client that stopped reading');
      this.closed = true;
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
  }

  sendError(code: ErrorCode, message: string, ref?: string): void {
    this.send(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  leftRoom(): void {
    this.room = null;
  }

  presence(): PresenceRecord {
    const { peerId, userId, displayName, room, muted, cameraOff } = this;
    return { peerId, userId, displayName, room, muted, cameraOff };
  }

  heartbeat(): boolean {
    if (!this.alive) {
      this.ws.terminate();
      return false;
    }
    this.alive = false;
    this.ws.ping();
    return true;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /**
   * receive — queues a frame; frames of one socket are handled strictly in order. Binary frames
   * go through the same budget and strikes as text (they are refused, but not for free).
   */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (++this.pending > this.maxPending) {
      this.log.warn({ peerId: this.peerId, userId: this.userId }, 'closing a signaling connection that floods faster than it is served');
      this.closed = true;
      this.close(CloseCode.PolicyViolation, 'too many messages');
      return;
    }
    this.serial(async () => {
      this.pending--;
      await this.handle(isBinary ? null : data.toString());
    });
  }

  /** serial — runs `fn` after everything already queued for this socket (registration, frames). */
  serial(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((err) => {
      this.log.error({ err, peerId: this.peerId }, 'signaling handler failed');
      this.sendError(ErrorCode.Internal, 'Something went wrong on the server.');
    });
    return this.queue;
  }

  /** settled — resolves when every queued frame has been handled. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** handle — one frame; `raw` null is a binary frame. */
  private async handle(raw: string | null): Promise<void> {
    if (this.closed) return;
    try {
      await this.budget.consume('m');
    } catch {
      await this.strike();
      this.sendError(ErrorCode.RateLimited, 'Too many messages; slow down.');
      return;
    }
    if (raw === null) {
      await this.strike();
      this.sendError(ErrorCode.BadMessage, 'Binary frames are not accepted; send JSON text.');
      return;
    }
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      await this.strike();
      this.sendError(parsed.code, parsed.message, parsed.ref);
      return;
    }
    const msg = parsed.message;
    this.traffic.received(msg.type);
    try {
      await (this.handlers[msg.type] as Handler<typeof msg.type>)(this, msg as never);
      this.traffic.handled(msg);
    } catch (err) {
      if (err instanceof HandlerError) {
        this.sendError(err.code, err.message, msg.ref);
      } else if (isRedisUnavailable(err)) {
        this.sendError(ErrorCode.Unavailable, "Hearth's database is unavailable; try again in a moment.", msg.ref);
      } else {
        throw err;
      }
    }
  }

  /** strike — counts abuse; past the limit the socket is closed with 4008. */
  private async strike(): Promise<void> {
    try {
      await this.strikes.consume('s');
    } catch {
      if (!this.closed) {
        this.log.warn({ peerId: this.peerId, userId: this.userId }, 'closing an abusive signaling connection');
        this.closed = true;
        this.close(CloseCode.PolicyViolation, 'too many invalid or excess messages');
      }
    }
  }
}
