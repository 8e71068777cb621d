// Sign-in throttling in Redis: slows guessing without letting anyone lock a user out for good.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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

/**
 * LoginThrottle — counts failures per (username, address) and per address.
 * Blocks are keyed on the address too, so an attacker elsewhere cannot lock the owner out,
 * and every block expires on its own.
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
    this.byIp = new RateLimiterRedis({
      ...common, keyPrefix: `throttle:${prefix}:ip`, points: limits.perIpPerDay,
      duration: 24 * 3600, blockDuration: limits.blockSeconds,
    });
  }

  /** retryAfter — seconds until another attempt is allowed, or 0 when it is allowed now. */
  async retryAfter(username: string, ip: string): Promise<number> {
    const [a, b] = await Promise.all([this.byUserAndIp.get(this.key(username, ip)), this.byIp.get(ip)]);
    const waits = [
      a && a.consumedPoints >= this.byUserAndIp.points ? a.msBeforeNext : 0,
      b && b.consumedPoints >= this.byIp.points ? b.msBeforeNext : 0,
    ];
    return Math.ceil(Math.max(...waits) / 1000);
  }

  /** fail — records a failed attempt; returns the seconds to wait if this one tipped a limit. */
  async fail(username: string, ip: string): Promise<number> {
    const results = await Promise.allSettled([this.byUserAndIp.consume(this.key(username, ip)), this.byIp.consume(ip)]);
    let wait = 0;
    for (const r of results) {
      if (r.status === 'rejected') {
        if (r.reason instanceof RateLimiterRes) wait = Math.max(wait, Math.ceil(r.reason.msBeforeNext / 1000));
        else throw r.reason;
      }
    }
    return wait;
  }

  /** succeed — a right answer clears the per-user counter for that address. */
  async succeed(username: string, ip: string): Promise<void> {
    await this.byUserAndIp.delete(this.key(username, ip));
  }

  private key(username: string, ip: string): string {
    return `${username.toLowerCase()}|${ip}`;
  }
}
