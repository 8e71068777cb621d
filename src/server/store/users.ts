// Accounts in Redis: the only module that knows the user keys.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.js';

/** User — an account as the rest of the server sees it (never with its password hash). */
export interface User {
  id: string;
  username: string;
  displayName: string;
  isAdmin: boolean;
  createdAt: number;
  /** A disabled account cannot sign in; its sessions and sockets were ended when it was disabled. */
  disabled: boolean;
  /** The last page load or socket of this account (ms), 0 when never seen since this was recorded. */
  lastSeenAt: number;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

const userKey = (id: string) => `user:${id}`;
const nameKey = (username: string) => `user:name:${username.toLowerCase()}`;
const FIRST_ADMIN_KEY = 'meta:first-admin';
/** Every account id, scored by creation time (the admin page lists them). */
const ALL_USERS = 'users:all';
/** The ids of admin accounts (so "never the last admin" is one atomic check). */
const ADMINS = 'users:admins';
/** Set once the two index sets above have been built from the accounts (older data lacks them). */
const INDEX_BUILT = 'meta:user-index';

// Claims the name, writes the account and makes the very first account admin, all at once,
// so two racing registrations can neither share a name nor both become admin.
const CREATE_USER = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return -1 end
local admin = 0
if redis.call('SET', KEYS[3], ARGV[1], 'NX') then admin = 1 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'username', ARGV[2], 'displayName', ARGV[3],
  'passwordHash', ARGV[4], 'isAdmin', admin, 'createdAt', ARGV[5], 'disabled', 0, 'lastSeenAt', ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
if admin == 1 then redis.call('SADD', KEYS[5], ARGV[1]) end
return admin`;

// True when account `id` (hash `userKey`) is an enabled admin and no other admin in `admins` is enabled.
const ONLY_ENABLED_ADMIN = `
local function onlyEnabledAdmin(userKey, admins, id)
  if redis.call('SISMEMBER', admins, id) == 0 or redis.call('HGET', userKey, 'disabled') == '1' then return false end
  for _, other in ipairs(redis.call('SMEMBERS', admins)) do
    if other ~= id and redis.call('HGET', 'user:' .. other, 'disabled') ~= '1' then return false end
  end
  return true
end
`;

// Grants or removes admin; removing (or disabling, or deleting) the only enabled admin is refused
// atomically, so two admins demoting each other at once cannot leave Hearth without one.
// ARGV[2]: 'admin' | 'demote' | 'disable' | 'enable'. Returns 1 done, 0 no such user, -2 last admin.
const SET_ROLE = ONLY_ENABLED_ADMIN + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local op = ARGV[2]
if op == 'demote' or op == 'disable' then
  if onlyEnabledAdmin(KEYS[1], KEYS[2], ARGV[1]) then return -2 end
end
if op == 'admin' then redis.call('HSET', KEYS[1], 'isAdmin', 1); redis.call('SADD', KEYS[2], ARGV[1]) end
if op == 'demote' then redis.call('HSET', KEYS[1], 'isAdmin', 0); redis.call('SREM', KEYS[2], ARGV[1]) end
if op == 'disable' then redis.call('HSET', KEYS[1], 'disabled', 1) end
if op == 'enable' then redis.call('HSET', KEYS[1], 'disabled', 0) end
return 1`;

// Deletes an account unless it is the only enabled admin while other accounts remain (then -2).
const REMOVE_USER = ONLY_ENABLED_ADMIN + `
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return 0 end
local rec = {}
for i = 1, #h, 2 do rec[h[i]] = h[i + 1] end
if redis.call('ZCARD', KEYS[3]) > 1 and onlyEnabledAdmin(KEYS[1], KEYS[2], ARGV[1]) then return -2 end
redis.call('DEL', KEYS[1])
if rec['username'] and redis.call('GET', 'user:name:' .. rec['username']) == ARGV[1] then redis.call('DEL', 'user:name:' .. rec['username']) end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
-- The first-admin marker must stay while accounts remain (a newcomer must not become admin),
-- but it must not keep a deleted account's id.
if redis.call('GET', KEYS[4]) == ARGV[1] then
  if redis.call('ZCARD', KEYS[3]) == 0 then redis.call('DEL', KEYS[4]) else redis.call('SET', KEYS[4], 'deleted') end
end
return 1`;

function toUser(h: Record<string, string>): UserWithHash | null {
  if (!h.id || !h.username || !h.passwordHash) return null;
  return {
    id: h.id,
    username: h.username,
    displayName: h.displayName ?? h.username,
    isAdmin: h.isAdmin === '1',
    createdAt: Number(h.createdAt ?? 0),
    disabled: h.disabled === '1',
    lastSeenAt: Number(h.lastSeenAt ?? 0),
    passwordHash: h.passwordHash,
  };
}

const withoutHash = ({ passwordHash: _omit, ...user }: UserWithHash): User => user;

/** RoleChange — what {@link UserStore.setRole} may do to an account. */
export type RoleChange = 'admin' | 'demote' | 'disable' | 'enable';
/** RoleResult — done, no such account, or refused because it would leave no enabled admin. */
export type RoleResult = 'ok' | 'not-found' | 'last-admin';

/** UserStore — create, look up, change and delete accounts. */
export class UserStore {
  constructor(private readonly redis: RedisClient) {}

  /** create — stores a new account; returns null when the username (any case) is taken. */
  async create(input: { username: string; displayName: string; passwordHash: string }): Promise<User | null> {
    const id = randomUUID();
    const username = input.username.toLowerCase();
    const createdAt = Date.now();
    const result = await this.redis.eval(CREATE_USER, {
      keys: [nameKey(username), userKey(id), FIRST_ADMIN_KEY, ALL_USERS, ADMINS],
      arguments: [id, username, input.displayName, input.passwordHash, String(createdAt)],
    });
    if (result === -1) return null;
    return { id, username, displayName: input.displayName, isAdmin: result === 1, createdAt, disabled: false, lastSeenAt: createdAt };
  }

  async findByUsername(username: string): Promise<UserWithHash | null> {
    const id = await this.redis.get(nameKey(username));
    return id ? this.findWithHash(id) : null;
  }

  async findById(id: string): Promise<User | null> {
    const u = await this.findWithHash(id);
    return u ? withoutHash(u) : null;
  }

  /** findWithHash — the account with its password hash (to check a password it is changing). */
  async findWithHash(id: string): Promise<UserWithHash | null> {
    return toUser(await this.redis.hGetAll(userKey(id)));
  }

  /** list — every account, oldest first. */
  async list(): Promise<User[]> {
    await this.ensureIndex();
    const ids = await this.redis.zRange(ALL_USERS, 0, -1);
    if (ids.length === 0) return [];
    const multi = this.redis.multi();
    for (const id of ids) multi.hGetAll(userKey(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    return rows.map(toUser).filter((u): u is UserWithHash => u !== null).map(withoutHash);
  }

  /** count — how many accounts there are. */
  async count(): Promise<number> {
    await this.ensureIndex();
    return this.redis.zCard(ALL_USERS);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.redis.hSet(userKey(id), 'passwordHash', passwordHash);
  }

  /** setDisplayName — false when the account does not exist (it is never re-created). */
  async setDisplayName(id: string, displayName: string): Promise<boolean> {
    const multi = this.redis.multi().exists(userKey(id));
    const [exists] = (await multi.exec()) as unknown as [number];
    if (!exists) return false;
    await this.redis.hSet(userKey(id), 'displayName', displayName);
    return true;
  }

  /** setRole — make or remove admin, disable or enable; never leaves Hearth without an enabled admin. */
  async setRole(id: string, change: RoleChange): Promise<RoleResult> {
    await this.ensureIndex();
    const r = await this.redis.eval(SET_ROLE, { keys: [userKey(id), ADMINS], arguments: [id, change] });
    return r === 1 ? 'ok' : r === -2 ? 'last-admin' : 'not-found';
  }

  /** touch — records that the account was just seen (page load, socket). */
  async touch(id: string, at = Date.now()): Promise<void> {
    // HSET only on an existing account: a deleted one must not come back as a stub.
    await this.redis.eval(`if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1]) end return 0`,
      { keys: [userKey(id)], arguments: [String(at)] });
  }

  /** remove — deletes the account record and its username; refuses to delete the only enabled admin while others remain. */
  async remove(id: string): Promise<RoleResult> {
    await this.ensureIndex();
    const r = await this.redis.eval(REMOVE_USER, { keys: [userKey(id), ADMINS, ALL_USERS, FIRST_ADMIN_KEY], arguments: [id] });
    return r === 1 ? 'ok' : r === -2 ? 'last-admin' : 'not-found';
  }

  /**
   * ensureIndex — builds the account list and admin set from the accounts themselves once
   * (data written before they existed); cheap afterwards.
   */
  async ensureIndex(): Promise<void> {
    if (await this.redis.exists(INDEX_BUILT)) return;
    for await (const keys of this.redis.scanIterator({ MATCH: 'user:name:*', COUNT: 500 })) {
      for (const key of keys) {
        const id = await this.redis.get(key);
        if (!id) continue;
        const u = await this.findWithHash(id);
        if (!u) continue;
        await this.redis.zAdd(ALL_USERS, { score: u.createdAt, value: id });
        if (u.isAdmin) await this.redis.sAdd(ADMINS, id);
      }
    }
    await this.redis.set(INDEX_BUILT, '1');
  }
}
