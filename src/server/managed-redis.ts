// Runs Hearth's private redis-server child (no REDIS_URL): data in DATA_DIR, reachable only via a unix socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';

/** ManagedRedisError — start-up failed for a reason the user can fix; the message says how. */
export class ManagedRedisError extends Error {
  override name = 'ManagedRedisError';
}

/** ManagedRedis — the running child and how to reach and stop it. */
export interface ManagedRedis {
  url: string;
  pid: () => number | undefined;
  stop(): Promise<void>;
}

// sun_path is 108 bytes on Linux; leave room for the terminator.
const MAX_SOCKET_PATH = 100;

/** pingSocket — true when a Redis server answers PING at `target`. */
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

/** startManagedRedis — starts redis-server with append-only persistence and waits until it answers. */
export async function startManagedRedis(dataDir: string, log: Logger): Promise<ManagedRedis> {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(dir, 'redis.sock');
  const useSocket = socketPath.length <= MAX_SOCKET_PATH;
  let target: { path: string } | { port: number; host: string };
  let listenArgs: string[];
  if (useSocket) {
    if (existsSync(socketPath)) {
      if (await pingRedis({ path: socketPath })) {
        throw new ManagedRedisError(`Another Hearth is already running with DATA_DIR=${dataDir}. Stop it, or give this one its own DATA_DIR.`);
      }
      unlinkSync(socketPath); // left behind by a crash
    }
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
  ];

  let child: ChildProcess;
  let stopping = false;
  const launch = async (): Promise<ChildProcess> => {
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    // events.once rejects when 'error' comes first (e.g. ENOENT: redis-server is not installed).
    const spawned = await once(c, 'spawn').then(() => null, (err: NodeJS.ErrnoException) => err);
    if (spawned?.code === 'ENOENT') {
      throw new ManagedRedisError('redis-server is not installed. Run ./install.sh, or: sudo apt-get install redis-server (or set REDIS_URL).');
    }
    if (spawned) throw new ManagedRedisError(`redis-server could not start: ${spawned.message}`);
    const deadline = Date.now() + 10_000;
    while (!(await pingRedis(target))) {
      if (c.exitCode !== null || Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new ManagedRedisError(`redis-server did not start; see ${path.join(dir, 'redis.log')}: ${lastLine(path.join(dir, 'redis.log'))}`);
      }
      await sleep(50);
    }
    c.on('exit', (code, signal) => {
      if (stopping) return;
      // Keep serving: requests answer 503 meanwhile and the client reconnects on its own.
      log.error({ code, signal }, 'the managed redis-server stopped unexpectedly; restarting it');
      void relaunch();
    });
    return c;
  };
  const relaunch = async () => {
    for (let attempt = 0; !stopping; attempt++) {
      await sleep(Math.min(250 * 2 ** attempt, 5_000));
      try {
        child = await launch();
        log.info({ pid: child.pid }, 'managed redis-server restarted');
        return;
      } catch (err) {
        log.error({ err: (err as Error).message }, 'restarting redis-server failed');
      }
    }
  };
  child = await launch();
  log.info({ pid: child.pid, dir }, 'managed redis-server started');

  return {
    url: 'path' in target ? `unix://${target.path}` : `redis://${target.host}:${target.port}`,
    pid: () => child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '(no log)';
  }
}
