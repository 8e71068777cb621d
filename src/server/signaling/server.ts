// The /ws endpoint: authenticates the upgrade (session + Origin), then hands sockets to the hub.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_PAYLOAD } from '../../shared/protocol.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { UserStore } from '../store/users.js';
import { Connection, DEFAULT_LIMITS, type ConnectionLimits } from './connection.js';
import { createHandlers, leaveRoom, type HandlerDeps } from './handlers.js';
import type { SignalingHub } from './hub.js';
import { resumedPeerId, resumeToken } from './resume.js';

export interface SignalingDeps extends HandlerDeps {
  config: Config;
  log: Logger;
  users: UserStore;
  sessionParser: RequestHandler;
  /** Signs resume tokens (a tab that reconnects keeps its peer id, so calls keep their connections). */
  resumeSecret: string;
  limits?: ConnectionLimits;
}

/** rejectUpgrade — answers with a plain HTTP status before any WebSocket handshake. */
function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  socket.destroy();
}

/** sameOrigin — the Origin header names this very server (blocks cross-site WebSocket hijacking). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    const u = new URL(origin);
    return u.protocol === 'https:' && u.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/** SignalingServer — owns the WebSocketServer (noServer) and the per-socket lifecycle. */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly handlers;
  private readonly connections = new Set<Connection>();
  /** Cleanups of closed sockets still running (a resumed tab waits for its old socket's). */
  private readonly cleanups = new Map<Connection, Promise<void>>();
  /** Set by close(): departures are then 'dropped' (people come back after the restart). */
  private closing = false;

  constructor(private readonly deps: SignalingDeps) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
    this.handlers = createHandlers(deps);
  }

  get hub(): SignalingHub {
    return this.deps.hub;
  }

  /** handleUpgrade — the HTTPS server's 'upgrade' listener. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://hearth.invalid');
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    if (!sameOrigin(req)) return rejectUpgrade(socket, 403, 'Forbidden');
    if (!this.deps.redis.isReady) return rejectUpgrade(socket, 503, 'Service Unavailable');
    this.deps.sessionParser(req as never, {} as ServerResponse as never, (err?: unknown) => {
      const session = (req as unknown as { session?: { userId?: string }; sessionID?: string });
      if (err || !session.session?.userId || !session.sessionID) return rejectUpgrade(socket, err ? 503 : 401, err ? 'Service Unavailable' : 'Unauthorized');
      void this.deps.users.findById(session.session.userId).then((user) => {
        if (!user) return rejectUpgrade(socket, 401, 'Unauthorized');
        const resumed = resumedPeerId(this.deps.resumeSecret, user.id, url.searchParams.get('resume'));
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.accept(ws, user.id, user.displayName, session.sessionID!, resumed));
      }, () => rejectUpgrade(socket, 503, 'Service Unavailable'));
    });
  };

  private async accept(ws: WebSocket, userId: string, displayName: string, sessionId: string, resumed: string | null): Promise<void> {
    const { hub, rooms, log, config } = this.deps;
    // A tab coming back (network blip, server restart) keeps its peer id, so the people in its
    // call keep their peer connections and media instead of rebuilding them.
    const peerId = resumed ?? randomBytes(12).toString('base64url');
    const previous = resumed ? [...this.connections].find((c) => c.peerId === resumed) : undefined;
    if (previous) await this.retire(previous);
    const conn = new Connection(ws, peerId, userId, displayName, sessionId, this.handlers, log, this.deps.limits ?? DEFAULT_LIMITS);
    // An 'error' without a listener would crash the process (e.g. an invalid frame).
    ws.on('error', (err) => log.debug({ err: err.message, peerId }, 'signaling socket error'));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return conn.sendError('bad-message', 'Binary frames are not accepted; send JSON text.');
      conn.receive(data.toString());
    });
    ws.on('close', (code: number) => {
      const cleanup = this.disconnect(conn, code);
      this.cleanups.set(conn, cleanup);
      void cleanup.finally(() => this.cleanups.delete(conn));
    });
    this.connections.add(conn);
    hub.add(conn);
    // Registration goes first in the socket's queue, so no frame is handled before the peer exists.
    await conn.serial(async () => {
      try {
        await rooms.connect({ peerId, userId, displayName, instance: hub.instanceId, room: null, muted: false, cameraOff: false });
        conn.send({ type: 'welcome', peerId, user: { id: userId, displayName }, iceServers: [...config.iceServers], maxPayload: MAX_PAYLOAD, resume: resumeToken(this.deps.resumeSecret, userId, peerId) });
        await hub.sendLobby(conn);
        await hub.lobbyChanged();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not register a signaling connection');
        ws.close(CloseCode.GoingAway, 'database unavailable');
      }
    });
  }

  /** retire — the socket a resumed tab left behind (not yet noticed dead): closed and cleaned up first. */
  private async retire(old: Connection): Promise<void> {
    old.superseded = true;
    if (!this.cleanups.has(old)) {
      const closed = new Promise((resolve) => old.ws.once('close', resolve));
      old.ws.terminate();
      await closed;
    }
    await this.cleanups.get(old);
  }

  private async disconnect(conn: Connection, code: number): Promise<void> {
    conn.closed = true;
    this.connections.delete(conn);
    this.deps.hub.remove(conn.peerId);
    // The page closed its socket (Leave, tab closed, navigated away): it has left. Anything
    // else (network loss, server restart, a resumed tab's old socket) may come straight back.
    const clean = (code === 1000 || code === 1001) && !this.closing && !conn.superseded;
    try {
      await conn.settled();
      // The tab may already be back under this peer id on another instance (it resumed there
      // before this socket was found dead): then its records and seat are that socket's now.
      const rec = await this.deps.rooms.peer(conn.peerId);
      if (!rec || rec.instance === this.deps.hub.instanceId) {
        await leaveRoom(this.deps, conn, clean ? 'left' : 'dropped');
        await this.deps.rooms.disconnect(conn.peerId, null);
      }
      await this.deps.ringing.onDisconnect(conn);
      await this.deps.hub.lobbyChanged();
    } catch (err) {
      // Redis is down: the peer's records lapse on their own within the heartbeat TTL.
      this.deps.log.debug({ err: (err as Error).message }, 'cleanup after disconnect deferred to TTL');
    }
  }

  /** close — tells every client the server is going away and stops accepting. */
  async close(): Promise<void> {
    this.closing = true;
    for (const c of this.connections) c.close(CloseCode.GoingAway, 'server shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const c of this.connections) c.ws.terminate();
  }
}
