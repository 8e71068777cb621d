// Which sessions each account has open ("Signed-in devices"), in Redis: the only module that knows this key.
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';
import { sessionsAlive } from './sessions.js';

/** DeviceSession — one signed-in browser of an account, as the Account page lists it. */
export interface DeviceSession {
  /** A public handle for the session (the session id itself never leaves the server). */
  deviceId: string;
  sid: string;
  userAgent: string;
  address: string;
  signedInAt: number;
  lastSeenAt: number;
}

const indexKey = (userId: string) => `user:${userId}:sessions`;
const USER_AGENT_MAX = 300;

/** MAX_SESSIONS_PER_USER — beyond this many signed-in browsers, signing in ends the least recently used one. */
export const MAX_SESSIONS_PER_USER = 32;

function parse(deviceId: string, raw: string): DeviceSession | null {
  try {
    const d = JSON.parse(raw) as Partial<DeviceSession>;
    if (typeof d.sid !== 'string') return null;
    return {
      deviceId, sid: d.sid, userAgent: String(d.userAgent ?? ''), address: String(d.address ?? ''),
      signedInAt: Number(d.signedInAt ?? 0), lastSeenAt: Number(d.lastSeenAt ?? 0),
    };
  } catch {
    return null;
  }
}

/** UserSessionIndex — per account: device id → session id, browser, address, times. */
export class UserSessionIndex {
  constructor(private readonly redis: RedisClient) {}

  /** add — records a new session of `userId`; returns its device id. */
  async add(userId: string, s: Omit<DeviceSession, 'deviceId'>): Promise<string> {
    const deviceId = randomBytes(12).toString('base64url');
    await this.write(userId, { ...s, deviceId, userAgent: s.userAgent.slice(0, USER_AGENT_MAX) });
    return deviceId;
  }

  /** touch — the device was just used (from address); a forgotten device is not re-created. */
  async touch(userId: string, deviceId: string, address: string, at = Date.now()): Promise<void> {
    const raw = await this.redis.hGet(indexKey(userId), deviceId);
    const d = raw ? parse(deviceId, raw) : null;
    if (!d) return;
    await this.write(userId, { ...d, address, lastSeenAt: at });
  }

  /** list — the account's sessions that still exist, most recently used first (ended ones are pruned). */
  async list(userId: string): Promise<DeviceSession[]> {
    const all = await this.redis.hGetAll(indexKey(userId));
    const parsed = Object.entries(all).map(([id, raw]) => ({ id, d: parse(id, raw) }));
    const alive = await sessionsAlive(this.redis, parsed.map((p) => p.d?.sid ?? ''));
    const gone = parsed.filter((p, i) => !p.d || !alive[i]).map((p) => p.id);
    if (gone.length > 0) await this.redis.hDel(indexKey(userId), gone);
    return parsed.filter((p, i) => p.d && alive[i]).map((p) => p.d!).sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  }

  async get(userId: string, deviceId: string): Promise<DeviceSession | null> {
    const raw = await this.redis.hGet(indexKey(userId), deviceId);
    return raw ? parse(deviceId, raw) : null;
  }

  async remove(userId: string, deviceId: string): Promise<void> {
    await this.redis.hDel(indexKey(userId), deviceId);
  }

  /** forget — drops the whole index of an account (deleted accounts). */
  async forget(userId: string): Promise<void> {
    await this.redis.del(indexKey(userId));
  }

  private async write(userId: string, d: DeviceSession): Promise<void> {
    const { deviceId, ...rest } = d;
    await this.redis.hSet(indexKey(userId), deviceId, JSON.stringify(rest));
  }
}
