// Managed TURN against the real coturn: who it relays for (credentials), where it relays to (LAN only), what browsers are given, and no orphan after kill -9.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig } from '../../src/server/config.js';
import { startHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import { ROOT_DIR } from '../../src/server/paths.js';
import { processIdentity } from '../../src/server/process-info.js';
import { turnCredential } from '../../src/server/turn/credentials.js';
import { lanIPv4, startManagedTurn, stunAnswers, type ManagedTurn } from '../../src/server/turn/managed-turn.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { sharedRedis } from '../helpers/root-hooks.js';
import { HttpClient } from '../helpers/http-client.js';
import { childPid, freePort, killPid, running, stopChild, tempDir, track } from '../helpers/processes.js';
import { useWorld, type Person } from '../helpers/world.js';

/** lanAddress — the box's LAN IPv4: coturn relays from it (never from loopback). None: the test fails, it is not skipped. */
function lanAddress(): string {
  const lan = lanIPv4();
  if (!lan.length) throw new Error('this machine has no LAN IPv4 address (ip -4 addr): managed TURN relays from one, so it cannot be tested here');
  return lan[0]!.address;
}

interface Run {
  code: number | null;
  out: string;
}

/**
 * uclient — coturn's own TURN client (turnutils_uclient, from the coturn package): allocates a
 * relay with `username`/`credential`, binds a channel to `peer` and sends 3 messages there
 * through the relay, which a turnutils_peer echoes back.
 */
async function uclient(turn: { ip: string; port: number }, auth: { username: string; credential: string }, peer: { ip: string; port: number }): Promise<Run> {
  const child = track(spawn('turnutils_uclient', ['-u', auth.username, '-w', auth.credential, '-p', String(turn.port), '-e', peer.ip, '-r', String(peer.port), '-n', '3', '-m', '1', '-X', turn.ip], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, out };
}

/** relayed — messages uclient sent through the relay and got back from the peer (its final tally). */
function relayed(run: Run): { sent: number; received: number } {
  const m = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m.exec(run.out);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
}

/** echoPeer — turnutils_peer on ip:port: it sends back what the relay brings. */
async function echoPeer(ip: string, port: number): Promise<ChildProcess> {
  const child = track(spawn('turnutils_peer', ['-L', ip, '-p', String(port)], { stdio: 'ignore' }));
  const err = await once(child, 'spawn').then(() => null, (e: Error) => e);
  if (err) throw new Error(`turnutils_peer could not start (${err.message}): apt-get install coturn (npm test does)`);
  // Ready when it echoes a datagram.
  const probe = dgram.createSocket('udp4');
  let echoed = false;
  probe.on('message', () => (echoed = true));
  try {
    for (const end = Date.now() + 10_000; !echoed; await sleep(100)) {
      if (Date.now() > end) throw new Error(`turnutils_peer on ${ip}:${port} does not echo`);
      probe.send('ping', port, ip);
    }
  } finally {
    probe.close();
  }
  return child;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('managed TURN (the real coturn)', function () {
  this.timeout(60_000);
  let turn: ManagedTurn;
  let ip: string;
  let port: number;
  let peer: ChildProcess;
  let peerPort: number;
  let dataDir: string;

  before(async () => {
    ip = lanAddress();
    port = await freePort();
    peerPort = await freePort();
    dataDir = tempDir('turn');
    const started = await startManagedTurn(dataDir, createLogger('silent'), { port, relayPorts: [49400, 49440] });
    expect(started, 'coturn started on the LAN address').to.not.equal(null);
    turn = started!;
    peer = await echoPeer(ip, peerPort);
  });
  after(async () => {
    await turn?.stop();
    if (peer) await stopChild(peer);
  });

  it('listens on the LAN address and TURN_PORT, offers UDP and TCP, and keeps its secret out of its command line', async () => {
    expect(turn.urls).to.deep.equal([`turn:${ip}:${port}?transport=udp`, `turn:${ip}:${port}?transport=tcp`]);
    expect(await stunAnswers(ip, port)).to.equal(true);
    const cmdline = processIdentity(turn.pid()!)!.cmdline;
    expect(cmdline).to.not.include(turn.secret);
    const conf = path.join(dataDir, 'turn', 'turnserver.conf');
    expect(statSync(conf).mode & 0o077, 'only Hearth may read the configuration').to.equal(0);
    const text = readFileSync(conf, 'utf8');
    expect(text).to.include(`listening-ip=${ip}`).and.include(`relay-ip=${ip}`).and.include('use-auth-secret').and.include('no-tcp-relay').and.include('no-cli');
    expect(text).to.not.match(/^(listening|relay)-ip=127\./m);
  });

  it('relays for a fresh credential: the messages reach the peer on the LAN and come back', async () => {
    const run = await uclient({ ip, port }, turnCredential(turn.secret, 'ada', 3600), { ip, port: peerPort });
    expect(run.code, run.out).to.equal(0);
    const { sent, received } = relayed(run);
    expect(sent, run.out).to.be.greaterThan(0);
    expect(received, run.out).to.equal(sent);
  });

  it('refuses a wrong credential and an expired one (no allocation)', async () => {
    const fresh = turnCredential(turn.secret, 'ada', 3600);
    const wrong = await uclient({ ip, port }, { username: fresh.username, credential: turnCredential('not-the-secret', 'ada', 3600).credential }, { ip, port: peerPort });
    expect(wrong.code, wrong.out).to.not.equal(0);
    expect(wrong.out).to.include('Cannot complete Allocation');
    const expired = await uclient({ ip, port }, turnCredential(turn.secret, 'ada', -60), { ip, port: peerPort });
    expect(expired.code, expired.out).to.not.equal(0);
    expect(expired.out).to.include('Cannot complete Allocation');
  });

  it('refuses to relay to 127.0.0.1, link-local, multicast, 0.0.0.0/8 or off the LAN (403 Forbidden IP)', async () => {
    for (const target of ['127.0.0.1', '169.254.10.10', '224.0.0.251', '0.1.2.3', '8.8.8.8']) {
      const run = await uclient({ ip, port }, turnCredential(turn.secret, 'ada', 3600), { ip: target, port: peerPort });
      expect(run.code, `${target}: ${run.out}`).to.not.equal(0);
      expect(run.out, target).to.include('403 (Forbidden IP)');
    }
  });

  it('is restarted when it dies, with the same secret', async () => {
    const first = turn.pid()!;
    process.kill(first, 'SIGKILL');
    await waitFor(() => turn.pid() !== first && running(turn.pid()!), 20_000, 'a new turnserver');
    for (let i = 0; i < 100 && !(await stunAnswers(ip, port)); i++) await sleep(100);
    const run = await uclient({ ip, port }, turnCredential(turn.secret, 'ada', 3600), { ip, port: peerPort });
    expect(run.code, run.out).to.equal(0);
    expect(relayed(run).received, run.out).to.be.greaterThan(0);
  });
});

describe('TURN credentials in welcome (TURN=external, with the real coturn)', function () {
  this.timeout(60_000);
  let turn: ManagedTurn;
  let ip: string;
  const world = useWorld(async () => {
    ip = lanAddress();
    turn = (await startManagedTurn(tempDir('turn'), createLogger('silent'), { port: await freePort(), relayPorts: [49441, 49480] }))!;
    return startTestHearth({ TURN: 'external', TURN_URLS: turn.urls.join(','), TURN_SECRET: turn.secret, ICE_TRANSPORT_POLICY: 'relay' });
  });
  let boss: Person;
  before(async () => {
    boss = await world.person('boss'); // the first account: admin
  });
  after(async () => {
    await turn?.stop();
  });

  it('gives each person a short-lived credential of the TURN REST scheme that coturn accepts, and the relay policy', async () => {
    const ana = await world.person('ana');
    const tab = await ana.tab();
    const welcome = tab.received.find((m) => m.type === 'welcome');
    if (welcome?.type !== 'welcome') throw new Error('no welcome');
    expect(welcome.iceTransportPolicy).to.equal('relay');
    expect(welcome.iceServers).to.have.length(1);
    const server = welcome.iceServers[0]!;
    expect(server.urls).to.deep.equal(turn.urls);
    const [expiry, userId] = server.username!.split(':');
    expect(userId).to.equal(ana.id);
    const life = Number(expiry) - Date.now() / 1000;
    expect(life, 'about an hour').to.be.within(3500, 3601);
    expect(server.credential).to.equal(createHmac('sha1', turn.secret).update(server.username!).digest('base64'));

    const peerPort = await freePort();
    const peer = await echoPeer(ip, peerPort);
    try {
      const port = Number(/:(\d+)\?/.exec(turn.urls[0]!)![1]);
      const run = await uclient({ ip, port }, { username: server.username!, credential: server.credential! }, { ip, port: peerPort });
      expect(run.code, run.out).to.equal(0);
      expect(relayed(run).received, run.out).to.be.greaterThan(0);
    } finally {
      await stopChild(peer);
    }
  });

  it('gives a disabled person no socket, so no credential', async () => {
    const eve = await world.person('eve');
    expect((await boss.http.postForm(`/admin/people/${eve.id}/disable`, { _csrf: await boss.http.csrfToken('/') })).status).to.equal(303);
    let refused = false;
    try {
      const tab = await eve.tab();
      refused = !tab.received.some((m) => m.type === 'welcome');
    } catch {
      refused = true;
    }
    expect(refused, 'no welcome for a disabled person').to.equal(true);
  });
});

/** shortLivedHearth — a test Hearth whose TURN credentials last `seconds` (so their renewal can be watched). */
async function shortLivedHearth(env: Record<string, string>, seconds: number): Promise<TestHearth> {
  const tls = await testTls();
  const base = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir('data'), CERTS_DIR: tls.certsDir, REDIS_URL: sharedRedis().url, LOG_LEVEL: 'silent', ...env });
  const config = { ...base, turn: { ...base.turn, credentialSeconds: seconds } };
  const running = await startHearth({ config, log: createLogger('silent'), assets: loadAssets(), tls, redisUrl: sharedRedis().url, sessionSecret: 'test-secret-test-secret-test-secret-0123456789' });
  return { ...running, config, origin: `https://127.0.0.1:${running.port}` };
}

describe('TURN credentials renewed on an open socket (ice-servers)', function () {
  this.timeout(30_000);
  const secret = 'a-long-shared-secret-for-the-test';
  const world = useWorld(() => shortLivedHearth({ TURN: 'external', TURN_URLS: 'turn:192.168.1.2:3478?transport=udp', TURN_SECRET: secret }, 4));

  it('sends fresh credentials before the last ones expire, for as long as the socket is open', async () => {
    const ana = await world.person('ana');
    const tab = await ana.tab();
    const welcome = tab.received.find((m) => m.type === 'welcome');
    if (welcome?.type !== 'welcome') throw new Error('no welcome');
    const first = welcome.iceServers[0]!;
    const renewed = await tab.next('ice-servers', () => true, 10_000);
    expect(renewed.iceTransportPolicy).to.equal('all');
    const next = renewed.iceServers[0]!;
    expect(next.urls).to.deep.equal(['turn:192.168.1.2:3478?transport=udp']);
    const expiry = (u: string) => Number(u.split(':')[0]);
    expect(expiry(next.username!), 'the new one lasts longer').to.be.greaterThan(expiry(first.username!));
    expect(next.username!.endsWith(`:${ana.id}`)).to.equal(true);
    expect(next.credential).to.equal(createHmac('sha1', secret).update(next.username!).digest('base64'));
  });
});

const MAIN = path.join(ROOT_DIR, 'dist', 'server', 'main.js');

describe('npm start with TURN=managed (the built server as a process)', function () {
  this.timeout(90_000);

  it('runs turnserver as its child, stops it with Hearth, and after kill -9 the next start stops the orphan and starts its own', async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
    lanAddress();
    const port = await freePort();
    const turnPort = await freePort();
    const dataDir = tempDir('turn-main');
    const { certsDir, ca } = await testTls();
    const env = { PATH: process.env.PATH!, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, CERTS_DIR: certsDir, TURN: 'managed', TURN_PORT: String(turnPort), TURN_RELAY_PORTS: '49481-49520' };
    const start = () => {
      const child = track(spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return { child, out: () => out };
    };
    const up = async (s: ReturnType<typeof start>) => {
      await waitFor(() => s.out().includes('Hearth is running') || s.child.exitCode !== null, 30_000, 'the start-up banner');
      expect(s.child.exitCode, s.out()).to.equal(null);
      const pid = childPid(s.child.pid!, 'turnserver');
      expect(pid, `a turnserver child\n${s.out()}`).to.not.equal(null);
      return pid!;
    };
    const first = start();
    let second: ReturnType<typeof start> | null = null;
    let orphan = 0;
    let own = 0;
    let firstRedis: number | null = null;
    try {
      orphan = await up(first);
      firstRedis = childPid(first.child.pid!, 'redis-server');
      const lock = JSON.parse(readFileSync(path.join(dataDir, 'hearth.lock'), 'utf8')) as { turnPid: number };
      expect(lock.turnPid, 'the lock names the turnserver').to.equal(orphan);

      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      expect(running(orphan), 'the orphaned turnserver still runs').to.equal(true);

      second = start();
      own = await up(second);
      await waitFor(() => !running(orphan), 5_000, 'the orphan to be gone');
      expect(own).to.not.equal(orphan);
      const c = new HttpClient(`https://127.0.0.1:${port}`, ca);
      expect((await c.get('/login')).status).to.equal(200);
      await c.close();
      expect(await stunAnswers(lanAddress(), turnPort)).to.equal(true);

      second.child.kill('SIGTERM');
      const [code] = await once(second.child, 'exit');
      expect(code, second.out()).to.equal(0);
      expect(running(own), 'no turnserver left behind').to.equal(false);
    } finally {
      await stopChild(first.child);
      if (second) await stopChild(second.child);
      killPid(orphan);
      killPid(own);
      killPid(firstRedis);
    }
  });
});
