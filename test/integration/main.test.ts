// `npm start` as a real process: start-up, refusals, a clean SIGTERM, and coming back after kill -9.
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireDataDirLock, DataDirInUseError, LOCK_FILE, type LockRecord } from '../../src/server/data-dir-lock.js';
import { ROOT_DIR } from '../../src/server/paths.js';
import { processIdentity } from '../../src/server/process-info.js';
import { testTls } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { childPid, freePort, killPid, running, stopChild, tempDir, track } from '../helpers/processes.js';
import { TestSocket } from '../helpers/ws-client.js';

const MAIN = path.join(ROOT_DIR, 'dist', 'server', 'main.js');

interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
}

/** npmStart — runs the built server exactly as `npm start` does, with `env` added. */
function npmStart(env: Record<string, string>): Started {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  // TURN and mDNS have their own tests; here they would only compete for port 3478 and the LAN's name.
  const child = track(spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', TURN: 'off', MDNS: 'off', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { child, out: () => out, err: () => err };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const alive = running;

/** redisConfig — CONFIG GET `name` on the managed Redis of DATA_DIR `dataDir`. */
function redisConfig(dataDir: string, name: string): string {
  const out = execFileSync('redis-cli', ['-s', path.join(dataDir, 'redis', 'redis.sock'), 'CONFIG', 'GET', name]).toString();
  return out.trim().split('\n')[1] ?? '';
}

/** started — waits for the banner, then returns the PID of the managed redis-server. */
async function started(s: Started, ms = 20_000): Promise<number> {
  await waitFor(() => s.out().includes('Hearth is running') || s.child.exitCode !== null, ms, 'the start-up banner');
  expect(s.child.exitCode, s.err()).to.equal(null);
  const pid = childPid(s.child.pid!, 'redis-server');
  expect(pid, 'a redis-server child').to.not.equal(null);
  return pid!;
}

describe('npm start (the built server as a process)', function () {
  this.timeout(30_000);

  it('stops at once with one clear line on a bad config value', async () => {
    const s = npmStart({ PORT: 'eighty' });
    const [code] = await once(s.child, 'exit');
    expect(code).to.equal(78);
    expect(s.err().trim()).to.equal('hearth: PORT="eighty" is not valid: use a whole number from 0 to 65535.');
    expect(s.err()).to.not.match(/\n\s+at /); // no stack trace
  });

  it('runs its own redis-server, prints the URLs and CA fingerprint, refuses a second start on the same port, and shuts down cleanly', async () => {
    const port = await freePort();
    const dataDir = tempDir('main');
    const { certsDir } = await testTls();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, CERTS_DIR: certsDir, REDIS_MAXMEMORY: '64mb' };
    const s = npmStart(env);
    let redisPid = 0;
    let other: Started | null = null;
    try {
      await waitFor(() => s.out().includes('Hearth is running'), 20_000, 'the start-up banner');
      // Bound to one address (HOST), that address is the one to print.
      expect(s.out()).to.include(`https://127.0.0.1:${port}/`);
      expect(s.out()).to.match(/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);

      // The managed Redis is a child of Hearth, with append-only persistence, on a unix socket in DATA_DIR.
      expect(existsSync(path.join(dataDir, 'redis', 'redis.sock'))).to.equal(true);
      const { execFileSync } = await import('node:child_process');
      const kids = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(s.child.pid)]).toString();
      const m = /(\d+)\s+redis-server/.exec(kids);
      expect(m, kids).to.not.equal(null);
      redisPid = Number(m![1]);
      const cfg = execFileSync('redis-cli', ['-s', path.join(dataDir, 'redis', 'redis.sock'), 'CONFIG', 'GET', 'appendonly']).toString();
      expect(cfg).to.include('yes');
      const bind = execFileSync('redis-cli', ['-s', path.join(dataDir, 'redis', 'redis.sock'), 'CONFIG', 'GET', 'port']).toString();
      expect(bind.trim().split('\n')[1]).to.equal('0'); // no TCP listener at all
      // Bounded, and full means "refuse writes", never "evict an account or a room".
      expect(redisConfig(dataDir, 'maxmemory')).to.equal(String(64 * 1024 * 1024));
      expect(redisConfig(dataDir, 'maxmemory-policy')).to.equal('noeviction');

      const c = new HttpClient(`https://127.0.0.1:${port}`, (await testTls()).ca);
      expect((await c.get('/login')).status).to.equal(200);
      await c.close();

      const second = npmStart(env);
      const [code] = await once(second.child, 'exit');
      expect(code).to.equal(1);
      expect(second.err().trim()).to.equal(`hearth: Port ${port} is already in use (another Hearth?). Stop it, or set PORT to a free port.`);

      // Another port, the same DATA_DIR: refused, and the running Hearth's Redis is left alone.
      other = npmStart({ ...env, PORT: String(await freePort()) });
      const [otherCode] = await once(other.child, 'exit');
      expect(otherCode).to.equal(1);
      expect(other.err().trim()).to.equal(`hearth: Another Hearth (PID ${s.child.pid}) is already running with DATA_DIR=${dataDir}. Stop it, or give this one its own DATA_DIR.`);
      expect(alive(redisPid), 'the first Hearth keeps its redis-server').to.equal(true);
      const c2 = new HttpClient(`https://127.0.0.1:${port}`, (await testTls()).ca);
      expect((await c2.get('/login')).status).to.equal(200);
      await c2.close();

      const t0 = Date.now();
      s.child.kill('SIGTERM');
      const [exitCode] = await once(s.child, 'exit');
      expect(exitCode).to.equal(0);
      expect(Date.now() - t0).to.be.below(5_000);
      expect(alive(redisPid), 'the redis-server child is gone').to.equal(false);
    } finally {
      await stopChild(s.child);
      if (other) await stopChild(other.child);
      killPid(redisPid);
    }
  });

  it('comes back after kill -9 with its redis-server left running: the same accounts, rooms and chat, no orphan', async function () {
    this.timeout(60_000);
    const port = await freePort();
    const dataDir = tempDir('crash');
    const { certsDir, ca } = await testTls();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, CERTS_DIR: certsDir };
    const origin = `https://127.0.0.1:${port}`;
    const first = npmStart(env);
    let second: Started | null = null;
    let orphan = 0;
    let secondRedis = 0;
    const clients: HttpClient[] = [];
    const client = () => {
      const c = new HttpClient(origin, ca);
      clients.push(c);
      return c;
    };
    try {
      orphan = await started(first);
      const ada = client();
      expect((await ada.register('ada', 'correct horse battery', 'Ada')).status).to.equal(303);
      const made = await ada.postForm('/rooms', { _csrf: await ada.csrfToken('/'), name: 'Survivors', capacity: '4', passcode: '' });
      expect(made.status).to.equal(303);
      const slug = /^\/r\/([^/?#]+)$/.exec(String(made.headers.location))?.[1];
      expect(slug, String(made.headers.location)).to.be.a('string');
      const said = await ada.postForm(`/r/${slug}/chat`, { _csrf: await ada.csrfToken(`/r/${slug}`), text: 'still here after a crash' });
      expect(said.status).to.equal(303);

      // The crash: Hearth only. Its Redis goes on running, an orphan holding DATA_DIR's socket.
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      expect(alive(orphan), 'the orphaned redis-server still runs').to.equal(true);

      const t0 = Date.now();
      second = npmStart(env);
      secondRedis = await started(second, 15_000);
      expect(Date.now() - t0, 'up again within 15 s').to.be.below(15_000);
      await waitFor(() => !alive(orphan), 2_000, 'the orphan to be gone');
      expect(secondRedis).to.not.equal(orphan);

      const back = client();
      expect((await back.login('ada', 'correct horse battery')).status).to.equal(303);
      const room = await back.get(`/r/${slug}`);
      expect(room.status).to.equal(200);
      expect(room.body).to.include('Survivors');
      expect(room.body).to.include('still here after a crash');

      second.child.kill('SIGTERM');
      const [code] = await once(second.child, 'exit');
      expect(code).to.equal(0);
      expect(alive(secondRedis), 'no redis-server left behind').to.equal(false);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await stopChild(first.child);
      if (second) await stopChild(second.child);
      killPid(orphan);
      killPid(secondRedis);
    }
  });

  it('exits 0 within 5 s on SIGTERM with signed-in sockets that stopped reading, and stops its redis-server', async function () {
    this.timeout(60_000);
    const port = await freePort();
    const { certsDir, ca } = await testTls();
    const origin = `https://127.0.0.1:${port}`;
    const s = npmStart({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDir('stalled'), CERTS_DIR: certsDir });
    let redisPid = 0;
    const sockets: TestSocket[] = [];
    const clients: HttpClient[] = [];
    try {
      redisPid = await started(s);
      for (const name of ['ada', 'bob']) {
        const c = new HttpClient(origin, ca);
        clients.push(c);
        expect((await c.register(name)).status).to.equal(303);
        for (let i = 0; i < 8; i++) sockets.push(await TestSocket.open(c, ca));
      }
      const [active, ...stalled] = sockets;
      // They stop reading: the close handshake Hearth starts at shutdown never gets an answer.
      for (const t of stalled) (t.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // ...while Hearth keeps sending them lobby updates (each room change goes to every socket).
      const _csrf = await clients[0]!.csrfToken('/');
      for (let i = 0; i < 5; i++) {
        const made = await clients[0]!.postForm('/rooms', { _csrf, name: `Busy ${i}`, capacity: '12', passcode: '' });
        const slug = String(made.headers.location).slice('/r/'.length);
        await active!.request({ type: 'join', room: slug }, 'joined');
        await active!.request({ type: 'leave' }, 'left').catch(() => undefined);
      }

      const t0 = Date.now();
      s.child.kill('SIGTERM');
      const [code] = await once(s.child, 'exit');
      expect(Date.now() - t0, 'exited within 5 s').to.be.below(5_000);
      expect(code, s.out() + s.err()).to.equal(0);
      expect(alive(redisPid), 'the redis-server child is gone').to.equal(false);
    } finally {
      for (const t of sockets) t.ws.terminate();
      await Promise.all(clients.map((c) => c.close()));
      await stopChild(s.child);
      killPid(redisPid);
    }
  });

  it('keeps a local CA made before name constraints and says once, at start-up, how to re-issue it', async () => {
    const certsDir = tempDir('old-ca');
    const key = path.join(certsDir, 'ca.key');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', '/CN=Hearth local CA (old)',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', path.join(certsDir, 'ca.crt')], { stdio: 'ignore' });
    const before = readFileSync(path.join(certsDir, 'ca.crt'));
    const s = npmStart({ PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: tempDir('old-ca-data'), CERTS_DIR: certsDir });
    let redisPid = 0;
    try {
      redisPid = await started(s);
      const warnings = s.out().split('\n').filter((l) => l.includes('no name constraints'));
      expect(warnings).to.have.lengthOf(1);
      expect(warnings[0]).to.match(/delete ca\.crt and ca\.key in CERTS_DIR, start again, then trust the new CA/);
      expect(readFileSync(path.join(certsDir, 'ca.crt')).equals(before), 'the CA is kept').to.equal(true);
    } finally {
      await stopChild(s.child);
      killPid(redisPid);
    }
  });

  it('says what to do when redis-server is not installed', async () => {
    const port = await freePort();
    const { certsDir } = await testTls();
    // A PATH with node but without redis-server.
    const bin = tempDir('bin');
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const s = npmStart({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDir('noredis'), CERTS_DIR: certsDir, PATH: bin });
    const [code] = await once(s.child, 'exit');
    expect(code).to.equal(1);
    expect(s.err().trim()).to.match(/^hearth: redis-server is not installed\. Run \.\/install\.sh/);
  });
});

describe('the DATA_DIR lock (real processes)', function () {
  this.timeout(30_000);
  const sleepers: ChildProcess[] = [];
  /** sleeper — a live process that is not Hearth. */
  const sleeper = async (): Promise<number> => {
    const c = track(spawn('sleep', ['60'], { stdio: 'ignore' }));
    sleepers.push(c);
    await once(c, 'spawn');
    return c.pid!;
  };
  afterEach(async () => {
    await Promise.all(sleepers.splice(0).map((c) => stopChild(c)));
  });
  const writeLock = (dir: string, record: LockRecord) => writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(record));

  it('refuses while the process it names runs, and is stale once that PID is another program or another start', async () => {
    const pid = await sleeper();
    const who = processIdentity(pid)!;
    const dir = tempDir('lock');
    writeLock(dir, { pid, startTime: who.startTime, cmdline: who.cmdline, redisPid: null });
    expect(() => acquireDataDirLock(dir)).to.throw(DataDirInUseError, `Another Hearth (PID ${pid}) is already running with DATA_DIR=${dir}.`);

    // The PID now runs something else (PIDs are reused), or the same command started later (a reboot).
    for (const stale of [{ cmdline: `${process.execPath}\0/srv/hearth/dist/server/main.js` }, { startTime: String(Number(who.startTime) - 1) }]) {
      const record: LockRecord = { pid, startTime: who.startTime, cmdline: who.cmdline, redisPid: 4242, ...stale };
      writeLock(dir, record);
      const lock = acquireDataDirLock(dir);
      expect(lock.stale).to.deep.equal(record);
      expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).to.equal(process.pid);
      lock.release();
      expect(existsSync(path.join(dir, LOCK_FILE))).to.equal(false);
    }
  });

  it('lets exactly one of several starts racing for a stale lock take it', async () => {
    const dir = tempDir('lock-race');
    writeLock(dir, { pid: 999_999, startTime: '1', cmdline: 'gone', redisPid: null });
    const script = `
      import { acquireDataDirLock } from ${JSON.stringify(path.join(ROOT_DIR, 'src', 'server', 'data-dir-lock.ts'))};
      try { acquireDataDirLock(${JSON.stringify(dir)}); console.log('took'); setTimeout(() => {}, 3000); }
      catch (err) { console.log(err.name); }`;
    const racers = Array.from({ length: 4 }, () => track(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'inherit'] })));
    const said = await Promise.all(racers.map(async (c) => {
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      await waitFor(() => out.includes('\n'), 20_000, 'a racer to decide');
      return out.trim();
    }));
    await Promise.all(racers.map((c) => stopChild(c)));
    expect(said.filter((s) => s === 'took'), said.join(', ')).to.have.lengthOf(1);
    expect(said.filter((s) => s === 'DataDirInUseError')).to.have.lengthOf(3);
  });
});
