// Invite links in Redis: only a hash of each token is kept, uses are taken atomically, and a used-up link is remembered for a while.
import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';

/** MAX_LIVE_INVITES — invite links that may exist at once. */
export const MAX_LIVE_INVITES = 100;
/** MAX_INVITE_USES — accounts one link may create. */
export const MAX_INVITE_USES = 100;
/** INVITE_EXPIRIES — how long a link may live, as the Admin page offers it (seconds). */
export const INVITE_EXPIRIES = { '1h': 3600, '1d': 86_400, '7d': 7 * 86_400, '30d': 30 * 86_400 } as const;
export type InviteExpiry = keyof typeof INVITE_EXPIRIES;

/** How long a used-up link is remembered, so its page can say "used" rather than "not valid". */
const USED_MARKER_SECONDS = 7 * 86_400;

/** Invite — a live link as the Admin page lists it (never its token: only the hash is stored). */
export interface Invite {
  /** The token's SHA-256 (hex): names the link in Revoke forms; cannot be turned back into the link. */
  id: string;
  usesLeft: number;
  uses: number;
  createdAt: number;
  expiresAt: number;
  /** Who made it, as "Display Name (username)" at the time. */
  createdBy: string;
}

/** InviteState — what a token is worth right now. */
export type InviteState = 'valid' | 'used' | 'unknown';

const inviteKey = (id: string) => `invite:${id}`;
const usedKey = (id: string) => `invite:used:${id}`;
/** Live invite ids scored by expiry: the list, and the cap. */
const LIVE = 'invites:live';

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const ID_PATTERN = /^[0-9a-f]{64}$/;

// Forgets expired ids (and any whose link is gone), then adds one unless MAX_LIVE_INVITES are
// live: 1 made, 0 refused.
const CREATE = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', 'invite:' .. id) == 0 then redis.call('ZREM', KEYS[2], id) end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'usesLeft', ARGV[3], 'uses', ARGV[3], 'createdAt', ARGV[1], 'expiresAt', ARGV[4], 'createdBy', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
return 1`;

// Takes one use: the uses left (0 = that was the last; the link is gone and marked used),
// -1 unknown or expired, -2 used up. One script, so racing registrations cannot share a use.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
  return -1
end
local left = redis.call('HINCRBY', KEYS[1], 'usesLeft', -1)
if left <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
  return 0
end
return left`;

// Gives a taken use back (the account could not be made after all), restoring a link the use
// had used up unless it has expired meanwhile.
const GIVE_BACK = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'usesLeft', 1) return 1 end
if tonumber(ARGV[2]) <= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'usesLeft', 1, 'uses', ARGV[4], 'createdAt', ARGV[5], 'expiresAt', ARGV[2], 'createdBy', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

function toInvite(id: string, h: Record<string, string>): Invite | null {
  if (!h.expiresAt) return null;
  return {
    id,
    usesLeft: Number(h.usesLeft ?? 0),
    uses: Number(h.uses ?? 0),
    createdAt: Number(h.createdAt ?? 0),
    expiresAt: Number(h.expiresAt),
    createdBy: h.createdBy ?? '',
  };
}

/** InviteStore — make, list, revoke and use invite links. */
export class InviteStore {
  constructor(private readonly redis: RedisClient) {}

  /** create — a new link's token (shown once) and id, or null when MAX_LIVE_INVITES are live. */
  async create(input: { uses: number; expiry: InviteExpiry; createdBy: string }): Promise<{ token: string; id: string } | null> {
    const token = randomBytes(16).toString('base64url'); // 128 bits
    const id = hashToken(token);
    const now = Date.now();
    const expiresAt = now + INVITE_EXPIRIES[input.expiry] * 1000;
    const made = await this.redis.eval(CREATE, {
      keys: [inviteKey(id), LIVE],
      arguments: [String(now), String(MAX_LIVE_INVITES), String(input.uses), String(expiresAt), input.createdBy, id],
    });
    return made === 1 ? { token, id } : null;
  }

  /** list — live links, the soonest to expire first. */
  async list(): Promise<Invite[]> {
    const now = Date.now();
    await this.redis.zRemRangeByScore(LIVE, '-inf', now);
    const ids = await this.redis.zRange(LIVE, 0, -1);
    if (ids.length === 0) return [];
    const multi = this.redis.multi();
    for (const id of ids) multi.hGetAll(inviteKey(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    const gone = ids.filter((_, i) => !rows[i]?.expiresAt);
    if (gone.length) await this.redis.zRem(LIVE, gone);
    return ids.map((id, i) => toInvite(id, rows[i] ?? {})).filter((x): x is Invite => x !== null && x.expiresAt > now);
  }

  /** get — one live link by id (the Admin page's Revoke), or null. */
  async get(id: string): Promise<Invite | null> {
    if (!ID_PATTERN.test(id)) return null;
    return toInvite(id, await this.redis.hGetAll(inviteKey(id)));
  }

  /** revoke — deletes a live link; false when there was none. */
  async revoke(id: string): Promise<boolean> {
    if (!ID_PATTERN.test(id)) return false;
    const [deleted] = (await this.redis.multi().del(inviteKey(id)).zRem(LIVE, id).exec()) as unknown as [number];
    return deleted === 1;
  }

  /** state — whether `token` would let someone register now (nothing is taken). */
  async state(token: string): Promise<InviteState> {
    if (!TOKEN_PATTERN.test(token)) return 'unknown';
    const id = hashToken(token);
    const [live, used] = (await this.redis.multi().exists(inviteKey(id)).exists(usedKey(id)).exec()) as unknown as [number, number];
    return live ? 'valid' : used ? 'used' : 'unknown';
  }

  /** consume — takes one use of `token` atomically: what was taken (to give back), or why not. */
  async consume(token: string): Promise<Invite | 'used' | 'unknown'> {
    if (!TOKEN_PATTERN.test(token)) return 'unknown';
    const id = hashToken(token);
    // Read first only to be able to give the use back; the script alone decides.
    const before = toInvite(id, await this.redis.hGetAll(inviteKey(id)));
    const left = await this.redis.eval(CONSUME, { keys: [inviteKey(id), usedKey(id), LIVE], arguments: [id, String(USED_MARKER_SECONDS)] }) as number;
    if (left === -2) return 'used';
    if (left < 0 || !before) return 'unknown';
    return { ...before, usesLeft: left };
  }

  /** giveBack — returns a use {@link consume} took (the account was not made after all). */
  async giveBack(invite: Invite): Promise<void> {
    await this.redis.eval(GIVE_BACK, {
      keys: [inviteKey(invite.id), usedKey(invite.id), LIVE],
      arguments: [invite.id, String(invite.expiresAt), String(Date.now()), String(invite.uses), String(invite.createdAt), invite.createdBy],
    });
  }
}
