// Ringing state in Redis: one record per call, transitions made atomically, missed calls and Do not disturb.
import { randomBytes } from 'node:crypto';
import type { CallState, MissedCall } from '../../shared/protocol.js';
import type { RedisClient } from './redis.js';

/** Call — one ring from a caller to a callee. */
export interface Call {
  callId: string;
  /** The caller's tab: updates go there. */
  callerPeerId: string;
  callerId: string;
  callerName: string;
  calleeId: string;
  calleeName: string;
  /** The room the callee is rung into; null means a new private call room on accept. */
  room: string | null;
  state: CallState;
  expiresAt: number;
}

const callKey = (id: string) => `call:${id}`;
const ringingKey = (userId: string) => `user:${userId}:ringing`;
const missedKey = (userId: string) => `user:${userId}:missed`;
const dndKey = (userId: string) => `user:${userId}:dnd`;
const RINGING = 'calls:ringing';
const joinKey = (token: string) => `join:${token}`;
/** How long the link to an accepted call's room joins by itself. */
const JOIN_TOKEN_TTL_S = 120;
const MISSED_MAX = 50;
// A finished call's record is kept a little while so late answers get a clear "ended".
const ENDED_TTL_S = 120;

// ringing → state, only if it is still ringing; frees the callee's "ringing" slot. Returns 1 if
// this call made the transition (so exactly one tab/instance acts on it), else 0.
const TRANSITION = `
if redis.call('HGET', KEYS[1], 'state') ~= 'ringing' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return 1`;

// Starts ringing unless the callee is already being rung (then returns 0: busy).
const START = `
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) == false then return 0 end
redis.call('HSET', KEYS[1], 'callId', ARGV[1], 'callerId', ARGV[4], 'callerName', ARGV[5], 'calleeId', ARGV[6],
  'calleeName', ARGV[7], 'room', ARGV[8], 'state', 'ringing', 'expiresAt', ARGV[2], 'callerPeerId', ARGV[9])
redis.call('PEXPIRE', KEYS[1], ARGV[3] + 120000)
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1`;

function toCall(h: Record<string, string>): Call | null {
  if (!h.callId || !h.callerId || !h.calleeId) return null;
  return {
    callId: h.callId,
    callerPeerId: h.callerPeerId ?? '',
    callerId: h.callerId,
    callerName: h.callerName ?? '',
    calleeId: h.calleeId,
    calleeName: h.calleeName ?? '',
    room: h.room || null,
    state: (h.state ?? 'ringing') as CallState,
    expiresAt: Number(h.expiresAt ?? 0),
  };
}

/** CallStore — the single source of truth for rings, shared by every instance. */
export class CallStore {
  constructor(private readonly redis: RedisClient) {}

  /** start — a new ringing call, or null when the callee is already being rung. */
  async start(input: Omit<Call, 'callId' | 'state' | 'expiresAt'>, timeoutMs: number): Promise<Call | null> {
    const callId = randomBytes(12).toString('base64url');
    const expiresAt = Date.now() + timeoutMs;
    const ok = await this.redis.eval(START, {
      keys: [callKey(callId), ringingKey(input.calleeId), RINGING],
      arguments: [callId, String(expiresAt), String(timeoutMs), input.callerId, input.callerName, input.calleeId, input.calleeName, input.room ?? '', input.callerPeerId],
    });
    return ok === 1 ? { ...input, callId, state: 'ringing', expiresAt } : null;
  }

  async get(callId: string): Promise<Call | null> {
    return toCall(await this.redis.hGetAll(callKey(callId)));
  }

  /** finish — ringing → `state`; false when the call had already ended (someone else won). */
  async finish(call: Call, state: Exclude<CallState, 'ringing'>): Promise<boolean> {
    const r = await this.redis.eval(TRANSITION, {
      keys: [callKey(call.callId), RINGING, ringingKey(call.calleeId)],
      arguments: [state, call.callId, String(ENDED_TTL_S)],
    });
    return r === 1;
  }

  /** expired — ringing calls past their deadline (any instance may finish them; one wins). */
  async expired(now = Date.now()): Promise<Call[]> {
    const ids = await this.redis.zRangeByScore(RINGING, '-inf', now);
    const calls = await Promise.all(ids.map((id) => this.get(id)));
    // A record that vanished (TTL) still needs its index entry removed.
    const gone = ids.filter((_, i) => !calls[i]);
    if (gone.length) await this.redis.zRem(RINGING, gone);
    return calls.filter((c): c is Call => c !== null && c.state === 'ringing');
  }

  /** ringingFor — the call ringing this user right now, if any. */
  async ringingFor(userId: string): Promise<Call | null> {
    const id = await this.redis.get(ringingKey(userId));
    return id ? this.get(id) : null;
  }

  // ---- joining an accepted call -------------------------------------------------------------

  /**
   * grantJoin — a one-time token that lets `userId` open `slug` and take a seat at once (the
   * camera turns on without another click, which only an accepted ring may do).
   */
  async grantJoin(userId: string, slug: string): Promise<string> {
    const token = randomBytes(16).toString('base64url');
    await this.redis.set(joinKey(token), `${userId} ${slug}`, { EX: JOIN_TOKEN_TTL_S });
    return token;
  }

  /** takeJoin — true once for a token granted to `userId` for `slug`; it is used up either way. */
  async takeJoin(token: string, userId: string, slug: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{22}$/.test(token)) return false;
    return (await this.redis.getDel(joinKey(token))) === `${userId} ${slug}`;
  }

  // ---- missed calls and Do not disturb ---------------------------------------------------

  async addMissed(userId: string, call: Call): Promise<void> {
    const entry: MissedCall = { id: call.callId, from: { userId: call.callerId, displayName: call.callerName }, ts: Date.now() };
    await this.redis.multi().lPush(missedKey(userId), JSON.stringify(entry)).lTrim(missedKey(userId), 0, MISSED_MAX - 1).exec();
  }

  async missed(userId: string): Promise<MissedCall[]> {
    const rows = await this.redis.lRange(missedKey(userId), 0, -1);
    return rows.flatMap((r) => {
      try {
        const m = JSON.parse(r) as MissedCall & { from: { id?: string } };
        // Entries stored by an older Hearth name the caller `from.id`.
        return [m.from.userId ? m : { ...m, from: { userId: m.from.id ?? '', displayName: m.from.displayName } }];
      } catch {
        return [];
      }
    });
  }

  /** dismissMissed — true when an entry with that id was removed. */
  async dismissMissed(userId: string, id: string): Promise<boolean> {
    const rows = await this.redis.lRange(missedKey(userId), 0, -1);
    const raw = rows.find((r) => {
      try {
        return (JSON.parse(r) as MissedCall).id === id;
      } catch {
        return false;
      }
    });
    // LREM by the exact stored value removes that entry and no other.
    return raw ? (await this.redis.lRem(missedKey(userId), 1, raw)) > 0 : false;
  }

  // ---- deleted accounts ---------------------------------------------------------------------

  /**
   * endRingsOf — ends every ring from or to `userId` that is still ringing (an account being
   * deleted: nobody is left ringing it, and its closing tabs then find nothing to end or record):
   * its own rings as 'cancelled', rings to it as 'offline'. Returns what it ended, so the other
   * side can be told.
   */
  async endRingsOf(userId: string): Promise<{ call: Call; state: 'cancelled' | 'offline' }[]> {
    const ended: { call: Call; state: 'cancelled' | 'offline' }[] = [];
    for (const id of await this.redis.zRange(RINGING, 0, -1)) {
      const call = await this.get(id);
      if (!call || (call.callerId !== userId && call.calleeId !== userId)) continue;
      const state = call.callerId === userId ? 'cancelled' : 'offline';
      if (await this.finish(call, state)) ended.push({ call, state });
    }
    return ended;
  }

  /**
   * forgetUser — removes every trace of a deleted account from ringing: its missed calls, Do not
   * disturb and ringing slot, the call records that name it (kept briefly after a call ends),
   * its join links, and the missed calls it left with other people (there is nobody to call back).
   */
  async forgetUser(userId: string): Promise<void> {
    await this.redis.del([ringingKey(userId), missedKey(userId), dndKey(userId)]);
    for await (const keys of this.redis.scanIterator({ MATCH: callKey('*'), TYPE: 'hash', COUNT: 500 })) {
      for (const key of keys) {
        const call = toCall(await this.redis.hGetAll(key));
        if (!call || (call.callerId !== userId && call.calleeId !== userId)) continue;
        // Still ringing someone (it started after endRingsOf): free that person's ringing slot.
        if (call.state === 'ringing') await this.finish(call, 'cancelled');
        await this.redis.multi().del(key).zRem(RINGING, call.callId).exec();
      }
    }
    for await (const keys of this.redis.scanIterator({ MATCH: joinKey('*'), TYPE: 'string', COUNT: 500 })) {
      for (const key of keys) {
        // Deleted only if it is still this account's (GETDEL would take someone else's).
        await this.redis.eval(`if string.sub(redis.call('GET', KEYS[1]) or '', 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
          { keys: [key], arguments: [`${userId} `] });
      }
    }
    for await (const keys of this.redis.scanIterator({ MATCH: missedKey('*'), TYPE: 'list', COUNT: 500 })) {
      for (const key of keys) {
        for (const raw of await this.redis.lRange(key, 0, -1)) {
          let from: { userId?: string; id?: string } | undefined;
          try {
            from = (JSON.parse(raw) as { from?: { userId?: string; id?: string } }).from;
          } catch {
            continue;
          }
          // LREM by the exact stored value removes that entry and no other.
          if (from?.userId === userId || from?.id === userId) await this.redis.lRem(key, 0, raw);
        }
      }
    }
  }

  async setDnd(userId: string, on: boolean): Promise<void> {
    if (on) await this.redis.set(dndKey(userId), '1');
    else await this.redis.del(dndKey(userId));
  }

  async dnd(userId: string): Promise<boolean> {
    return (await this.redis.exists(dndKey(userId))) === 1;
  }
}
