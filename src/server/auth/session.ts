// Cookie sessions stored in Redis, with an idle timeout and an absolute lifetime.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RedisStore } from 'connect-redis';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { Config } from '../config.js';
import type { RedisClient } from '../store/redis.js';
import { createSessionStore, readSession } from '../store/sessions.js';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** When the user signed in (ms); the session ends SESSION_MAX_DAYS later whatever happens. */
    signedInAt?: number;
    /** Rooms whose passcode this session has entered (slug → true). */
    roomAccess?: Record<string, true>;
  }
}

/** SESSION_COOKIE — `__Host-` makes the browser insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-hearth';

/** Sessions — the cookie-parsing middleware and the store behind it (the WebSocket side re-reads sessions). */
export interface Sessions {
  parser: RequestHandler;
  store: RedisStore;
}

/**
 * createSessions — express-session on connect-redis with Hearth's cookie rules. `onEnd` hears
 * of every session destroyed here (sign-out, sign-in's fresh id, the absolute lifetime), so
 * that session's sockets can close at once.
 */
export function createSessions(config: Config, redis: RedisClient, secret: string, onEnd: (sid: string) => void = () => {}): Sessions {
  const store = createSessionStore(redis);
  const destroy = store.destroy.bind(store);
  store.destroy = async (sid: string, cb?: (err?: unknown) => void) => {
    try {
      await destroy(sid);
    } catch (err) {
      cb?.(err);
      return;
    }
    onEnd(sid);
    cb?.();
  };
  const parser = session({
    name: SESSION_COOKIE,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    // rolling: every response pushes the expiry forward, so maxAge is an idle timeout.
    rolling: true,
    cookie: {
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: config.sessionIdleMinutes * 60_000,
    },
  });
  return { parser, store };
}

/** loadSession — the current contents of session `sid`, or null when it has ended. */
export function loadSession(store: RedisStore, sid: string): Promise<session.SessionData | null> {
  return new Promise((resolve, reject) => {
    store.get(sid, (err: unknown, data: session.SessionData | null | undefined) => (err ? reject(err) : resolve(data ?? null)));
  });
}

/** SessionStatus — whose a stored session is, and when it ends unless renewed. */
export interface SessionStatus {
  userId: string | null;
  /** The earlier of the idle expiry (the key's TTL) and the absolute lifetime; ms since the epoch. */
  endsAt: number;
}

/**
 * sessionStatus — reads a session as Redis holds it right now, or null when it has ended.
 * The idle expiry comes from the key's TTL, not the stored cookie (see readSession).
 */
export async function sessionStatus(redis: RedisClient, config: Config, sid: string, now = Date.now()): Promise<SessionStatus | null> {
  const stored = await readSession(redis, sid);
  if (!stored) return null;
  const { data, ttlMs } = stored;
  const absolute = data.signedInAt ? data.signedInAt + config.sessionMaxDays * 24 * 3600_000 : now;
  const idle = ttlMs > 0 ? now + ttlMs : Number.POSITIVE_INFINITY;
  return { userId: data.userId ?? null, endsAt: Math.min(absolute, idle) };
}

/** signedInTooLongAgo — true when a session is past SESSION_MAX_DAYS (or never recorded its sign-in). */
export function signedInTooLongAgo(s: Partial<session.SessionData>, config: Config, now = Date.now()): boolean {
  return !s.signedInAt || now - s.signedInAt > config.sessionMaxDays * 24 * 3600_000;
}

/** enforceAbsoluteLifetime — ends sessions older than SESSION_MAX_DAYS, however active. */
export function enforceAbsoluteLifetime(config: Config): RequestHandler {
  return (req, _res, next) => {
    const s = req.session;
    if (s?.userId && signedInTooLongAgo(s, config)) {
      s.destroy((err) => next(err));
      return;
    }
    next();
  };
}

/** loadSessionSecret — SESSION_SECRET if set (config.sessionSecret), else a random secret kept in DATA_DIR across restarts. */
export async function loadSessionSecret(dataDir: string, fromConfig: string | null): Promise<string> {
  if (fromConfig) return fromConfig;
  const file = path.join(dataDir, 'session-secret');
  try {
    const s = (await fs.readFile(file, 'utf8')).trim();
    if (s.length >= 32) return s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('base64url');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}
