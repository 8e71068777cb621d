// Sessions as connect-redis keeps them (`sess:<id>`): the store express-session uses, and a direct read of one session.
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { RedisClient } from './redis.js';

const SESSION_PREFIX = 'sess:';

/** createSessionStore — the connect-redis store behind express-session. */
export function createSessionStore(redis: RedisClient): RedisStore {
  return new RedisStore({ client: redis, prefix: SESSION_PREFIX });
}

/** StoredSession — a session as Redis holds it, and how long until it expires (ms; -1 without an expiry). */
export interface StoredSession {
  data: Partial<SessionData>;
  ttlMs: number;
}

/**
 * readSession — session `sid` as Redis holds it right now, or null when it is gone or unreadable.
 * The TTL is the real idle expiry: rolling sessions only extend the key's TTL (connect-redis
 * `touch`), so the expiry date stored inside the session goes stale.
 */
export async function readSession(redis: RedisClient, sid: string): Promise<StoredSession | null> {
  const key = SESSION_PREFIX + sid;
  const [raw, ttlMs] = (await redis.multi().get(key).pTTL(key).exec()) as unknown as [string | null, number];
  if (!raw) return null;
  try {
    return { data: JSON.parse(raw) as Partial<SessionData>, ttlMs };
  } catch {
    return null;
  }
}

/** sessionsAlive — for each id, whether that session still exists. */
export async function sessionsAlive(redis: RedisClient, sids: readonly string[]): Promise<boolean[]> {
  if (sids.length === 0) return [];
  const multi = redis.multi();
  for (const sid of sids) multi.exists(SESSION_PREFIX + sid);
  return ((await multi.exec()) as unknown as number[]).map((n) => n === 1);
}
