// Benchmark: Hearth's signaling relay (validation, authorisation, Redis) against a bare `ws` relay, same run.
import https from 'node:https';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig } from '../../src/server/config.js';
import { startHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import { ensureCertificates } from '../../src/server/tls/certs.js';
import { HttpClient } from '../../test/helpers/http-client.js';
import { startRedis, tempDir } from '../../test/helpers/processes.js';
import { TestSocket } from '../../test/helpers/ws-client.js';

const ROOMS = Number(process.env.BENCH_ROOMS ?? 50);
const PER_ROOM = 4;
const IN_FLIGHT = 4; // messages bouncing per pair at once (closed loop)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PAYLOAD = 'x'.repeat(1024);

interface Result {
  messages: number;
  seconds: number;
  latencies: number[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/**
 * drive — pairs of sockets bounce messages: each arrival is answered with a new message to
 * the sender, so throughput is what the relay sustains and latency is one relay hop.
 */
async function drive(pairs: { a: WebSocket; b: WebSocket; aId: string; bId: string }[], encode: (to: string, ts: number) => string, decode: (raw: string) => { ts: number; from: string } | null): Promise<Result> {
  let messages = 0;
  let running = true;
  const latencies: number[] = [];
  const t0 = performance.now();
  for (const { a, b, aId, bId } of pairs) {
    const wire = (me: WebSocket, other: string) => {
      me.on('message', (raw) => {
        const m = decode(raw.toString());
        if (!m) return;
        messages++;
        const now = performance.now();
        if (messages % 7 === 0) latencies.push(now - m.ts);
        if (running) me.send(encode(other, now));
      });
    };
    wire(a, bId);
    wire(b, aId);
    for (let i = 0; i < IN_FLIGHT; i++) a.send(encode(bId, performance.now()));
  }
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  return { messages, seconds, latencies };
}

async function benchHearth(redisUrl: string, tls: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<Result> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir('bench'), REDIS_URL: redisUrl, LOG_LEVEL: 'silent' });
  const hearth = await startHearth({
    config, log: createLogger('silent'), assets: loadAssets(), tls, redisUrl,
    sessionSecret: 'bench-secret-bench-secret-bench-secret-0123',
    // The relay, not the per-connection budget, is what is measured here.
    signalingLimits: { messagesPerSecond: 100_000, strikesPer10s: 100_000 },
  });
  const origin = `https://127.0.0.1:${hearth.port}`;
  const users: HttpClient[] = [];
  for (let u = 0; u < PER_ROOM; u++) {
    const c = new HttpClient(origin, tls.ca);
    await c.register(`bench${u}`, 'correct horse battery');
    users.push(c);
  }
  const owner = (await hearth.app.users.findByUsername('bench0'))!;
  const pairs: { a: WebSocket; b: WebSocket; aId: string; bId: string }[] = [];
  const sockets: TestSocket[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const room = await hearth.app.rooms.create({ name: `bench ${r}`, ownerId: owner.id, capacity: PER_ROOM, passcodeHash: null });
    const members: TestSocket[] = [];
    for (const u of users) {
      const s = await TestSocket.open(u, tls.ca);
      await s.request({ type: 'join', room: room.slug }, 'joined');
      members.push(s);
    }
    sockets.push(...members);
    for (let i = 0; i < PER_ROOM; i += 2) pairs.push({ a: members[i]!.ws, b: members[i + 1]!.ws, aId: members[i]!.peerId, bId: members[i + 1]!.peerId });
  }
  await new Promise((r) => setTimeout(r, 500)); // let lobby updates settle
  const result = await drive(
    pairs,
    (to, ts) => JSON.stringify({ type: 'signal', to, payload: { kind: 'app', app: 'bench', data: { ts, pad: PAYLOAD } } }),
    (raw) => {
      const m = JSON.parse(raw);
      return m.type === 'signal' ? { ts: m.payload.data.ts, from: m.from } : null;
    },
  );
  for (const s of sockets) s.close();
  await Promise.all(users.map((u) => u.close()));
  await hearth.close();
  return result;
}

/** benchRaw — the same traffic through a bare wss relay: no auth, no validation, no Redis. */
async function benchRaw(tls: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<Result> {
  const server = https.createServer({ cert: tls.cert, key: tls.key });
  const wss = new WebSocketServer({ server });
  const byId = new Map<string, WebSocket>();
  let seq = 0;
  wss.on('connection', (ws) => {
    const id = `p${seq++}`;
    byId.set(id, ws);
    ws.send(JSON.stringify({ id }));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      byId.get(m.to)?.send(JSON.stringify({ from: id, data: m.data }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const open = async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}`, { ca: tls.ca });
    const [raw] = await once(ws, 'message');
    return { ws, id: JSON.parse(raw.toString()).id as string };
  };
  const pairs: { a: WebSocket; b: WebSocket; aId: string; bId: string }[] = [];
  for (let i = 0; i < (ROOMS * PER_ROOM) / 2; i++) {
    const [a, b] = [await open(), await open()];
    pairs.push({ a: a.ws, b: b.ws, aId: a.id, bId: b.id });
  }
  const result = await drive(
    pairs,
    (to, ts) => JSON.stringify({ to, data: { ts, pad: PAYLOAD } }),
    (raw) => {
      const m = JSON.parse(raw);
      return m.from ? { ts: m.data.ts, from: m.from } : null;
    },
  );
  for (const p of pairs) {
    p.a.close();
    p.b.close();
  }
  wss.close();
  server.close();
  return result;
}

export async function main(): Promise<void> {
  const redis = await startRedis();
  try {
    const certsDir = tempDir('bench-certs');
    const material = await ensureCertificates({ certsDir, tlsCert: null, tlsKey: null });
    const tls = { cert: material.cert, key: material.key, ca: (await import('node:fs')).readFileSync(`${certsDir}/ca.crt`) };
    console.log(`signaling relay: ${ROOMS} rooms × ${PER_ROOM} clients, 1 KiB messages over wss, ${IN_FLIGHT} in flight per pair, ${SECONDS} s each`);
    const raw = await benchRaw(tls);
    const hearth = await benchHearth(redis.url, tls);
    const row = (name: string, r: Result) => [name, Math.round(r.messages / r.seconds), pct(r.latencies, 50), pct(r.latencies, 99)] as const;
    const rows = [row('raw ws relay (baseline)', raw), row('Hearth /ws', hearth)] as const;
    console.log('');
    console.log('| relay | messages/s | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const [n, t, p50, p99] of rows) console.log(`| ${n} | ${t} | ${p50.toFixed(2)} | ${p99.toFixed(2)} |`);
    const [, rt, r50, r99] = rows[0];
    const [, ht, h50, h99] = rows[1];
    console.log(`| Hearth ÷ raw | ${(ht / rt * 100).toFixed(0)} % | ${(h50 / r50).toFixed(2)}× | ${(h99 / r99).toFixed(2)}× |`);
    console.log('\ngoal: throughput ≥ 50 % of raw, p99 ≤ 3× raw');
  } finally {
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
