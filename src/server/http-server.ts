// One port, two protocols: TLS connections go to the HTTPS app, plain HTTP gets a redirect to HTTPS.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { RequestListener } from 'node:http';

/** HearthServer — the listening front socket and the HTTPS server behind it. */
export interface HearthServer {
  front: net.Server;
  https: https.Server;
  /** Optional extra plain-HTTP listener (HTTP_PORT) that only redirects. */
  redirectOnly: http.Server | null;
  /** closeAll — stop accepting and drop every open connection. */
  closeAll(): Promise<void>;
}

const TLS_HANDSHAKE = 0x16;
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/** redirectToHttps — a request handler sending plain-HTTP visitors to the HTTPS address. */
export function redirectToHttps(httpsPort: () => number): RequestListener {
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

/** createHearthServer — wires the TLS/plain-HTTP split in front of `app`; call `front.listen`. */
export function createHearthServer(app: RequestListener, tls: { cert: Buffer; key: Buffer }, opts: { httpPort?: number | null } = {}): HearthServer {
  const sockets = new Set<net.Socket>();
  const httpsServer = https.createServer({ cert: tls.cert, key: tls.key }, app);
  httpsServer.headersTimeout = 20_000;
  httpsServer.requestTimeout = 60_000;
  const port = () => (front.address() as net.AddressInfo | null)?.port ?? 443;
  const redirect = redirectToHttps(port);
  const plain = http.createServer(redirect);

  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === TLS_HANDSHAKE ? httpsServer : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });

  let redirectOnly: http.Server | null = null;
  if (opts.httpPort) {
    redirectOnly = http.createServer(redirect);
    redirectOnly.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
  }

  return {
    front,
    https: httpsServer,
    redirectOnly,
    async closeAll() {
      const closed = [front, redirectOnly].filter((s): s is net.Server => s !== null && s.listening)
        .map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      httpsServer.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all(closed);
    },
  };
}
