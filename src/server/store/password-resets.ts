// Password reset links an admin hands over: one live link per account, 24 hours, usable once; only a hash of the token is kept.
import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';

/** RESET_LINK_SECONDS — how long a reset link works. */
const RESET_LINK_SECONDS = 24 * 3600;

const resetKey = (hash: string) => `reset:${hash}`;
/** The account's live link (its hash), so a new link replaces the old one. */
const accountKey = (userId: string) => `reset:user:${userId}`;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// Replaces the account's live link (if any) with a new one, both for RESET_LINK_SECONDS.
const CREATE = `
local old = redis.call('GET', KEYS[2])
if old then redis.call('DEL', 'reset:' .. old) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`;

// Uses the link: the account id, once; false when it is unknown, used or expired.
const CONSUME = `
local userId = redis.call('GET', KEYS[1])
if not userId then return false end
redis.call('DEL', KEYS[1])
local current = 'reset:user:' .. userId
if redis.call('GET', current) == ARGV[1] then redis.call('DEL', current) end
return userId`;

/** PasswordResetStore — make, look at and use reset links. */
export class PasswordResetStore {
  constructor(private readonly redis: RedisClient) {}

  /** create — a new link's token for `userId` (shown once); any older link of theirs stops working. */
  async create(userId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const hash = hashToken(token);
    await this.redis.eval(CREATE, { keys: [resetKey(hash), accountKey(userId)], arguments: [userId, hash, String(RESET_LINK_SECONDS)] });
    return token;
  }

  /** userOf — the account a live link is for (nothing is used up), or null. */
  async userOf(token: string): Promise<string | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    return this.redis.get(resetKey(hashToken(token)));
  }

  /** consume — uses the link atomically: the account id the first time, null ever after. */
  async consume(token: string): Promise<string | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const hash = hashToken(token);
    const userId = await this.redis.eval(CONSUME, { keys: [resetKey(hash)], arguments: [hash] });
    return typeof userId === 'string' ? userId : null;
  }

  /** forget — drops the account's live link (a deleted account leaves no key behind). */
  async forget(userId: string): Promise<void> {
    await this.redis.eval(`
local h = redis.call('GET', KEYS[1])
if h then redis.call('DEL', 'reset:' .. h) end
redis.call('DEL', KEYS[1])
return 1`, { keys: [accountKey(userId)] });
  }
}
