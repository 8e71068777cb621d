// One port, two protocols: TLS connections go to the HTTPS app, plain HTTP gets a redirect to HTTPS; every connection has bounded time and count.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { DEFAULTS, LIMITS } from './config.js';
import type { Logger } from './log.js';
import { addressKey } from './net/address.js';

/** HearthServer — the listening front socket and the HTTPS server behind it. */
export interface HearthServer {
  front: net.Server;
  https: https.Server;
  /** Optional extra plain-HTTP listener (HTTP_PORT): redirects, except what `plainHttp` serves (the trust page). */
  redirectOnly: http.Server | null;
  /** stopAccepting — close the listeners; open connections go on (until closeAll). */
  stopAccepting(): void;
  /** closeAll — stop accepting and drop every open connection. */
  closeAll(): Promise<void>;
  /** openConnections — connections open right now, in total and from one address (tests and health). */
  openConnections(address?: string): number;
}

/**
 * TransportLimits — how long and how many. Node's own headersTimeout and requestTimeout do not
 * apply here: they are checked only for connections a server accepted itself while listening,
 * and ours are handed over from the front socket. So each connection carries its own deadline.
 */
export interface TransportLimits {
  /** From connection to its first byte and, for TLS, to a finished handshake (absolute: a trickle does not extend it). */
  handshakeMs: number;
  /** To receive a request's complete headers: after the handshake (plain HTTP: the connection), and after each response on a kept-alive connection. */
  headersMs: number;
  /** From complete headers to the response sent (a body trickled in, or a response never read). */
  requestMs: number;
  /** Open connections in total, per listener. */
  maxConnections: number;
  /** Open connections from one address (IPv6: one /64), over all listeners. */
  maxConnectionsPerAddress: number;
}

/** Config's defaults, for whatever the caller leaves out. */
const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  ...LIMITS.transport,
  maxConnections: Number(DEFAULTS.MAX_CONNECTIONS),
  maxConnectionsPerAddress: Number(DEFAULTS.MAX_CONNECTIONS_PER_ADDRESS),
};

const TLS_HANDSHAKE = 0x16;
/** Refusals and server errors can come by the thousand; the log gets one line a minute per kind. */
const LOG_EVERY_MS = 60_000;

/** PlainHandler — serves some plain-HTTP requests itself and hands the others to `fallback` (the redirect). */
export type PlainHandler = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/** redirectToHttps — a request handler sending plain-HTTP visitors to the HTTPS address. */
function redirectToHttps(httpsPort: () => number): RequestListener {
  return (req, res) => {
    const hostHeader = req.headers.host ?? 'localhost';
    // Keep only a syntactically plain host so the Location header cannot be bent elsewhere.
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?$/.exec(hostHeader);
    const host = m?.[1] ?? 'localhost';
    const path = (req.url ?? '/').startsWith('/') ? req.url ?? '/' : '/';
    res.writeHead(308, { Location: `https://${host}:${httpsPort()}${path}`, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end('Hearth only speaks HTTPS. Follow the redirect.\n');
  };
}

/** rateLimitedLog — logs the first event, then at most one line per `everyMs` with how many were left out. */
function rateLimitedLog(log: Logger | undefined, level: 'warn' | 'error', message: string, everyMs = LOG_EVERY_MS): (fields?: object) => void {
  let last = -Infinity;
  let unlogged = 0;
  return (fields = {}) => {
    const now = Date.now();
    if (now - last < everyMs) {
      unlogged++;
      return;
    }
    log?.[level]({ ...fields, ...(unlogged ? { sinceLastLine: unlogged } : {}) }, message);
    last = now;
    unlogged = 0;
  };
}

/** Deadline — one connection's timer: whatever phase it is in, it ends by a fixed time. */
class Deadline {
  private timer: NodeJS.Timeout | null = null;
  /** Requests received and not yet answered (pipelining may queue several). */
  active = 0;
  upgraded = false;

  constructor(private readonly socket: net.Socket) {}

  /** set — the connection is destroyed `ms` from now (unless `spare` says otherwise then), or set/cleared again before. */
  set(ms: number, spare: () => boolean = () => false): void {
    this.clear();
    if (this.socket.destroyed) return;
    this.timer = setTimeout(() => {
      if (!spare()) this.socket.destroy();
    }, Math.max(0, ms));
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

const fourTuple = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;

/** createHearthServer — wires the TLS/plain-HTTP split in front of `app`; call `front.listen`. */
export function createHearthServer(app: RequestListener, tls: { cert: Buffer; key: Buffer },
  opts: { httpPort?: number | null; limits?: Partial<TransportLimits>; log?: Logger; plainHttp?: (httpsPort: () => number) => PlainHandler } = {}): HearthServer {
  const limits = { ...DEFAULT_TRANSPORT_LIMITS, ...opts.limits };
  const { log } = opts;
  const sockets = new Set<net.Socket>();
  const perAddress = new Map<string, number>();
  // Keyed by the socket HTTP sees: the raw socket for plain HTTP, the TLS socket for HTTPS.
  const deadlines = new WeakMap<net.Socket, Deadline>();
  // Raw sockets whose TLS handshake is under way, by 4-tuple (the TLS socket has the same one).
  const handshaking = new Map<string, Deadline>();
  const logRefusedPerAddress = rateLimitedLog(log, 'warn', 'refused connections: too many open from one address (MAX_CONNECTIONS_PER_ADDRESS)');
  const logRefusedTotal = rateLimitedLog(log, 'warn', 'refused connections: too many open in total (MAX_CONNECTIONS)');
  const logServerError = rateLimitedLog(log, 'error', 'server error (out of file descriptors?); still listening');

  const httpsServer = https.createServer({ cert: tls.cert, key: tls.key, handshakeTimeout: limits.handshakeMs }, app);
  const port = () => (front.address() as net.AddressInfo | null)?.port ?? 443;
  const redirect = redirectToHttps(port);
  const plain = http.createServer(redirect);

  /** admit — counts the connection against its address, or refuses it at once. */
  const admit = (socket: net.Socket): Deadline | null => {
    // Every socket keeps an error listener for life: a reset must never become an uncaught error.
    socket.on('error', () => socket.destroy());
    const key = addressKey(socket.remoteAddress);
    const open = perAddress.get(key) ?? 0;
    if (open >= limits.maxConnectionsPerAddress) {
      logRefusedPerAddress({ address: key, cap: limits.maxConnectionsPerAddress });
      socket.destroy();
      return null;
    }
    perAddress.set(key, open + 1);
    sockets.add(socket);
    const deadline = new Deadline(socket);
    socket.once('close', () => {
      deadline.clear();
      sockets.delete(socket);
      handshaking.delete(fourTuple(socket));
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left > 0) perAddress.set(key, left);
      else perAddress.delete(key);
    });
    return deadline;
  };

  // Request bookkeeping shared by the HTTPS, front plain-HTTP and HTTP_PORT servers.
  const track = (server: http.Server) => {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const deadline = deadlines.get(req.socket as net.Socket);
      if (!deadline) return;
      deadline.active++;
      deadline.set(limits.requestMs);
      res.once('close', () => {
        deadline.active--;
        // Kept alive: the next request's headers have their own bound (Node's keepAliveTimeout
        // closes a silent connection sooner; this one also ends a trickle).
        if (deadline.active === 0 && !deadline.upgraded) deadline.set(limits.headersMs);
      });
    });
  };
  track(httpsServer);
  track(plain);
  // Only the HTTPS server takes upgrades (/ws); the plain servers have no 'upgrade' listener, so
  // Node treats such a request as an ordinary one and it gets the redirect.
  httpsServer.on('upgrade', (req: IncomingMessage) => {
    const socket = req.socket as net.Socket;
    const deadline = deadlines.get(socket);
    if (!deadline) return;
    deadline.upgraded = true;
    // From here the WebSocket's heartbeats bound it; but an upgrade nobody ever answers (no 101,
    // no refusal) must not hold the connection for ever.
    const written = socket.bytesWritten;
    deadline.set(limits.requestMs, () => socket.bytesWritten !== written);
  });

  httpsServer.on('secureConnection', (tlsSocket: net.Socket) => {
    const key = fourTuple(tlsSocket);
    const deadline = handshaking.get(key);
    handshaking.delete(key);
    if (!deadline) return;
    deadlines.set(tlsSocket, deadline);
    deadline.set(limits.headersMs);
  });

  const front = net.createServer((socket) => {
    const deadline = admit(socket);
    if (!deadline) return;
    const since = Date.now();
    deadline.set(limits.handshakeMs);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) {
        // The deadline set at connection goes on running until the handshake is done.
        handshaking.set(fourTuple(socket), deadline);
        httpsServer.emit('connection', socket);
      } else {
        deadlines.set(socket, deadline);
        deadline.set(limits.headersMs - (Date.now() - since));
        plain.emit('connection', socket);
      }
      process.nextTick(() => socket.resume());
    });
  });
  front.maxConnections = limits.maxConnections;
  front.on('drop', (data) => logRefusedTotal({ address: addressKey(data?.remoteAddress), cap: limits.maxConnections }));

  let redirectOnly: http.Server | null = null;
  if (opts.httpPort) {
    // A device that does not trust the CA yet can fetch it (and the trust page) here; all else redirects.
    const served = opts.plainHttp?.(port);
    redirectOnly = http.createServer(served ? (req, res) => served(req, res, () => redirect(req, res)) : redirect);
    redirectOnly.maxConnections = limits.maxConnections;
    redirectOnly.on('connection', (socket: net.Socket) => {
      const deadline = admit(socket);
      if (!deadline) return;
      deadlines.set(socket, deadline);
      deadline.set(limits.headersMs);
    });
    redirectOnly.on('drop', (data) => logRefusedTotal({ address: addressKey(data?.remoteAddress), cap: limits.maxConnections }));
    track(redirectOnly);
  }
  // Every server keeps an error listener for life: EMFILE on accept must not crash Hearth.
  // (While listen() is still failing, its caller reports the error.)
  const logError = (err: NodeJS.ErrnoException) => logServerError({ err: err.message, code: err.code });
  for (const server of [httpsServer, plain]) server.on('error', logError);
  for (const server of [front, redirectOnly]) server?.on('error', (err: NodeJS.ErrnoException) => server.listening && logError(err));

  const closing: Promise<void>[] = [];
  const stopAccepting = () => {
    for (const s of [front, redirectOnly]) {
      if (s?.listening) closing.push(new Promise<void>((resolve) => s.close(() => resolve())));
    }
  };

  return {
    front,
    https: httpsServer,
    redirectOnly,
    stopAccepting,
    async closeAll() {
      stopAccepting();
      httpsServer.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all(closing);
    },
    openConnections(address) {
      return address === undefined ? sockets.size : perAddress.get(addressKey(address)) ?? 0;
    },
  };
}
