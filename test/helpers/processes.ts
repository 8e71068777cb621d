// Child processes for tests: free ports, redis-server per run, always stopped by PID.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pingRedis } from '../../src/server/managed-redis.js';
import { isRunning } from '../../src/server/process-info.js';

const children = new Set<ChildProcess>();
// A failing or interrupted run must not leave servers behind.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** freePort — a TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `hearth-${prefix}-`));
}

/** track — remember a child so it is killed when the test process exits. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** stopChild — SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** running — the process exists and has not exited (a zombie waiting to be reaped counts as gone). */
export function running(pid: number): boolean {
  return isRunning(pid);
}

/** childPid — the PID of `parent`'s child whose command is `command` (e.g. redis-server), or null. */
export function childPid(parent: number, command: string): number | null {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)]).toString();
  } catch { /* ps exits 1 when there are no children */ }
  const line = out.split('\n').map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm === command);
  return line ? Number(line[0]) : null;
}

/** killPid — SIGKILL a process this test started (directly or as a grandchild), if it still runs. */
export function killPid(pid: number | null | undefined): void {
  if (pid && running(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone meanwhile */ }
  }
}

/** TestRedis — a private redis-server on a random loopback port. */
export interface TestRedis {
  port: number;
  url: string;
  child: ChildProcess;
  dir: string;
  stop(): Promise<void>;
  /** kill — stop the server but keep its data directory (start it again with restart()). */
  kill(): Promise<void>;
  /** restart — (stop and) start again on the same port (for outage tests). */
  restart(): Promise<void>;
}

async function spawnRedis(port: number, dir: string, persist: boolean): Promise<ChildProcess> {
  const child = track(spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '',
    '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--dir', dir], { stdio: 'ignore' }));
  const err = await once(child, 'spawn').then(() => null, (e: Error) => e);
  if (err) throw new Error(`redis-server could not be started (${err.message}). Install it: apt-get install redis-server — or run npm test, which does.`);
  const deadline = Date.now() + 5_000;
  while (!(await pingRedis({ port, host: '127.0.0.1' }))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(25);
  }
  return child;
}

/** startRedis — starts redis-server on a free port; `persist` keeps data across restart(). */
export async function startRedis(opts: { persist?: boolean } = {}): Promise<TestRedis> {
  const persist = opts.persist ?? false;
  const port = await freePort();
  const dir = tempDir('redis');
  const r: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    child: await spawnRedis(port, dir, persist),
    async stop() {
      await stopChild(r.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await stopChild(r.child);
    },
    async restart() {
      await stopChild(r.child);
      r.child = await spawnRedis(port, dir, persist);
    },
  };
  return r;
}
