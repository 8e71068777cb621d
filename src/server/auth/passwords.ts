// Password hashing with argon2id, with a small queue so a burst of sign-ins cannot exhaust the box.
import argon2 from 'argon2';
import pLimit from 'p-limit';

/**
 * ARGON2_OPTIONS — argon2id at OWASP's password-storage recommendation or above
 * (m = 19 MiB, t = 2, p = 1 is their floor; we use m = 19 MiB, t = 3).
 */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 3,
  parallelism: 1,
} as const;

/** PasswordBusyError — the hashing queue is full; the caller answers 503 and the user retries. */
export class PasswordBusyError extends Error {
  override name = 'PasswordBusyError';
}

export interface PasswordHasherOptions {
  /** Hashes computed at once (each takes ~19 MiB and one core for ~50 ms). */
  concurrency?: number;
  /** Requests allowed to wait; beyond this, fail fast rather than pile up. */
  maxQueued?: number;
}

/** PasswordHasher — hashes and verifies through a bounded queue. */
export class PasswordHasher {
  private readonly limit;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  // Hashes running or waiting. Counted here rather than read from p-limit, whose pending count
  // includes work about to start, so that maxQueued 0 means "run if a slot is free, never wait".
  private inFlight = 0;
  // A real hash to verify against when the username does not exist, so a wrong username
  // takes as long as a wrong password and does not reveal which accounts exist.
  private dummyHash: Promise<string> | null = null;

  constructor(opts: PasswordHasherOptions = {}) {
    this.concurrency = opts.concurrency ?? 2;
    this.maxQueued = opts.maxQueued ?? 32;
    this.limit = pLimit(this.concurrency);
  }

  hash(password: string): Promise<string> {
    return this.run(() => argon2.hash(password, ARGON2_OPTIONS));
  }

  /**
   * verify — true when `password` matches; `hash` null verifies against a dummy and is false.
   * Both go through the same queue and both fail with {@link PasswordBusyError} when it is full,
   * so "busy" cannot tell an existing username from an unknown one.
   */
  verify(hash: string | null, password: string): Promise<boolean> {
    if (hash === null) {
      return this.run(async () => {
        await argon2.verify(await this.dummy(), password).catch(() => false);
        return false;
      });
    }
    return this.run(() => argon2.verify(hash, password).catch(() => false));
  }

  /** needsRehash — true when `hash` was made with weaker or different parameters. */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_OPTIONS);
    } catch {
      return true;
    }
  }

  /** run — `fn` in a hashing slot, or PasswordBusyError at once when slots and queue are full. */
  protected run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.concurrency + this.maxQueued) {
      return Promise.reject(new PasswordBusyError('Too many sign-ins at once; try again in a moment.'));
    }
    this.inFlight++;
    return this.limit(fn).finally(() => {
      this.inFlight--;
    });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= argon2.hash('not-a-real-password', ARGON2_OPTIONS).catch((err: unknown) => {
      this.dummyHash = null; // try again next time rather than remember a failure
      throw err;
    });
    return this.dummyHash;
  }
}
