// The /ws endpoint: authenticates the upgrade (session + Origin), bounds sockets per account and address, and owns each socket's lifecycle.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_PAYLOAD } from '../../shared/protocol.js';
import { signedInTooLongAgo } from '../auth/session.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { clientAddress, compileTrust, deviceAddress, type TrustFn } from '../net/address.js';
import type { UserStore } from '../store/users.js';
import { Connection } from './connection.js';
import { createHandlers, leaveRoom, type HandlerDeps } from './handlers.js';
import { resumedPeerId, resumeToken } from './resume.js';
import { SessionWatch } from './session-watch.js';
import { SignalingTraffic } from './traffic.js';
import { turnIceServers } from '../turn/credentials.js';

export interface SignalingDeps extends HandlerDeps {
  config: Config;
  log: Logger;
  users: UserStore;
  sessionParser: RequestHandler;
  /** Signs resume tokens (a tab that reconnects keeps its peer id, so calls keep their connections). */
  resumeSecret: string;
}

/** How long close() lets clients answer the close handshake before dropping them. */
const CLOSE_GRACE_MS = 1_000;

/** rejectUpgrade — answers with a plain HTTP status before any WebSocket handshake. */
function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  socket.destroy();
}

/** sameOrigin — the Origin header names this very server (blocks cross-site WebSocket hijacking). */
function sameOrigin(req: IncomingMessage): boolean {
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

interface Admitted {
  userId: string;
  displayName: string;
  sessionId: string;
  address: string;
  resumed: string | null;
}

/** SignalingServer — owns the WebSocketServer (noServer) and the per-socket lifecycle. */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly handlers;
  private readonly connections = new Set<Connection>();
  /** The newest socket of each peer id (a resumed tab replaces its old socket). */
  private readonly byPeer = new Map<string, Connection>();
  /** Cleanups of closed sockets still running (a resumed tab waits for its old socket's). */
  private readonly cleanups = new Map<Connection, Promise<void>>();
  private readonly sessions: SessionWatch;
  /** Set by close(): departures are then 'dropped' (people come back after the restart). */
  private closing = false;
  /** What this instance's sockets carry (/metrics, the Status page). */
  readonly traffic = new SignalingTraffic();
  /** TRUST_PROXY, as the app has it: the upgrade has no Express request to ask. */
  private readonly trust: TrustFn;

  constructor(private readonly deps: SignalingDeps) {
    // clientTracking off: this class tracks its sockets, and close() must not wait on ws's list.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false, clientTracking: false });
    this.wss.on('error', (err) => deps.log.warn({ err: err.message }, 'websocket server error'));
    this.trust = compileTrust(deps.config.trustProxy);
    this.handlers = createHandlers(deps);
    this.sessions = new SessionWatch(deps.redis, deps.config, deps.log, (sid) => this.endSession(sid));
    deps.hub.onSessionEnded((sid) => this.endSession(sid));
    deps.hub.onUserSessionsEnded((userId, except) => this.endUser(userId, except));
  }

  /** handleUpgrade — the HTTPS server's 'upgrade' listener. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://hearth.invalid');
    if (url.pathname !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    if (!sameOrigin(req)) return rejectUpgrade(socket, 403, 'Forbidden');
    if (this.closing) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (!this.deps.redis.isReady) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const address = deviceAddress(clientAddress(req, this.trust));
    this.deps.sessionParser(req as never, {} as ServerResponse as never, (err?: unknown) => {
      if (err) return rejectUpgrade(socket, 503, 'Service Unavailable');
      const { session, sessionID } = req as unknown as { session?: SessionData; sessionID?: string };
      // No session, or one past SESSION_MAX_DAYS: the page must go to the sign-in page. Only a
      // close code reaches page script (an HTTP status does not), so upgrade and close at once.
      if (!session?.userId || !sessionID || signedInTooLongAgo(session, this.deps.config)) return this.refuse(req, socket, head, CloseCode.SessionEnded, 'session ended');
      void this.deps.users.findById(session.userId).then((user) => {
        if (!user || user.disabled) return this.refuse(req, socket, head, CloseCode.SessionEnded, 'session ended');
        const resumed = resumedPeerId(this.deps.resumeSecret, user.id, url.searchParams.get('resume'));
        const admitted: Admitted = { userId: user.id, displayName: user.displayName, sessionId: sessionID, address, resumed };
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, admitted));
      }, () => rejectUpgrade(socket, 503, 'Service Unavailable'));
    });
  };

  /** refuse — completes the upgrade only to close with `code` (the page reads the code and stops retrying). */
  private refuse(req: IncomingMessage, socket: Duplex, head: Buffer, code: number, reason: string): void {
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      ws.close(code, reason);
      // A client that never answers the close handshake is dropped.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    });
  }

  /**
   * accept — a signed-in socket. Everything that can fail later (error, close, messages) is
   * wired here synchronously, before any await: an invalid frame right behind the upgrade
   * must find an `error` listener, and a close during start-up must still be cleaned up.
   */
  private accept(ws: WebSocket, a: Admitted): void {
    const { hub, rooms, log, config } = this.deps;
    ws.on('error', (err) => log.debug({ err: err.message }, 'signaling socket error'));
    const limits = config.limits.signaling;
    // A tab coming back (network blip, server restart) keeps its peer id, so the people in its
    // call keep their peer connections and media instead of rebuilding them.
    const peerId = a.resumed ?? randomBytes(12).toString('base64url');
    const previous = a.resumed ? this.byPeer.get(a.resumed) : undefined;
    const conn = new Connection(ws, peerId, a.userId, a.displayName, a.sessionId, a.address, this.handlers, log, limits, this.traffic);
    ws.on('message', (data, isBinary) => conn.receive(data as Buffer, isBinary));
    ws.on('close', (code: number) => {
      const cleanup = this.disconnect(conn, code);
      this.cleanups.set(conn, cleanup);
      void cleanup.finally(() => this.cleanups.delete(conn));
    });

    // Per account and per address: one person (or one device) cannot make every lobby update
    // bigger and slower for everyone by opening sockets without end.
    const others = [...this.connections].filter((c) => c !== previous && !c.closed);
    if (others.filter((c) => c.userId === a.userId).length >= limits.socketsPerUser
      || others.filter((c) => c.address === a.address).length >= limits.socketsPerAddress) {
      log.info({ userId: a.userId, address: a.address }, 'refused a signaling socket: too many open');
      conn.closed = true;
      conn.close(CloseCode.TooManySockets, 'too many Hearth tabs open');
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      return;
    }
    this.connections.add(conn);
    this.byPeer.set(peerId, conn);
    // TURN credentials are short-lived: fresh ones at 3/4 of their life, while the socket is open
    // (a disabled or deleted person's sockets are closed, so they get no more).
    const ice = () => ({ iceServers: [...config.iceServers, ...turnIceServers(config.turn, a.userId)], iceTransportPolicy: config.turn.iceTransportPolicy });
    if (config.turn.servers) {
      const renew = setInterval(() => conn.send({ type: 'ice-servers', ...ice() }), config.turn.credentialSeconds * 750);
      renew.unref();
      ws.on('close', () => clearInterval(renew));
    }
    // The first check reads the session's real end (its TTL) right away.
    this.sessions.watch(conn, Date.now());

    // Registration goes first in the socket's queue, so no frame is handled before the peer
    // exists (frames that arrive meanwhile wait their turn).
    void conn.serial(async () => {
      if (previous) await this.retire(previous);
      if (conn.closed) return;
      try {
        hub.add(conn);
        await rooms.connect({ peerId, userId: a.userId, displayName: a.displayName, instance: hub.instanceId, room: null, muted: false, cameraOff: false });
        conn.send({ type: 'welcome', peerId, user: { userId: a.userId, displayName: a.displayName }, ...ice(), maxPayload: MAX_PAYLOAD, resume: resumeToken(this.deps.resumeSecret, a.userId, peerId) });
        await hub.sendLobby(conn);
        await hub.lobbyChanged();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not register a signaling connection');
        conn.close(CloseCode.GoingAway, 'database unavailable');
      }
    });
  }

  /** retire — the socket a resumed tab left behind (not yet noticed dead): closed and cleaned up first. */
  private async retire(old: Connection): Promise<void> {
    old.superseded = true;
    if (!old.closed && !this.cleanups.has(old)) {
      const closed = new Promise((resolve) => old.ws.once('close', resolve));
      old.ws.terminate();
      await closed;
    }
    await this.cleanups.get(old);
  }

  private async disconnect(conn: Connection, code: number): Promise<void> {
    conn.closed = true;
    this.sessions.unwatch(conn);
    if (!this.connections.delete(conn)) return; // refused at the door: it never registered
    if (this.byPeer.get(conn.peerId) === conn) this.byPeer.delete(conn.peerId);
    // The page closed its socket (Leave, tab closed, navigated away): it has left. Anything
    // else (network loss, server restart, a resumed tab's old socket) may come straight back.
    const clean = (code === 1000 || code === 1001) && !this.closing && !conn.superseded;
    try {
      // Frames already queued (and the registration) finish first, so nothing re-creates
      // this peer's records after they are removed.
      await conn.settled();
      this.deps.hub.remove(conn);
      this.deps.files.forget(conn);
      // The tab may already be back under this peer id on another instance (it resumed there
      // before this socket was found dead): then its records and seat are that socket's now.
      const rec = await this.deps.rooms.peer(conn.peerId);
      if (!rec || rec.instance === this.deps.hub.instanceId) {
        await leaveRoom(this.deps, conn, clean ? 'left' : 'dropped');
        await this.deps.rooms.disconnect(conn.peerId, null);
        await this.deps.files.release(conn);
      }
      await this.deps.ringing.onDisconnect(conn);
      await this.deps.hub.lobbyChanged();
    } catch (err) {
      // Redis is down: the peer's records lapse on their own within the heartbeat TTL.
      this.deps.log.debug({ err: (err as Error).message }, 'cleanup after disconnect deferred to TTL');
    }
  }

  /** endSession — a session ended (signed out, expired, destroyed): its sockets close with 4401 now. */
  endSession(sessionId: string): void {
    for (const c of this.connections) {
      if (c.sessionId !== sessionId || c.closed) continue;
      c.close(CloseCode.SessionEnded, 'session ended');
      setTimeout(() => c.ws.terminate(), CLOSE_GRACE_MS).unref();
    }
  }

  /** endUser — an account was signed out everywhere (but session `exceptSession`): its other sockets close with 4401 now. */
  endUser(userId: string, exceptSession?: string): void {
    for (const c of this.connections) {
      if (c.userId !== userId || c.sessionId === exceptSession || c.closed) continue;
      c.close(CloseCode.SessionEnded, 'session ended');
      setTimeout(() => c.ws.terminate(), CLOSE_GRACE_MS).unref();
    }
  }

  /** openSockets — how many sockets this instance holds (tests and health). */
  get openSockets(): number {
    return this.connections.size;
  }

  /**
   * close — tells every client the server is going away, waits briefly for the close
   * handshakes, then drops whoever did not answer (a client that stopped reading must not
   * hold up a shutdown), and lets the cleanups finish.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.sessions.stop();
    const all = [...this.connections];
    for (const c of all) c.close(CloseCode.GoingAway, 'server shutting down');
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (all.some((c) => c.ws.readyState !== c.ws.CLOSED) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const c of all) c.ws.terminate();
    await Promise.race([
      Promise.allSettled([...this.cleanups.values()]),
      new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
    ]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
