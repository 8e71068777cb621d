// Shared files in Redis: each person's share records (bounded) and what each live tab holds: the only module that knows these keys.
import { SHARE_LIMITS, type ShareItem } from '../../shared/shares.js';
import type { RedisClient } from './redis.js';

/** ShareRecord — one item a person shares: it lasts until they stop sharing it, whether or not a tab of theirs is open. */
export interface ShareRecord {
  item: ShareItem;
  /** The room it was shared in (its last share), or null for the lobby. */
  room: string | null;
  /** When the person first shared it (ms). */
  sharedAt: number;
}

/** AddResult — `added` a new record, `kept` an existing one (its room updated, its date kept), `full` the person is at the cap. */
export type AddResult = 'added' | 'kept' | 'full';

/** Holdings — what one tab holds: item id → the room it holds it for (null: the lobby). */
export type Holdings = Map<string, string | null>;

/** The person's records: item id → `<sharedAt> <JSON {item, room}>`. */
const recordsKey = (userId: string) => `shares:user:${userId}`;
/** One tab's holdings: item id → room slug ('' for the lobby); lapses with the tab's presence. */
const tabKey = (peerId: string) => `shares:tab:${peerId}`;

// Adds or refreshes one record; the cap is checked in the same step, so racing tabs cannot
// pass it. A record shared again keeps its first date. 0 = full, 1 = added, 2 = kept.
const ADD = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local at = string.match(old, '^(%d+) ') or ARGV[3]
  redis.call('HSET', KEYS[1], ARGV[1], at .. ' ' .. ARGV[2])
  return 2
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. ' ' .. ARGV[2])
return 1`;

// Rewrites one tab's holdings whole (ARGV: ttl, then id/room pairs), keeping only items its
// person still records: a share stopped from another tab cannot come back through a late
// heartbeat. Returns {fresh, dropped ids...}; fresh = 1 when the key had gone (the tab's
// presence lapsed, or Redis lost its data), so the caller may put lost records back.
const HOLD = `
local fresh = redis.call('EXISTS', KEYS[1]) == 0 and 1 or 0
redis.call('DEL', KEYS[1])
local out = {fresh}
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    table.insert(out, ARGV[i])
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return out`;

function parseRecord(value: string): ShareRecord | null {
  const space = value.indexOf(' ');
  const sharedAt = Number(value.slice(0, space));
  try {
    const { item, room } = JSON.parse(value.slice(space + 1)) as { item: ShareItem; room: string | null };
    return Number.isFinite(sharedAt) && item ? { item, room: room ?? null, sharedAt } : null;
  } catch {
    return null;
  }
}

/** ShareStore — share records per person and holdings per tab. `ttlMs`: how long a tab's holdings outlive its last heartbeat (its presence's TTL). */
export class ShareStore {
  constructor(private readonly redis: RedisClient, private readonly ttlMs: number) {}

  /** add — records `item` as shared by `userId` in `room` (refused beyond SHARE_LIMITS.itemsPerPerson). */
  async add(userId: string, item: ShareItem, room: string | null, now = Date.now()): Promise<AddResult> {
    const status = (await this.redis.eval(ADD, {
      keys: [recordsKey(userId)],
      arguments: [item.id, JSON.stringify({ item, room }), String(now), String(SHARE_LIMITS.itemsPerPerson)],
    })) as number;
    return status === 0 ? 'full' : status === 1 ? 'added' : 'kept';
  }

  /** remove — `userId` stops sharing `id`; false when there was no such record. */
  async remove(userId: string, id: string): Promise<boolean> {
    return (await this.redis.hDel(recordsKey(userId), id)) === 1;
  }

  /** records — each person's records, newest first. */
  async records(userIds: Iterable<string>): Promise<Map<string, ShareRecord[]>> {
    const ids = [...new Set(userIds)];
    const out = new Map<string, ShareRecord[]>();
    if (ids.length === 0) return out;
    const multi = this.redis.multi();
    for (const id of ids) multi.hGetAll(recordsKey(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    ids.forEach((userId, i) => {
      const list = Object.values(rows[i] ?? {}).map(parseRecord).filter((r): r is ShareRecord => r !== null);
      out.set(userId, list.sort((a, b) => b.sharedAt - a.sharedAt || a.item.name.localeCompare(b.item.name)));
    });
    return out;
  }

  /**
   * hold — writes what tab `peerId` of `userId` holds now (its whole holdings), for the TTL.
   * Returns the ids it may not hold (no record of them: stopped elsewhere, or lost), and whether
   * its holdings had lapsed before this write.
   */
  async hold(peerId: string, userId: string, holdings: Holdings): Promise<{ fresh: boolean; dropped: string[] }> {
    const args = [String(this.ttlMs)];
    for (const [id, room] of holdings) args.push(id, room ?? '');
    const [fresh, ...dropped] = (await this.redis.eval(HOLD, { keys: [tabKey(peerId), recordsKey(userId)], arguments: args })) as [number, ...string[]];
    return { fresh: fresh === 1, dropped };
  }

  /** holdings — what each of `peerIds` holds (tabs that hold nothing are left out). */
  async holdings(peerIds: readonly string[]): Promise<Map<string, Holdings>> {
    const out = new Map<string, Holdings>();
    if (peerIds.length === 0) return out;
    const multi = this.redis.multi();
    for (const id of peerIds) multi.hGetAll(tabKey(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    peerIds.forEach((peerId, i) => {
      const entries = Object.entries(rows[i] ?? {});
      if (entries.length > 0) out.set(peerId, new Map(entries.map(([id, room]) => [id, room === '' ? null : room])));
    });
    return out;
  }

  /** release — the tab closed: it holds nothing any more. */
  async release(peerId: string): Promise<void> {
    await this.redis.del(tabKey(peerId));
  }

  /** forgetUser — a deleted account's records go (its tabs' holdings lapse with them, and name no account). */
  async forgetUser(userId: string): Promise<void> {
    await this.redis.del(recordsKey(userId));
  }
}
