import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_DIR } from '../../src/server/paths.js';
import { testTls } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { freePort, stopChild, tempDir, track } from '../helpers/processes.js';

const MAIN = path.join(ROOT_DIR, 'dist', 'server', 'main.js');

interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
}

/** npmStart — runs the built server exactly as `npm start` does, with `env` added. */
function npmStart(env: Record<string, string>): Started {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
  const child = track(spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, CERTS_DIR: certsDir };
    const s = npmStart(env);
    let redisPid = 0;
    try {
      await waitFor(() => s.out().includes('Hearth is running'), 20_000, 'the start-up banner');
      expect(s.out()).to.include(`https://localhost:${port}/`);
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

      const c = new HttpClient(`https://127.0.0.1:${port}`, (await testTls()).ca);
      expect((await c.get('/login')).status).to.equal(200);
      await c.close();

      const second = npmStart(env);
      const [code] = await once(second.child, 'exit');
      expect(code).to.equal(1);
      expect(second.err().trim()).to.equal(`hearth: Port ${port} is already in use (another Hearth?). Stop it, or set PORT to a free port.`);

      const t0 = Date.now();
      s.child.kill('SIGTERM');
      const [exitCode] = await once(s.child, 'exit');
      expect(exitCode).to.equal(0);
      expect(Date.now() - t0).to.be.below(5_000);
      expect(alive(redisPid), 'the redis-server child is gone').to.equal(false);
    } finally {
      await stopChild(s.child);
      if (redisPid && alive(redisPid)) process.kill(redisPid, 'SIGKILL');
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
