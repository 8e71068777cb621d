// Guess throttling in Redis (sign-in, room passcodes): slows guessing without letting anyone lock a user out for good.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { addressKey } from '../net/address.js';
import type { RedisClient } from '../store/redis.js';

/** ThrottleLimits — how many failures are tolerated before sign-in pauses. */
export interface ThrottleLimits {
  /** Consecutive failures for one username from one address, then a pause. */
  perUserAndIp: number;
  /** Failures from one address across all usernames per day. */
  perIpPerDay: number;
  /** How long the pause lasts, in seconds. */
  blockSeconds: number;
  /** New accounts from one address per hour (each costs a password hash). */
  registrationsPerHour: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { perUserAndIp: 5, perIpPerDay: 100, blockSeconds: 15 * 60, registrationsPerHour: 20 };

/** Attempt — a guess's outcome: `wait` > 0 means it was refused without being checked. */
export interface Attempt {
  ok: boolean;
  /** Seconds until another guess is allowed (0 when this one was checked). */
  wait: number;
}

/**
 * LoginThrottle — limits guesses per (subject, address) and per address.
 * Each guess is counted *before* it is checked, so guesses fired at once cannot all slip
 * past the limit; a right answer clears the pair and gives the address its point back.
 * Blocks are keyed on the address too (IPv6 by its /64, see addressKey), so an attacker
 * elsewhere cannot lock the owner out, and every block expires on its own.
 */
export class LoginThrottle {
  private readonly byUserAndIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;

  constructor(redis: RedisClient, prefix: string, limits: ThrottleLimits = DEFAULT_THROTTLE) {
    const common = { storeClient: redis, useRedisPackage: true, rejectIfRedisNotReady: true };
    this.byUserAndIp = new RateLimiterRedis({
      ...common, keyPrefix: `throttle:${prefix}:user-ip`, points: limits.perUserAndIp,
      duration: limits.blockSeconds, blockDuration: limits.blockSeconds,
    });
    // No blockDuration: a block would replace the day's window by a short one and hand out
    // a fresh day's guesses when it ends. Past the limit, the address waits for its day to end.
    this.byIp = new RateLimiterRedis({
      ...common, keyPrefix: `throttle:${prefix}:ip`, points: limits.perIpPerDay, duration: 24 * 3600,
    });
  }

  /**
   * check — reserves a guess for `subject` from `remoteAddress`, then runs `verify` only if the
   * reservation was granted. If `verify` throws (e.g. the hash queue is busy) the guess is
   * given back, since nothing was checked.
   */
  async check(subject: string, remoteAddress: string | undefined, verify: () => Promise<boolean>): Promise<Attempt> {
    const address = addressKey(remoteAddress);
    const pair = `${subject.toLowerCase()}|${address}`;
    const wait = await this.reserve(pair, address);
    if (wait > 0) return { ok: false, wait };
    let ok: boolean;
    try {
      ok = await verify();
    } catch (err) {
      await Promise.all([this.byUserAndIp.reward(pair, 1), this.byIp.reward(address, 1)]);
      throw err;
    }
    if (ok) await Promise.all([this.byUserAndIp.delete(pair), this.byIp.reward(address, 1)]);
    return { ok, wait: 0 };
  }

  /** reserve — takes a point from both limits; 0 when both granted, else seconds to wait. */
  private async reserve(pair: string, address: string): Promise<number> {
    const [a, b] = await Promise.allSettled([this.byUserAndIp.consume(pair), this.byIp.consume(address)]);
    let waitMs = 0;
    for (const r of [a, b]) {
      if (r.status === 'fulfilled') continue;
      if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
      waitMs = Math.max(waitMs, r.reason.msBeforeNext);
    }
    if (waitMs === 0) return 0;
    // A refused guess is not checked, so it must not use up the other limit either (the pair's
    // block would otherwise eat the whole address's daily allowance, or the reverse).
    if (a.status === 'fulfilled') await this.byUserAndIp.reward(pair, 1);
    if (b.status === 'fulfilled') await this.byIp.reward(address, 1);
    return Math.max(1, Math.ceil(waitMs / 1000));
  }
}
