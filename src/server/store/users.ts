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
}

export interface UserWithHash extends User {
  passwordHash: string;
}

const userKey = (id: string) => `user:${id}`;
const nameKey = (username: string) => `user:name:${username.toLowerCase()}`;
const FIRST_ADMIN_KEY = 'meta:first-admin';

// Claims the name, writes the account and makes the very first account admin, all at once,
// so two racing registrations can neither share a name nor both become admin.
const CREATE_USER = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return -1 end
local admin = 0
if redis.call('SET', KEYS[3], ARGV[1], 'NX') then admin = 1 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'username', ARGV[2], 'displayName', ARGV[3],
  'passwordHash', ARGV[4], 'isAdmin', admin, 'createdAt', ARGV[5])
return admin`;

function toUser(h: Record<string, string>): UserWithHash | null {
  if (!h.id || !h.username || !h.passwordHash) return null;
  return {
    id: h.id,
    username: h.username,
    displayName: h.displayName ?? h.username,
    isAdmin: h.isAdmin === '1',
    createdAt: Number(h.createdAt ?? 0),
    passwordHash: h.passwordHash,
  };
}

/** UserStore — create and look up accounts. */
export class UserStore {
  constructor(private readonly redis: RedisClient) {}

  /** create — stores a new account; returns null when the username (any case) is taken. */
  async create(input: { username: string; displayName: string; passwordHash: string }): Promise<User | null> {
    const id = randomUUID();
    const username = input.username.toLowerCase();
    const createdAt = Date.now();
    const result = await this.redis.eval(CREATE_USER, {
      keys: [nameKey(username), userKey(id), FIRST_ADMIN_KEY],
      arguments: [id, username, input.displayName, input.passwordHash, String(createdAt)],
    });
    if (result === -1) return null;
    return { id, username, displayName: input.displayName, isAdmin: result === 1, createdAt };
  }

  async findByUsername(username: string): Promise<UserWithHash | null> {
    const id = await this.redis.get(nameKey(username));
    return id ? this.findWithHash(id) : null;
  }

  async findById(id: string): Promise<User | null> {
    const u = await this.findWithHash(id);
    if (!u) return null;
    const { passwordHash: _omit, ...user } = u;
    return user;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.redis.hSet(userKey(id), 'passwordHash', passwordHash);
  }

  private async findWithHash(id: string): Promise<UserWithHash | null> {
    return toUser(await this.redis.hGetAll(userKey(id)));
  }
}
