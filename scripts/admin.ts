// `npm run admin -- <username>`: makes an existing account admin (and enables it) from the box's shell, for the day the only admin is gone.
//
// It reaches Hearth's Redis as Hearth does: REDIS_URL when set; otherwise the managed redis-server
// of DATA_DIR — the running Hearth's (its socket, or the port on its command line), or, when no
// Hearth runs, one started here for a moment exactly as `npm start` starts it (holding the
// DATA_DIR lock meanwhile, so no Hearth can start on the same data halfway through).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig, type Config } from '../src/server/config.js';
import { acquireDataDirLock, DataDirInUseError, LOCK_FILE } from '../src/server/data-dir-lock.js';
import { createLogger, type Logger } from '../src/server/log.js';
import { ManagedRedisError, pingRedis, startManagedRedis } from '../src/server/managed-redis.js';
import { processIdentity } from '../src/server/process-info.js';
import { AdminLog, personLabel } from '../src/server/store/admin-log.js';
import { createRedisClient, type RedisClient } from '../src/server/store/redis.js';
import { UserStore } from '../src/server/store/users.js';

/** The actor the action log names for what this command does. */
const ACTOR = 'npm run admin';

/** Failure — a refusal with one line for the person at the shell (no stack trace). */
class Failure extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

interface Connection {
  redis: RedisClient;
  /** Where it connected, said in the output. */
  where: string;
  close(): Promise<void>;
}

async function connect(url: string, log: Logger): Promise<RedisClient> {
  const redis = createRedisClient(url, log);
  redis.on('error', () => undefined); // a lost connection fails the next command, which says why
  await redis.connect();
  return redis;
}

/** runningHearthRedis — where the Redis of the Hearth holding DATA_DIR answers (it may still be starting it). */
async function runningHearthRedis(dataDir: string): Promise<string | null> {
  const socket = path.join(dataDir, 'redis', 'redis.sock');
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(200)) {
    if (existsSync(socket) && (await pingRedis({ path: socket }))) return `unix://${socket}`;
    // A DATA_DIR too deep for a unix socket: its Redis (named in the lock) listens on a loopback
    // port, which its command line says: redis-server turns it into the title "redis-server
    // 127.0.0.1:<port>", older ones keep "--port <port>".
    let redisPid: unknown = null;
    try {
      redisPid = (JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')) as { redisPid?: unknown }).redisPid;
    } catch { /* being rewritten: look again */ }
    const cmdline = typeof redisPid === 'number' ? processIdentity(redisPid)?.cmdline ?? '' : '';
    const port = Number(/\b127\.0\.0\.1:(\d+)\b/.exec(cmdline)?.[1] ?? /(?:^|\0)--port\0(\d+)/.exec(cmdline)?.[1] ?? 0);
    if (port > 0 && (await pingRedis({ host: '127.0.0.1', port }))) return `redis://127.0.0.1:${port}`;
  }
  return null;
}

/** open — Hearth's Redis, however Hearth reaches it. */
async function open(config: Config, log: Logger): Promise<Connection> {
  if (config.redisUrl) {
    const redis = await connect(config.redisUrl, log);
    return { redis, where: 'the Redis at REDIS_URL', close: async () => void (await redis.close()) };
  }
  const { dataDir } = config;
  if (!existsSync(path.join(dataDir, 'redis'))) {
    throw new Failure(`no Hearth data in DATA_DIR=${dataDir}. Run this with the DATA_DIR (or REDIS_URL) Hearth runs with.`);
  }
  let lock;
  try {
    lock = acquireDataDirLock(dataDir);
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    // Hearth is running: use its Redis, and leave it running.
    const url = await runningHearthRedis(dataDir);
    if (!url) throw new Failure(`Hearth is running on DATA_DIR=${dataDir}, but its Redis does not answer. Try again in a moment.`);
    const redis = await connect(url, log);
    return { redis, where: "the running Hearth's Redis", close: async () => void (await redis.close()) };
  }
  const held = lock;
  try {
    const managed = await startManagedRedis(dataDir, log, {
      maxmemoryBytes: config.redisMaxmemoryBytes,
      staleRedisPid: held.stale?.redisPid,
      onChild: (pid) => held.recordRedis(pid),
    });
    // Ctrl+C while it runs: stop that Redis too (it flushes its data as it goes).
    const interrupted = () => {
      managed.abandon('SIGTERM');
      held.release();
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    try {
      const redis = await connect(managed.url, log);
      return {
        redis,
        where: `Hearth's Redis in DATA_DIR=${dataDir} (Hearth is not running; started and stopped again for this)`,
        close: async () => {
          await redis.close();
          await managed.stop();
          held.release();
        },
      };
    } catch (err) {
      await managed.stop();
      throw err;
    }
  } catch (err) {
    held.release();
    throw err;
  }
}

/** makeAdmin — the lines to print; throws {@link Failure} for an unknown username. */
async function makeAdmin(redis: RedisClient, username: string): Promise<string[]> {
  const users = new UserStore(redis);
  const adminLog = new AdminLog(redis);
  const user = await users.findByUsername(username);
  if (!user) throw new Failure(`no account is named "${username}". Use the username people sign in with.`);
  const who = personLabel(user);
  const lines: string[] = [];
  if (user.disabled) {
    await users.setRole(user.id, 'enable');
    await adminLog.append({ actor: ACTOR, action: 'enabled', target: who });
    lines.push(`Enabled ${who}: the account can sign in again.`);
  }
  if (user.isAdmin) {
    lines.push(`${who} is already an admin.`);
  } else {
    const result = await users.setRole(user.id, 'admin');
    if (result !== 'ok') throw new Failure(`${who} could not be made admin (${result}).`);
    await adminLog.append({ actor: ACTOR, action: 'made-admin', target: who });
    lines.push(`Made ${who} an admin. They see Admin in their menu the next time a page loads.`);
  }
  return lines;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const username = args[0]?.trim().toLowerCase() ?? '';
  if (args.length !== 1 || !username) throw new Failure('usage: npm run admin -- <username>', 64);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new Failure(err.message, 78);
    throw err;
  }
  // Only what goes wrong is logged (as JSON lines on stdout, like Hearth's own log).
  const log = createLogger(config.logLevel === 'silent' ? 'silent' : 'warn');
  const connection = await open(config, log);
  try {
    const lines = await makeAdmin(connection.redis, username);
    process.stdout.write(`Using ${connection.where}.\n${lines.join('\n')}\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  const failure = err instanceof Failure ? err : err instanceof ManagedRedisError ? new Failure(err.message) : new Failure(`unexpected error: ${(err as Error).message}`);
  process.stderr.write(`admin: ${failure.message}\n`);
  process.exit(failure.code);
});
