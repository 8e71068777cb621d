// Runs Hearth's private redis-server child (no REDIS_URL): data in DATA_DIR, reachable only via a unix socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, realpathSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';
import { superviseChild, waitUntil } from './supervised-child.js';
import { isRunning, looksLikeHearth, processIdentity, workingDirectory } from './process-info.js';

/** ManagedRedisError — start-up failed for a reason the user can fix; the message says how. */
export class ManagedRedisError extends Error {
  override name = 'ManagedRedisError';
}

/** ManagedRedis — the running child and how to reach and stop it. */
export interface ManagedRedis {
  url: string;
  pid: () => number | undefined;
  /** stop — SIGTERM (Redis flushes its append-only file and exits), SIGKILL if it takes longer than `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** abandon — last resort when Hearth must exit now: signal the child and do not wait (synchronous). */
  abandon(signal: NodeJS.Signals): void;
}

/** ManagedRedisOptions — limits and what a crashed predecessor may have left running. */
export interface ManagedRedisOptions {
  /** maxmemory in bytes; beyond it Redis refuses writes (noeviction) and never drops accounts or rooms. */
  maxmemoryBytes: number;
  /** The Redis PID a Hearth that died without cleaning up recorded in its DATA_DIR lock. */
  staleRedisPid?: number | null;
  /** Told each new child's PID (main records it in the DATA_DIR lock). */
  onChild?: (pid: number | null) => void;
}

type Target = { path: string } | { port: number; host: string };

const ORPHAN_STOP_MS = 10_000;

// sun_path is 108 bytes on Linux; leave room for the terminator.
const MAX_SOCKET_PATH = 100;

/** pingRedis — true when a Redis server answers PING at `target`. */
export function pingRedis(target: { path: string } | { port: number; host: string }, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(target);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function freeLoopbackPort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** answeringRedisPid — the PID of the Redis answering at `target` (from INFO), or null when none answers. */
function answeringRedisPid(target: Target, timeoutMs = 1_000): Promise<number | null> {
  return new Promise((resolve) => {
    const sock = net.connect(target);
    let reply = '';
    const done = (pid: number | null) => {
      sock.destroy();
      resolve(pid);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.on('error', () => done(null));
    sock.on('close', () => done(null));
    sock.on('connect', () => sock.write('INFO server\r\n'));
    sock.on('data', (d) => {
      reply += d.toString();
      const m = /process_id:(\d+)/.exec(reply);
      if (m) done(Number(m[1]));
      else if (reply.startsWith('-') || reply.length > 64 * 1024) done(null);
    });
  });
}

/** sendShutdown — Redis SHUTDOWN: it flushes the append-only file to disk, then exits (closing the connection). */
function sendShutdown(target: Target): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(target);
    const done = () => {
      sock.destroy();
      resolve();
    };
    sock.setTimeout(ORPHAN_STOP_MS, done);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write('SHUTDOWN\r\n'));
  });
}

/**
 * stopOrphan — a redis-server left running by a Hearth that died without stopping it (kill -9,
 * OOM, power cut of the parent only) is shut down cleanly, so this start can run its own.
 * `proven`: it answered on this DATA_DIR's socket; otherwise it must be a redis-server running in
 * this DATA_DIR's redis folder. One whose parent is a running Hearth is not an orphan: refuse.
 */
async function stopOrphan(pid: number, dir: string, target: Target | null, proven: boolean, log: Logger): Promise<void> {
  const who = processIdentity(pid);
  if (!proven && (!who || !/redis-server/.test(who.cmdline.split('\0')[0] ?? '') || workingDirectory(pid) !== realpathSync(dir))) return;
  const parent = who && who.parentPid > 1 ? processIdentity(who.parentPid) : null;
  if (parent && looksLikeHearth(parent)) {
    throw new ManagedRedisError(`Another Hearth (PID ${who!.parentPid}) is already running with DATA_DIR=${path.dirname(dir)}. Stop it, or give this one its own DATA_DIR.`);
  }
  log.warn({ pid }, 'a redis-server left running by a Hearth that stopped without cleaning up: shutting it down cleanly (its data is kept)');
  if (target) await sendShutdown(target);
  else process.kill(pid, 'SIGTERM'); // what SHUTDOWN does, for a Redis we cannot reach
  const gone = () => (who ? !isRunning(pid) : target ? pingRedis(target).then((up) => !up) : true);
  if (await waitUntil(gone, ORPHAN_STOP_MS)) return;
  log.warn({ pid }, 'the left-over redis-server did not stop; killing it');
  if (who) process.kill(pid, 'SIGKILL');
  if (!(await waitUntil(gone, 2_000))) throw new ManagedRedisError(`A redis-server (PID ${pid}) left by an earlier Hearth is still running on ${dir} and could not be stopped. Stop it, then start Hearth again.`);
}

/**
 * startManagedRedis — starts redis-server with append-only persistence and a memory bound, and
 * waits until it answers. A Redis an earlier, crashed Hearth left on this DATA_DIR is shut down
 * cleanly first (the caller holds the DATA_DIR lock, so no live Hearth owns it).
 */
export async function startManagedRedis(dataDir: string, log: Logger, opts: ManagedRedisOptions): Promise<ManagedRedis> {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(dir, 'redis.sock');
  const useSocket = socketPath.length <= MAX_SOCKET_PATH;
  let target: Target;
  let listenArgs: string[];
  if (useSocket && existsSync(socketPath)) {
    const pid = await answeringRedisPid({ path: socketPath });
    if (pid !== null) await stopOrphan(pid, dir, { path: socketPath }, true, log);
  }
  if (opts.staleRedisPid) await stopOrphan(opts.staleRedisPid, dir, null, false, log);
  if (useSocket) {
    if (existsSync(socketPath)) unlinkSync(socketPath); // left behind by a crash
    target = { path: socketPath };
    listenArgs = ['--port', '0', '--unixsocket', socketPath, '--unixsocketperm', '700'];
  } else {
    const port = await freeLoopbackPort();
    target = { port, host: '127.0.0.1' };
    listenArgs = ['--port', String(port), '--bind', '127.0.0.1'];
  }
  const args = [
    ...listenArgs,
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', 'redis.log',
    // A flood must not fill the machine: past the bound Redis refuses writes (Hearth answers 503)
    // rather than evicting anything — an evicted account or room would be silent data loss.
    '--maxmemory', String(opts.maxmemoryBytes),
    '--maxmemory-policy', 'noeviction',
  ];

  const launch = async (): Promise<ChildProcess> => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    // events.once rejects when 'error' comes first (e.g. ENOENT: redis-server is not installed).
    const spawned = await once(c, 'spawn').then(() => null, (err: NodeJS.ErrnoException) => err);
    if (spawned?.code === 'ENOENT') {
      throw new ManagedRedisError('redis-server is not installed. Run ./install.sh, or: sudo apt-get install redis-server (or set REDIS_URL).');
    }
    if (spawned) throw new ManagedRedisError(`redis-server could not start: ${spawned.message}`);
    opts.onChild?.(c.pid ?? null);
    const deadline = Date.now() + 10_000;
    while (!(await pingRedis(target))) {
      if (c.exitCode !== null || Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new ManagedRedisError(`redis-server did not start; see ${path.join(dir, 'redis.log')}: ${lastLine(path.join(dir, 'redis.log'))}`);
      }
      await sleep(50);
    }
    return c;
  };
  // A crash keeps Hearth serving: requests answer 503 meanwhile and the client reconnects on its own.
  const child = await superviseChild('redis-server', launch, log);
  log.info({ pid: child.pid(), dir }, 'managed redis-server started');
  return { url: 'path' in target ? `unix://${target.path}` : `redis://${target.host}:${target.port}`, ...child };
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '(no log)';
  }
}
