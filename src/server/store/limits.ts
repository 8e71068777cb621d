// Rate limits kept in Redis (rate-limiter-flexible): every `throttle:*` key is made here.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limits, ThrottleLimits } from '../config.js';
import type { RedisClient } from './redis.js';

/**
 * RateLimit — `points` per `seconds` for each key, counted in Redis under `throttle:<name>:<key>`,
 * so every instance sees the same count. With `blockSeconds`, a key past its limit stays
 * refused that long.
 */
export class RateLimit {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: RedisClient, name: string, points: number, seconds: number, blockSeconds = 0) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis, useRedisPackage: true, rejectIfRedisNotReady: true,
      keyPrefix: `throttle:${name}`, points, duration: seconds, blockDuration: blockSeconds,
    });
  }

  /** take — counts one for `key`: 0 when allowed, else how many ms until it would be. Redis errors are thrown. */
  async take(key: string): Promise<number> {
    try {
      await this.limiter.consume(key);
      return 0;
    } catch (err) {
      if (err instanceof RateLimiterRes) return Math.max(1, err.msBeforeNext);
      throw err;
    }
  }

  /** giveBack — returns one point to `key` (what it counted was not used after all). */
  async giveBack(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }

  /** clear — forgets `key`'s count and any block. */
  async clear(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** GuessLimits — guesses at one secret: per (subject, address), then a pause; and per address per day. */
export interface GuessLimits {
  pair: RateLimit;
  address: RateLimit;
}

/** RateLimits — every rate limit Hearth keeps in Redis, by what it counts. */
export interface RateLimits {
  /** Sign-in guesses. */
  login: GuessLimits;
  /** Room passcode guesses. */
  passcode: GuessLimits;
  /** New accounts per address. */
  registrations: RateLimit;
  /** New rooms per person. */
  roomCreations: RateLimit;
  /** Rings per caller. */
  rings: RateLimit;
  /** Chat messages and file-ledger entries per person. */
  chat: RateLimit;
}

function guesses(redis: RedisClient, subject: 'login' | 'passcode', t: ThrottleLimits): GuessLimits {
  return {
    pair: new RateLimit(redis, `${subject}:user-ip`, t.perUserAndIp, t.blockSeconds, t.blockSeconds),
    // No block: a block would replace the day's window by a short one and hand out a fresh
    // day's guesses when it ends. Past the limit, the address waits for its day to end.
    address: new RateLimit(redis, `${subject}:ip`, t.perIpPerDay, 24 * 3600),
  };
}

/** createRateLimits — Hearth's rate limits with the numbers in `limits` (config.ts). */
export function createRateLimits(redis: RedisClient, limits: Limits): RateLimits {
  return {
    login: guesses(redis, 'login', limits.throttle),
    passcode: guesses(redis, 'passcode', limits.throttle),
    registrations: new RateLimit(redis, 'register', limits.throttle.registrationsPerHour, 3600),
    roomCreations: new RateLimit(redis, 'create-room', limits.roomsPerHour, 3600),
    rings: new RateLimit(redis, 'ring', limits.ringsPerMinute, 60),
    chat: new RateLimit(redis, 'chat', limits.chatPer10s, 10),
  };
}

/** globEscaped — `s` matched literally by a SCAN pattern. */
const globEscaped = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * forgetUserLimits — deletes every count named after a deleted account: those keyed by its id
 * (chat, rooms, rings, passcode and password guesses: `throttle:<name>:…<id>…`, whatever the
 * limit) and sign-in guesses at its username from any address. Counts per address stay.
 */
export async function forgetUserLimits(redis: RedisClient, user: { id: string; username: string }): Promise<number> {
  let deleted = 0;
  for (const match of [`throttle:*${globEscaped(user.id)}*`, `throttle:login:user-ip:${globEscaped(user.username.toLowerCase())}|*`]) {
    for await (const keys of redis.scanIterator({ MATCH: match, COUNT: 500 })) {
      if (keys.length > 0) deleted += await redis.del(keys);
    }
  }
  return deleted;
}
