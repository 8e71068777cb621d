// Guess throttling in Redis (sign-in, room passcodes): slows guessing without letting anyone lock a user out for good.
import { addressKey } from '../net/address.js';
import type { GuessLimits } from '../store/limits.js';


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
  constructor(private readonly limits: GuessLimits) {}

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
    const limits = this.limits;
    let ok: boolean;
    try {
      ok = await verify();
    } catch (err) {
      await Promise.all([limits.pair.giveBack(pair), limits.address.giveBack(address)]);
      throw err;
    }
    if (ok) await Promise.all([limits.pair.clear(pair), limits.address.giveBack(address)]);
    return { ok, wait: 0 };
  }

  /** reserve — takes a point from both limits; 0 when both granted, else seconds to wait. */
  private async reserve(pair: string, address: string): Promise<number> {
    const limits = this.limits;
    const [a, b] = await Promise.allSettled([limits.pair.take(pair), limits.address.take(address)]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    const waitMs = Math.max(a.value, b.value);
    if (waitMs === 0) return 0;
    // A refused guess is not checked, so it must not use up the other limit either (the pair's
    // block would otherwise eat the whole address's daily allowance, or the reverse).
    if (a.value === 0) await limits.pair.giveBack(pair);
    if (b.value === 0) await limits.address.giveBack(address);
    return Math.max(1, Math.ceil(waitMs / 1000));
  }
}
