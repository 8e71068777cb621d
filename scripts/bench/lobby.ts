// Benchmark: lobby updates under churn — the lobby feed (deltas) against full snapshots to every socket (before the feed), same run, server in a child process.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig } from '../../src/server/config.js';
import { startHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import type { LobbyFeedMode } from '../../src/server/signaling/lobby-feed.js';
import { ensureCertificates } from '../../src/server/tls/certs.js';
import { LobbyState, type LobbyMessage } from '../../src/shared/lobby.js';
import type { ServerMessage } from '../../src/shared/protocol.js';
import { HttpClient } from '../../test/helpers/http-client.js';
import { startRedis, stopChild, tempDir, track } from '../../test/helpers/processes.js';

const ROOMS = Number(process.env.BENCH_ROOMS ?? 200);
/** Sockets per room: each figure is one load (5 × 200 rooms = 1,000 sockets; 10 × 200 = 2,000). */
const PER_ROOM = (process.env.BENCH_PER_ROOM ?? '5,10').split(',').map(Number);
/** Accounts the sockets belong to (many sockets per account, as in the issue). */
const USERS = Number(process.env.BENCH_USERS ?? 100);
/** Joins and leaves per second, all loads and modes alike. */
const CHURN = Number(process.env.BENCH_CHURN ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CAPACITY = 12;
const LOBBY_PREFIX = Buffer.from('{"type":"lobby');

// ---- the server (child process: its CPU is Hearth's alone) ---------------------------------

type Command =
  | { id: number; cmd: 'rooms'; n: number; owner: string }
  | { id: number; cmd: 'mode'; mode: LobbyFeedMode }
  | { id: number; cmd: 'usage' }
  | { id: number; cmd: 'stop' };

interface Usage {
  /** process.cpuUsage() of the server, µs. */
  cpu: number;
  builds: number;
  /** Time spent building and sending lobby updates (feed mode), ms. */
  buildMs: number;
  sockets: number;
  rss: number;
}

async function serve(): Promise<void> {
  const certsDir = process.env.BENCH_CERTS_DIR!;
  const redisUrl = process.env.BENCH_REDIS_URL!;
  const tls = await ensureCertificates({ certsDir, tlsCert: null, tlsKey: null });
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir('bench-lobby'), CERTS_DIR: certsDir, REDIS_URL: redisUrl, LOG_LEVEL: 'silent',
    // Every bench socket comes from 127.0.0.1: lift the connection caps a LAN never comes near.
    MAX_CONNECTIONS: '100000', MAX_CONNECTIONS_PER_ADDRESS: '100000' });
  const hearth = await startHearth({
    config, log: createLogger('silent'), assets: loadAssets(), tls, redisUrl,
    sessionSecret: 'bench-secret-bench-secret-bench-secret-0123',
    throttle: { registrationsPerHour: 1_000_000 },
    // The lobby is measured here, not the per-account and per-address socket caps.
    signalingLimits: { socketsPerUser: 1_000_000, socketsPerAddress: 1_000_000 },
  });
  const { app } = hearth;
  process.on('message', (m: Command) => {
    void (async () => {
      let result: unknown = null;
      if (m.cmd === 'rooms') {
        const owner = (await app.users.findByUsername(m.owner))!;
        const slugs: string[] = [];
        for (let i = 0; i < m.n; i++) slugs.push((await app.rooms.create({ name: `Bench ${String(i).padStart(3, '0')}`, ownerId: owner.id, capacity: CAPACITY, passcodeHash: null })).slug);
        result = slugs;
      } else if (m.cmd === 'mode') {
        app.hub.lobby.setMode(m.mode);
      } else if (m.cmd === 'usage') {
        const c = process.cpuUsage();
        result = { cpu: c.user + c.system, builds: app.hub.lobby.builds, buildMs: app.hub.lobby.buildMs, sockets: app.signaling.openSockets, rss: process.memoryUsage().rss } satisfies Usage;
      } else if (m.cmd === 'stop') {
        await hearth.close().catch((err: Error) => console.error(`server close: ${err.message}`));
        process.send!({ id: m.id, result: null }, () => process.exit(0));
        return;
      }
      process.send!({ id: m.id, result });
    })();
  });
  process.send!({ ready: hearth.port });
}

/** Server — the child and a tiny request/response over its IPC channel. */
class Server {
  private seq = 0;
  private readonly pending = new Map<number, (r: unknown) => void>();
  private constructor(readonly child: ChildProcess, readonly port: number) {
    child.on('message', (m: { id?: number; result?: unknown }) => {
      if (m.id !== undefined) this.pending.get(m.id)?.(m.result);
      if (m.id !== undefined) this.pending.delete(m.id);
    });
  }

  static async start(redisUrl: string, certsDir: string): Promise<Server> {
    const child = track(fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, BENCH_LOBBY_SERVER: '1', BENCH_REDIS_URL: redisUrl, BENCH_CERTS_DIR: certsDir },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    const [ready] = (await once(child, 'message')) as [{ ready: number }];
    return new Server(child, ready.ready);
  }

  /** stop — asks the server to close; a server that does not exit in time is killed. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ cmd: 'stop', id: ++this.seq });
    await Promise.race([exited, sleep(10_000)]);
    await stopChild(this.child);
  }

  call<T>(cmd: Record<string, unknown> & { cmd: Command['cmd'] }): Promise<T> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void);
      this.child.send({ ...cmd, id });
    });
  }
}

// ---- the clients (this process) -----------------------------------------------------------

/** Client — a signed-in socket that counts lobby bytes without parsing them (a real page would parse; the server's cost is what is measured). */
class Client {
  lobbyBytes = 0;
  lobbyMessages = 0;
  room: string | null = null;
  closed = false;
  private waiter: ((m: ServerMessage) => void) | null = null;
  onLobby: ((m: LobbyMessage, bytes: number) => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      if (data.subarray(0, LOBBY_PREFIX.length).equals(LOBBY_PREFIX)) {
        this.lobbyBytes += data.length;
        this.lobbyMessages++;
        if (this.onLobby) this.onLobby(JSON.parse(data.toString()) as LobbyMessage, data.length);
        return;
      }
      const m = JSON.parse(data.toString()) as ServerMessage;
      if (m.type === 'error' && m.code === 'room-full') this.room = null;
      this.waiter?.(m);
    });
    ws.on('close', () => (this.closed = true));
    ws.on('error', () => undefined);
  }

  static async open(http: HttpClient, ca: Buffer): Promise<Client> {
    const cookie = [...http.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const ws = new WebSocket(`${http.origin.replace('https:', 'wss:')}/ws`, { headers: { cookie, origin: http.origin }, ca, perMessageDeflate: false });
    const c = new Client(ws);
    const refused = once(ws, 'close').then(([code]) => {
      throw new Error(`socket closed before welcome (${String(code)})`);
    });
    await Promise.race([c.next('welcome'), refused]);
    refused.catch(() => undefined);
    return c;
  }

  next(type: ServerMessage['type']): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type}`)), 30_000);
      this.waiter = (m) => {
        if (m.type !== type && m.type !== 'error') return;
        clearTimeout(t);
        this.waiter = null;
        resolve(m);
      };
    });
  }

  join(room: string): void {
    this.room = room;
    this.ws.send(JSON.stringify({ type: 'join', room }));
  }

  leave(): void {
    this.room = null;
    this.ws.send(JSON.stringify({ type: 'leave' }));
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** cpuOf — user + system CPU of a process by PID, in µs (redis-server). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * (1_000_000 / 100);
}

interface Result {
  sockets: number;
  mode: LobbyFeedMode;
  changes: number;
  seconds: number;
  bytes: number;
  messages: number;
  serverCpu: number;
  redisCpu: number;
  clientCpu: number;
  builds: number;
  buildMs: number;
  dropped: number;
  appear: number[];
  /** Size of one whole lobby message (what full snapshots send every socket on every change). */
  snapshot: number;
  rss: number;
}

/**
 * measure — SECONDS of churn (CHURN joins/leaves per second) in one mode. A probe account moves
 * between rooms and the lobby twice a second; a watcher socket that applies every lobby
 * message like a browser records how long each move takes to show.
 */
async function measure(server: Server, mode: LobbyFeedMode, clients: Client[], slugs: string[], probe: Client, probeUserId: string, watcher: Client, redisPid: number): Promise<Result> {
  const lobby = new LobbyState();
  let expect: { where: string; since: number } | null = null;
  const appear: number[] = [];
  let snapshot = 0;
  watcher.onLobby = (m, size) => {
    if (m.type === 'lobby') snapshot = size;
    lobby.apply(m);
    if (!expect) return;
    const p = lobby.person(probeUserId);
    const where = p?.where.kind === 'room' ? p.where.slug : p?.where.kind;
    if (where === expect.where) {
      appear.push(performance.now() - expect.since);
      expect = null;
    }
  };
  await server.call({ cmd: 'mode', mode });
  await sleep(3_000); // every socket has a full snapshot in the new mode; queues drained

  const inRooms = clients.filter((c) => c.room);
  const inLobby = clients.filter((c) => !c.room);
  for (const c of [...clients, watcher]) {
    c.lobbyBytes = 0;
    c.lobbyMessages = 0;
  }
  const usage0 = await server.call<Usage>({ cmd: 'usage' });
  const redis0 = cpuOf(redisPid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  let changes = 0;
  let tick = 0;
  const random = <T>(xs: T[]) => xs.splice(Math.floor(Math.random() * xs.length), 1)[0]!;
  const churn = setInterval(() => {
    // Alternate: someone leaves a room, someone in the lobby joins one.
    if (tick++ % 2 === 0 || inLobby.length === 0) {
      const c = random(inRooms);
      c.leave();
      inLobby.push(c);
    } else {
      const c = random(inLobby);
      c.join(slugs[Math.floor(Math.random() * slugs.length)]!);
      inRooms.push(c);
    }
    changes++;
  }, 1000 / CHURN);
  const probing = setInterval(() => {
    if (expect) return; // the last move has not shown yet
    const target = probe.room ? 'lobby' : slugs[Math.floor(Math.random() * slugs.length)]!;
    if (target === 'lobby') probe.leave();
    else probe.join(target);
    expect = { where: target, since: performance.now() };
    changes++;
  }, 500);
  await sleep(SECONDS * 1000);
  clearInterval(churn);
  clearInterval(probing);
  const seconds = (performance.now() - t0) / 1000;
  const usage1 = await server.call<Usage>({ cmd: 'usage' });
  const client1 = process.cpuUsage(client0);
  const result: Result = {
    sockets: clients.length + 2,
    mode,
    changes,
    seconds,
    bytes: [...clients, watcher].reduce((n, c) => n + c.lobbyBytes, 0),
    messages: [...clients, watcher].reduce((n, c) => n + c.lobbyMessages, 0),
    serverCpu: (usage1.cpu - usage0.cpu) / (seconds * 1e6),
    redisCpu: (cpuOf(redisPid) - redis0) / (seconds * 1e6),
    clientCpu: (client1.user + client1.system) / (seconds * 1e6),
    builds: usage1.builds - usage0.builds,
    buildMs: usage1.buildMs - usage0.buildMs,
    dropped: clients.filter((c) => c.closed).length,
    appear,
    snapshot,
    rss: usage1.rss,
  };
  watcher.onLobby = null;
  // Let what is still queued drain before the next measurement.
  await sleep(3_000);
  return result;
}

async function openClients(users: HttpClient[], ca: Buffer, n: number, slugs: string[]): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, n - i) }, async (_, k) => {
      const c = await Client.open(users[(i + k) % users.length]!, ca);
      const joined = c.next('joined');
      c.join(slugs[(i + k) % slugs.length]!);
      const m = await joined;
      if (m.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(m)}`);
      return c;
    }));
    clients.push(...batch);
  }
  return clients;
}

async function register(origin: string, ca: Buffer, username: string): Promise<HttpClient> {
  const c = new HttpClient(origin, ca);
  const r = await c.register(username, 'correct horse battery', `Bench person ${username.slice(5)}`);
  if (r.status !== 303) throw new Error(`register ${username}: ${r.status}`);
  return c;
}

export async function main(): Promise<void> {
  const redis = await startRedis();
  const certsDir = tempDir('bench-certs');
  await ensureCertificates({ certsDir, tlsCert: null, tlsKey: null });
  const ca = readFileSync(`${certsDir}/ca.crt`);
  const server = await Server.start(redis.url, certsDir);
  const origin = `https://127.0.0.1:${server.port}`;
  const https: HttpClient[] = [];
  try {
    console.log(`lobby under churn: ${ROOMS} rooms × ${PER_ROOM.join(' or ')} sockets, ${USERS} accounts, ${CHURN} joins/leaves per second + a probe, ${SECONDS} s per row; server in a child process`);
    const users: HttpClient[] = [];
    for (let i = 0; i < USERS; i += 2) users.push(...(await Promise.all([i, i + 1].filter((k) => k < USERS).map((k) => register(origin, ca, `bench${String(k).padStart(4, '0')}`)))));
    https.push(...users);
    const probeHttp = await register(origin, ca, 'benchprobe');
    const watcherHttp = await register(origin, ca, 'benchwatch');
    https.push(probeHttp, watcherHttp);
    const slugs = await server.call<string[]>({ cmd: 'rooms', n: ROOMS, owner: 'bench0000' });
    const redisPid = redis.child.pid!;

    const results: Result[] = [];
    for (const perRoom of PER_ROOM) {
      const clients = await openClients(users, ca, ROOMS * perRoom - 2, slugs);
      const probe = await Client.open(probeHttp, ca);
      const watcher = await Client.open(watcherHttp, ca);
      const probeUserId = await userIdOf(watcher, 'Bench person probe');
      // The feed first: full snapshots may overwhelm clients, and the server drops those that stop reading.
      for (const mode of ['delta', 'full'] as const) {
        const r = await measure(server, mode, clients, slugs, probe, probeUserId, watcher, redisPid);
        results.push(r);
        console.log(`  ${r.sockets} sockets, ${mode}: ${fmt(r.bytes / r.seconds / 1e6, 2)} MB/s, server CPU ${pctOf(r.serverCpu)}, clients' CPU ${pctOf(r.clientCpu)}${r.buildMs ? `, ${fmt(r.buildMs / r.builds, 0)} ms per build and send` : ''}, server RSS ${bytes(r.rss)}${r.dropped ? `, ${r.dropped} sockets dropped` : ''}`);
      }
      for (const c of [...clients, probe, watcher]) c.ws.close(1000);
      while ((await server.call<Usage>({ cmd: 'usage' })).sockets > 0) await sleep(200);
      await server.call({ cmd: 'mode', mode: 'delta' });
    }

    console.log('');
    console.log('| sockets | lobby updates | changes/s | lobby bytes/s to clients | per socket | bytes per change per socket | server CPU | Redis CPU | builds/s | change → shown p50 / p99 | sockets dropped |');
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const perSecond = r.bytes / r.seconds;
      console.log(`| ${r.sockets.toLocaleString('en')} | ${r.mode === 'full' ? 'full snapshots (before)' : 'feed (deltas)'} | ${fmt(r.changes / r.seconds, 1)} | ${bytes(perSecond)}/s | ${bytes(perSecond / r.sockets)}/s | ${bytes(r.bytes / r.changes / r.sockets)} | ${pctOf(r.serverCpu)} | ${pctOf(r.redisCpu)} | ${fmt(r.builds / r.seconds, 1)} | ${r.appear.length ? `${Math.round(pct(r.appear, 50))} / ${Math.round(pct(r.appear, 99))} ms` : 'never'} | ${r.dropped} |`);
    }
    const pick = (sockets: number, mode: LobbyFeedMode) => results.find((r) => r.sockets === sockets && r.mode === mode);
    const sizes = [...new Set(results.map((r) => r.sockets))];
    console.log('');
    for (const s of sizes) {
      const [d, f] = [pick(s, 'delta'), pick(s, 'full')];
      if (d && f) console.log(`${s.toLocaleString('en')} sockets: the feed sends ${fmt((d.bytes / d.seconds) / (f.bytes / f.seconds) * 100, 2)} % of the bytes of full snapshots, with ${fmt(d.serverCpu / f.serverCpu * 100, 0)} % of the server CPU`);
    }
    for (const s of sizes) {
      const f = pick(s, 'full');
      if (f?.snapshot) console.log(`${s.toLocaleString('en')} sockets: one whole lobby is ${bytes(f.snapshot)}; full snapshots send every socket one per update: ${bytes(f.snapshot * f.sockets)} per update, ${bytes(f.snapshot * f.sockets * 2)}/s to show every change within 500 ms`);
    }
    if (sizes.length === 2) {
      const [a, b] = sizes as [number, number];
      for (const mode of ['delta', 'full'] as const) {
        const [x, y] = [pick(a, mode)!, pick(b, mode)!];
        console.log(`${mode === 'delta' ? 'feed' : 'full snapshots'}: ${fmt(b / a, 1)}× the sockets → ${fmt((y.bytes / y.seconds) / (x.bytes / x.seconds), 1)}× the bytes/s, ${fmt(y.serverCpu / x.serverCpu, 1)}× the server CPU`);
      }
    }
    console.log('\ngoal: lobby cost grows with changes × sockets (linear), not with sockets²; people show within ~1 s');
  } finally {
    await Promise.all(https.map((c) => c.close()));
    await server.stop();
    await redis.stop();
  }
}

/** userIdOf — a person's id as the lobby lists them (waits for the watcher's first snapshot). */
async function userIdOf(watcher: Client, displayName: string): Promise<string> {
  const state = new LobbyState();
  return new Promise((resolve) => {
    watcher.onLobby = (m) => {
      state.apply(m);
      const p = state.online.find((o) => o.displayName === displayName);
      if (p) {
        watcher.onLobby = null;
        resolve(p.userId);
      }
    };
  });
}

const fmt = (n: number, digits: number) => n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pctOf = (share: number) => `${Math.round(share * 100)} %`;
const bytes = (n: number) => (n >= 1e6 ? `${fmt(n / 1e6, 1)} MB` : n >= 1e3 ? `${fmt(n / 1e3, 1)} kB` : `${Math.round(n)} B`);

if (process.env.BENCH_LOBBY_SERVER === '1') await serve();
else if (import.meta.url === `file://${process.argv[1]}`) await main();
