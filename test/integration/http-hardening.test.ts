// The transport under hostile clients: stalled and trickled handshakes and headers, connection caps, server errors.
import { expect } from 'chai';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig } from '../../src/server/config.js';
import { startHearth, type RunningHearth } from '../../src/server/hearth.js';
import { createHearthServer, type HearthServer, type TransportLimits } from '../../src/server/http-server.js';
import { createLogger } from '../../src/server/log.js';
import { testTls } from '../helpers/hearth.js';
import { freePort, tempDir } from '../helpers/processes.js';
import { sharedRedis } from '../helpers/root-hooks.js';

// Short limits so hostile clients are cut off quickly; assertions only say "closed within a
// generous bound" (or "still open"), never how fast.
const SHORT: Partial<TransportLimits> = { handshakeMs: 400, headersMs: 600, requestMs: 800 };
const GENEROUS_MS = 6_000;

/** answer — a tiny app: reads any body, then answers 200 "ok". */
const answer: http.RequestListener = (req, res) => {
  req.resume();
  req.on('end', () => res.end('ok'));
};

interface Front {
  server: HearthServer;
  port: number;
  close(): Promise<void>;
}

async function listenFront(limits: Partial<TransportLimits>): Promise<Front> {
  const material = await testTls();
  const server = createHearthServer(answer, material, { limits, log: createLogger('silent') });
  server.front.listen(0, '127.0.0.1');
  await once(server.front, 'listening');
  return { server, port: (server.front.address() as net.AddressInfo).port, close: () => server.closeAll() };
}

/** connect — a raw TCP connection, from `localAddress` if given. */
async function connect(port: number, localAddress?: string): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

/** tlsConnect — a finished TLS handshake with Hearth's test certificate. */
async function tlsConnect(port: number, localAddress?: string): Promise<tls.TLSSocket> {
  const s = tls.connect({ socket: await connect(port, localAddress), servername: 'localhost', ca: (await testTls()).ca });
  s.on('error', () => {});
  await once(s, 'secureConnect');
  return s;
}

/** closedWithin — resolves when `s` closes, fails if it is still open after `ms`. */
async function closedWithin(s: net.Socket, ms = GENEROUS_MS): Promise<void> {
  if (s.destroyed || s.closed) return;
  const t = sleep(ms, 'open');
  const outcome = await Promise.race([once(s, 'close').then(() => 'closed'), t]);
  expect(outcome, 'the connection was closed').to.equal('closed');
}

/** until — polls `cond` until it holds (a server counts a connection a moment after the client sees it open). */
async function until(cond: () => boolean, what: string, ms = GENEROUS_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** trickle — writes `bytes` one at a time, `everyMs` apart, until done or the socket closes. */
function trickle(s: net.Socket, bytes: Buffer, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (s.destroyed || i >= bytes.length) return clearInterval(timer);
    s.write(bytes.subarray(i, ++i));
  }, everyMs);
  s.once('close', () => clearInterval(timer));
}

/** httpsGet — one request on its own connection, from `localAddress` if given; the status. */
async function httpsGet(port: number, localAddress?: string): Promise<number> {
  const s = await tlsConnect(port, localAddress);
  s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  let reply = '';
  s.on('data', (d) => (reply += d));
  await once(s, 'close');
  return Number(/^HTTP\/1\.1 (\d+)/.exec(reply)?.[1] ?? 0);
}

describe('HTTP transport hardening (raw sockets against the real front server)', function () {
  this.timeout(30_000);
  const opened: net.Socket[] = [];
  const keep = <T extends net.Socket>(s: T): T => {
    opened.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of opened.splice(0)) s.destroy();
  });

  describe('deadlines', () => {
    let front: Front;
    before(async () => {
      front = await listenFront(SHORT);
    });
    after(async () => {
      await front.close();
    });

    it('closes a TLS handshake that stalls after its first byte', async () => {
      const s = keep(await connect(front.port));
      s.write(Buffer.from([0x16]));
      await closedWithin(s);
    });

    it('closes a TLS handshake trickled a byte at a time (activity does not extend it)', async () => {
      const s = keep(await connect(front.port));
      // A TLS record header announcing 16 KiB, then its body a byte every 100 ms.
      trickle(s, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(16_384)]), 100);
      await closedWithin(s);
    });

    it('closes an HTTPS connection whose request headers never finish', async () => {
      const s = keep(await tlsConnect(front.port));
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
      await closedWithin(s);
    });

    it('closes an HTTPS connection that trickles its request headers', async () => {
      const s = keep(await tlsConnect(front.port));
      s.write('GET / HTTP/1.1\r\n');
      trickle(s, Buffer.from('X-Slow: ' + 'a'.repeat(4_000)), 100);
      await closedWithin(s);
    });

    it('closes a plain-HTTP connection whose headers never finish, or trickle', async () => {
      const stalled = keep(await connect(front.port));
      stalled.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
      const slow = keep(await connect(front.port));
      slow.write('GET / HTTP/1.1\r\n');
      trickle(slow, Buffer.from('X-Slow: ' + 'a'.repeat(4_000)), 100);
      await Promise.all([closedWithin(stalled), closedWithin(slow)]);
    });

    it('closes a connection that sends nothing at all', async () => {
      await closedWithin(keep(await connect(front.port)));
    });

    it('closes a request whose body trickles in', async () => {
      const s = keep(await tlsConnect(front.port));
      s.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 4000\r\n\r\n');
      trickle(s, Buffer.alloc(4_000, 'b'), 100);
      await closedWithin(s);
    });

    it('closes a kept-alive connection that trickles its next request', async () => {
      const s = keep(await tlsConnect(front.port));
      let reply = '';
      s.on('data', (d) => (reply += d));
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      while (!reply.includes('ok')) await sleep(20);
      s.write('GET / HTTP/1.1\r\n');
      trickle(s, Buffer.from('X-Slow: ' + 'a'.repeat(4_000)), 100);
      await closedWithin(s);
    });

    it('leaves well-behaved clients alone: keep-alive requests, and a WebSocket long past every deadline', async () => {
      // Two requests on one kept-alive connection, the second after the first deadline would have passed.
      const s = keep(await tlsConnect(front.port));
      let reply = '';
      s.on('data', (d) => (reply += d));
      s.write('GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await sleep(SHORT.headersMs! / 3);
      s.write('GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n');
      while ((reply.match(/200 OK/g) ?? []).length < 2) {
        expect(s.destroyed, reply).to.equal(false);
        await sleep(20);
      }

      const wss = new WebSocketServer({ noServer: true });
      const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo ${m}`)));
      front.server.https.on('upgrade', onUpgrade);
      try {
        const ws = new WebSocket(`wss://127.0.0.1:${front.port}/ws`, { ca: (await testTls()).ca });
        await once(ws, 'open');
        await sleep(3 * SHORT.requestMs!);
        expect(ws.readyState).to.equal(WebSocket.OPEN);
        ws.send('still here');
        const [echo] = await once(ws, 'message');
        expect(String(echo)).to.equal('echo still here');
        ws.terminate();
      } finally {
        front.server.https.off('upgrade', onUpgrade);
        wss.close();
      }
    });
  });

  describe('connection caps', () => {
    it('refuses connections beyond the cap per address at once, while other addresses still get in', async () => {
      // Long deadlines here: a refusal must come from the cap, not from a timer.
      const front = await listenFront({ handshakeMs: 60_000, headersMs: 60_000, maxConnectionsPerAddress: 4, maxConnections: 6 });
      try {
        for (let i = 0; i < 4; i++) keep(await connect(front.port));
        await until(() => front.server.openConnections('127.0.0.1') === 4, 'four connections counted');
        const fifth = keep(await connect(front.port));
        await closedWithin(fifth, 2_000);
        // Another address (a second loopback source) is not affected by the first one's cap.
        expect(await httpsGet(front.port, '127.0.0.2')).to.equal(200);
        // The total cap: 4 + 2 open, the seventh is refused whatever its address.
        keep(await connect(front.port, '127.0.0.2'));
        keep(await connect(front.port, '127.0.0.3'));
        await until(() => front.server.openConnections() === 6, 'six connections counted');
        const seventh = keep(await connect(front.port, '127.0.0.4'));
        await closedWithin(seventh, 2_000);
        // A closed connection frees its place.
        opened[0]!.destroy();
        opened[1]!.destroy();
        await until(() => front.server.openConnections() === 4, 'two places freed');
        expect(await httpsGet(front.port)).to.equal(200);
      } finally {
        await front.close();
      }
    });

    it('counts IPv6 addresses by their /64 (one device may use any address in it)', async () => {
      const material = await testTls();
      const server = createHearthServer(answer, material, { limits: { handshakeMs: 60_000, maxConnectionsPerAddress: 2 }, log: createLogger('silent') });
      server.front.listen(0, '::1');
      await once(server.front, 'listening');
      const port = (server.front.address() as net.AddressInfo).port;
      try {
        const open = async () => {
          const s = keep(net.connect({ port, host: '::1' }));
          s.on('error', () => {});
          await once(s, 'connect');
          return s;
        };
        await open();
        await open();
        await until(() => server.openConnections('::1') === 2, 'two connections counted');
        expect(server.openConnections('::2'), '::1 and ::2 are one /64').to.equal(2);
        await closedWithin(await open(), 2_000);
      } finally {
        await server.closeAll();
      }
    });
  });

  describe('the HTTP_PORT redirect server', () => {
    let hearth: RunningHearth;
    let httpPort: number;
    before(async () => {
      const material = await testTls();
      httpPort = await freePort();
      const redisUrl = sharedRedis().url;
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HTTP_PORT: String(httpPort), DATA_DIR: tempDir('data'), CERTS_DIR: material.certsDir, REDIS_URL: redisUrl, LOG_LEVEL: 'silent' });
      hearth = await startHearth({ config, log: createLogger('silent'), assets: loadAssets(), tls: material, redisUrl, sessionSecret: 'test-secret-test-secret-test-secret-0123456789', transport: SHORT });
    });
    after(async () => {
      await hearth.close();
    });

    it('survives an error event (out of file descriptors) and keeps redirecting', async () => {
      const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
      expect(() => hearth.server.redirectOnly!.emit('error', emfile)).to.not.throw();
      expect(() => hearth.server.front.emit('error', emfile)).to.not.throw();
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: httpPort, path: '/r/x', headers: { host: 'nas.local' } }, resolve).on('error', reject);
      });
      res.resume();
      expect(res.statusCode).to.equal(308);
      expect(res.headers.location).to.equal(`https://nas.local:${hearth.port}/r/x`);
    });

    it('closes a connection to the redirect port whose headers never finish', async () => {
      const s = keep(net.connect({ port: httpPort, host: '127.0.0.1' }));
      s.on('error', () => {});
      await once(s, 'connect');
      s.write('GET / HTTP/1.1\r\nHost: x\r\n');
      await closedWithin(s);
    });
  });
});
