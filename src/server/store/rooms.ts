// Rooms, their live members and who is online, in Redis: the only module that knows these keys.
import { randomBytes } from 'node:crypto';
import { chatKey } from './chat.js';
import type { RedisClient } from './redis.js';
import { slugWords } from './slug-words.js';

/** Room — a room's lasting settings. */
export interface Room {
  slug: string;
  name: string;
  ownerId: string;
  capacity: number;
  passcodeHash: string | null;
  createdAt: number;
  /** Private rooms (direct calls) admit only invited users. */
  invitedOnly: boolean;
  /** When someone last joined its call (ms); its creation time if nobody has yet. */
  lastUsedAt: number;
  /** Locked: nobody new may join (its owner and admins may; people who were in when it was locked may come back). */
  locked: boolean;
  /** Counts passcode changes: access granted for an older passcode no longer counts. */
  passcodeVersion: number;
}

/** PresenceRecord — what an instance knows of its own live tab, enough to rebuild its records. */
export type PresenceRecord = Omit<PeerRecord, 'instance'>;

/** PeerRecord — one live connection (a browser tab) as other instances see it. */
export interface PeerRecord {
  peerId: string;
  userId: string;
  displayName: string;
  instance: string;
  room: string | null;
  muted: boolean;
  cameraOff: boolean;
}

export type JoinResult =
  | { ok: true; count: number }
  | { ok: false; reason: 'full'; count: number }
  | { ok: false; reason: 'not-found' }
  | { ok: false; reason: 'locked' }
  | { ok: false; reason: 'banned'; remainingMs: number };

/** RoomSettings — what the owner may change on an existing room; a passcodeHash of null removes the passcode, undefined keeps it. */
export interface RoomSettings {
  capacity?: number;
  passcodeHash?: string | null;
}

/** BAN_MS — how long a person removed from a room stays out of it. */
const BAN_MS = 10 * 60_000;

const roomKey = (slug: string) => `room:${slug}`;
const membersKey = (slug: string) => `room:${slug}:members`;
const invitedKey = (slug: string) => `room:${slug}:invited`;
/** People removed from the room: userId scored by when they may come back (ms); the key lapses with the last. */
const bansKey = (slug: string) => `room:${slug}:bans`;
/** While the room is locked: the people who were in it when it was locked (they may come back). */
const admittedKey = (slug: string) => `room:${slug}:admitted`;
const ownerKey = (userId: string) => `rooms:owner:${userId}`;
const peerKey = (peerId: string) => `peer:${peerId}`;
const LIVE_ROOMS = 'rooms:live';
const PRESENCE = 'presence';
/** Private call rooms, scored by when they were last seen in use. */
const PRIVATE_ROOMS = 'rooms:private';

// One tab's heartbeat: rewrites its record (unless another instance owns it now), its presence
// and, if its room still exists, its seat. 0 = owned elsewhere, 1 = refreshed, 2 = refreshed
// and put back into its room (its seat had lapsed).
const REFRESH_PEER = `
local owner = redis.call('HGET', KEYS[1], 'instance')
if owner and owner ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'peerId', ARGV[1], 'userId', ARGV[3], 'displayName', ARGV[4], 'instance', ARGV[2],
  'room', ARGV[5], 'muted', ARGV[6], 'cameraOff', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[9], ARGV[1])
if ARGV[5] ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then
  local added = redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
  redis.call('SADD', KEYS[4], ARGV[5])
  if added == 1 then return 2 end
end
return 1`;

/** PRIVATE_ROOM_GRACE_MS — a private call room empty this long has ended and is deleted. */
export const PRIVATE_ROOM_GRACE_MS = 3 * 60_000;

// Deletes a room and everything under it, and frees its members' "in room" mark (only where it
// still names this room: a member may have moved on), so nobody shows as busy in a room that
// no longer exists.
const REMOVE_ROOM = `
local members = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, peer in ipairs(members) do
  local key = 'peer:' .. peer
  if redis.call('HGET', key, 'room') == ARGV[1] then redis.call('HSET', key, 'room', '') end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8], KEYS[9])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
return members`;

// Admits the peer unless its person was removed from the room (and may not come back yet), the
// room is locked and the person is neither exempt (owner, admin: ARGV[7]) nor was in it when it
// was locked, or no seat is free — atomically, so racing joins can never overfill a room nor
// slip past a lock or a removal. Lapsed members are dropped first. Returns {status, n}:
// {1, count} joined, {2, count} full, {3, 0} no such room, {4, 0} locked, {5, ms left} removed.
const JOIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {3, 0} end
local now = tonumber(ARGV[2])
local bannedUntil = redis.call('ZSCORE', KEYS[5], ARGV[6])
if bannedUntil and tonumber(bannedUntil) > now then return {5, tonumber(bannedUntil) - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[2], ARGV[1]) == false then
  if redis.call('HGET', KEYS[1], 'locked') == '1' and ARGV[7] ~= '1' and redis.call('SISMEMBER', KEYS[6], ARGV[6]) == 0 then return {4, 0} end
  local capacity = tonumber(redis.call('HGET', KEYS[1], 'capacity'))
  local count = redis.call('ZCARD', KEYS[2])
  if count >= capacity then return {2, count} end
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[2])
redis.call('HSET', KEYS[3], 'room', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('SADD', KEYS[4], ARGV[4])
return {1, redis.call('ZCARD', KEYS[2])}`;

// Locks (ARGV[1] '1') or unlocks a room. Locking remembers who is in it right now (their people
// may come back while it stays locked); locking a locked room changes nothing. 0: no such room.
const SET_LOCKED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '1' then
  if redis.call('HGET', KEYS[1], 'locked') == '1' then return 1 end
  redis.call('HSET', KEYS[1], 'locked', '1')
  redis.call('DEL', KEYS[3])
  for _, peer in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], '+inf')) do
    local userId = redis.call('HGET', 'peer:' .. peer, 'userId')
    if userId and redis.call('HGET', 'peer:' .. peer, 'room') == ARGV[3] then redis.call('SADD', KEYS[3], userId) end
  end
else
  redis.call('HSET', KEYS[1], 'locked', '0')
  redis.call('DEL', KEYS[3])
end
return 1`;

// Keeps a person out of a room until ARGV[2] (ms): forgets lapsed removals, and the key lapses
// with its last removal (bounded by the people who ever were removed within BAN_MS). 0: no such room.
const BAN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1`;

// Changes capacity and/or passcode of an existing room (never re-creates a deleted one). A new
// or removed passcode bumps passcodeVersion: access granted for the old one stops counting.
// ARGV: capacity ('' = keep), passcode change ('1'/'0'), new passcode hash ('' = none).
const UPDATE_SETTINGS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'capacity', ARGV[1]) end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'passcodeHash', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'passcodeVersion', 1)
end
return 1`;

function toRoom(h: Record<string, string>): Room | null {
  if (!h.slug || !h.name) return null;
  return {
    slug: h.slug,
    name: h.name,
    ownerId: h.ownerId ?? '',
    capacity: Number(h.capacity ?? 0),
    passcodeHash: h.passcodeHash || null,
    createdAt: Number(h.createdAt ?? 0),
    invitedOnly: h.invitedOnly === '1',
    lastUsedAt: Number(h.lastUsedAt ?? h.createdAt ?? 0),
    locked: h.locked === '1',
    passcodeVersion: Number(h.passcodeVersion ?? 0),
  };
}

function toPeer(h: Record<string, string>): PeerRecord | null {
  if (!h.peerId || !h.userId) return null;
  return {
    peerId: h.peerId,
    userId: h.userId,
    displayName: h.displayName ?? '',
    instance: h.instance ?? '',
    room: h.room || null,
    muted: h.muted === '1',
    cameraOff: h.cameraOff === '1',
  };
}

/** newSlug — readable and hard to guess on a LAN: adjective-animal-xxxx (≈ 4·10⁹ choices). */
function newSlug(): string {
  const b = randomBytes(8);
  const { adjectives, animals } = slugWords;
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const tail = Array.from(b.subarray(2, 6), (x) => alphabet[x % alphabet.length]).join('');
  return `${adjectives[b[0]! % adjectives.length]}-${animals[b[1]! % animals.length]}-${tail}`;
}

/**
 * RoomStore — rooms, membership and presence. `ttlMs` is how long a heartbeat keeps a peer alive;
 * `banMs` how long a person removed from a room stays out (tests shorten it).
 */
export class RoomStore {
  banMs: number;

  constructor(private readonly redis: RedisClient, readonly ttlMs = 30_000, opts: { banMs?: number } = {}) {
    this.banMs = opts.banMs ?? BAN_MS;
  }

  // ---- rooms ---------------------------------------------------------------------------

  async create(input: { name: string; ownerId: string; capacity: number; passcodeHash: string | null; invitedOnly?: boolean; invited?: string[] }): Promise<Room> {
    for (let attempt = 0; ; attempt++) {
      const slug = newSlug();
      const now = Date.now();
      const room: Room = {
        slug, name: input.name, ownerId: input.ownerId, capacity: input.capacity, passcodeHash: input.passcodeHash, createdAt: now,
        invitedOnly: input.invitedOnly ?? false, lastUsedAt: now, locked: false, passcodeVersion: 0,
      };
      const claimed = await this.redis.hSetNX(roomKey(slug), 'slug', slug);
      if (!claimed) {
        if (attempt > 10) throw new Error('could not find a free room slug');
        continue;
      }
      const multi = this.redis.multi()
        .hSet(roomKey(slug), {
          name: room.name, ownerId: room.ownerId, capacity: String(room.capacity),
          passcodeHash: room.passcodeHash ?? '', createdAt: String(room.createdAt), invitedOnly: room.invitedOnly ? '1' : '0',
        });
      // Private call rooms are not the owner's rooms to list: they end with the call.
      if (room.invitedOnly) multi.zAdd(PRIVATE_ROOMS, { score: room.createdAt, value: slug });
      else multi.sAdd(ownerKey(input.ownerId), slug);
      if (input.invited?.length) multi.sAdd(invitedKey(slug), input.invited);
      await multi.exec();
      return room;
    }
  }

  async get(slug: string): Promise<Room | null> {
    return toRoom(await this.redis.hGetAll(roomKey(slug)));
  }

  /** invite — lets `userId` into the room without its passcode (rung in by a member). */
  async invite(slug: string, userId: string): Promise<void> {
    await this.redis.sAdd(invitedKey(slug), userId);
  }

  async isInvited(slug: string, userId: string): Promise<boolean> {
    return (await this.redis.sIsMember(invitedKey(slug), userId)) === 1;
  }

  async listByOwner(ownerId: string): Promise<Room[]> {
    const slugs = await this.redis.sMembers(ownerKey(ownerId));
    const rooms = await this.getMany(slugs);
    // Private call rooms made before they were kept apart: move them out of the owner's list.
    const misplaced = rooms.filter((r) => r.invitedOnly);
    if (misplaced.length) {
      await this.redis.multi()
        .sRem(ownerKey(ownerId), misplaced.map((r) => r.slug))
        .zAdd(PRIVATE_ROOMS, misplaced.map((r) => ({ score: r.createdAt, value: r.slug })))
        .exec();
    }
    return rooms.filter((r) => r.ownerId === ownerId && !r.invitedOnly).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** listAll — every lasting room (not private calls), most recently used first (the admin page). */
  async listAll(): Promise<Room[]> {
    const slugs = new Set<string>();
    for await (const keys of this.redis.scanIterator({ MATCH: ownerKey('*'), COUNT: 500 })) {
      for (const key of keys) for (const slug of await this.redis.sMembers(key)) slugs.add(slug);
    }
    const rooms = await this.getMany([...slugs]);
    return rooms.filter((r) => !r.invitedOnly).sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /** remove — deletes a room with its members and chat; only its owner may (or an admin: `asAdmin`). */
  async remove(slug: string, userId: string, opts: { asAdmin?: boolean } = {}): Promise<'ok' | 'not-found' | 'forbidden'> {
    const room = await this.get(slug);
    if (!room) return 'not-found';
    if (room.ownerId !== userId && !opts.asAdmin) return 'forbidden';
    await this.destroy(slug, room.ownerId);
    return 'ok';
  }

  /** destroy — deletes a room, its members, invitations and chat; members' records stop naming it. */
  private async destroy(slug: string, ownerId: string): Promise<void> {
    await this.redis.eval(REMOVE_ROOM, {
      keys: [roomKey(slug), membersKey(slug), invitedKey(slug), chatKey(slug), ownerKey(ownerId), LIVE_ROOMS, PRIVATE_ROOMS, bansKey(slug), admittedKey(slug)],
      arguments: [slug],
    });
  }

  // ---- moderation ----------------------------------------------------------------------

  /** setLocked — locks or unlocks the room; false when there is no such room. */
  async setLocked(slug: string, locked: boolean): Promise<boolean> {
    const done = await this.redis.eval(SET_LOCKED, { keys: [roomKey(slug), membersKey(slug), admittedKey(slug)], arguments: [locked ? '1' : '0', String(Date.now()), slug] });
    return Number(done) === 1;
  }

  /** wasAdmitted — the person was in the room when it was locked (so they may come back while it stays locked). */
  async wasAdmitted(slug: string, userId: string): Promise<boolean> {
    return (await this.redis.sIsMember(admittedKey(slug), userId)) === 1;
  }

  /** updateSettings — new capacity and/or passcode; false when there is no such room. */
  async updateSettings(slug: string, settings: RoomSettings): Promise<boolean> {
    const passcodeChanged = settings.passcodeHash !== undefined;
    const done = await this.redis.eval(UPDATE_SETTINGS, {
      keys: [roomKey(slug)],
      arguments: [settings.capacity === undefined ? '' : String(settings.capacity), passcodeChanged ? '1' : '0', settings.passcodeHash ?? ''],
    });
    return Number(done) === 1;
  }

  /** ban — keeps `userId` out of the room for `ms` (default banMs); false when there is no such room. */
  async ban(slug: string, userId: string, ms = this.banMs): Promise<boolean> {
    const now = Date.now();
    const done = await this.redis.eval(BAN, { keys: [roomKey(slug), bansKey(slug), admittedKey(slug)], arguments: [userId, String(now + ms), String(now)] });
    return Number(done) === 1;
  }

  /** banRemaining — how long (ms) `userId` is still kept out of the room; 0 when they may join. */
  async banRemaining(slug: string, userId: string): Promise<number> {
    const until = await this.redis.zScore(bansKey(slug), userId);
    return until === null ? 0 : Math.max(0, until - Date.now());
  }

  /**
   * endPrivateRooms — deletes private call rooms nobody has been in for PRIVATE_ROOM_GRACE_MS
   * (the call has ended); rooms still in use are marked as seen. Returns the deleted slugs.
   */
  async endPrivateRooms(now = Date.now()): Promise<string[]> {
    const due = await this.redis.zRangeByScore(PRIVATE_ROOMS, '-inf', now - PRIVATE_ROOM_GRACE_MS);
    const ended: string[] = [];
    for (const slug of due) {
      if ((await this.memberCount(slug)) > 0) {
        await this.redis.zAdd(PRIVATE_ROOMS, { score: now, value: slug });
        continue;
      }
      const room = await this.get(slug);
      await this.destroy(slug, room?.ownerId ?? '');
      ended.push(slug);
    }
    return ended;
  }

  // ---- presence and membership ---------------------------------------------------------

  /** connect — registers a live tab; it lapses unless {@link refresh}ed within ttlMs. */
  async connect(peer: PeerRecord): Promise<void> {
    const expires = Date.now() + this.ttlMs;
    await this.redis.multi()
      .hSet(peerKey(peer.peerId), {
        peerId: peer.peerId, userId: peer.userId, displayName: peer.displayName, instance: peer.instance,
        room: '', muted: peer.muted ? '1' : '0', cameraOff: peer.cameraOff ? '1' : '0',
      })
      .pExpire(peerKey(peer.peerId), this.ttlMs)
      .zAdd(PRESENCE, { score: expires, value: peer.peerId })
      .exec();
  }

  /** disconnect — removes a tab everywhere at once (clean close). */
  async disconnect(peerId: string, room: string | null): Promise<void> {
    const multi = this.redis.multi().del(peerKey(peerId)).zRem(PRESENCE, peerId);
    if (room) multi.zRem(membersKey(room), peerId);
    await multi.exec();
  }

  /**
   * refresh — heartbeat for this instance's live tabs. Each tab's record is written whole, not
   * just extended: after a Redis outage longer than the TTL (or a Redis that lost its data)
   * the records are gone, and the instances that hold the sockets put presence back. A record
   * another instance owns (the tab resumed there) is left alone.
   * Returns the tabs that had to be put back into their room (others were told they left).
   */
  async refresh(peers: readonly PresenceRecord[], instance: string): Promise<{ room: string; peerId: string }[]> {
    if (peers.length === 0) return [];
    const expires = String(Date.now() + this.ttlMs);
    const multi = this.redis.multi();
    for (const p of peers) {
      const room = p.room ?? '';
      multi.eval(REFRESH_PEER, {
        keys: [peerKey(p.peerId), PRESENCE, room ? membersKey(room) : peerKey(p.peerId), LIVE_ROOMS, room ? roomKey(room) : peerKey(p.peerId)],
        arguments: [p.peerId, instance, p.userId, p.displayName, room, p.muted ? '1' : '0', p.cameraOff ? '1' : '0', String(this.ttlMs), expires],
      });
    }
    const replies = (await multi.exec()) as unknown as number[];
    return peers.flatMap((p, i) => (replies[i] === 2 && p.room ? [{ room: p.room, peerId: p.peerId }] : []));
  }

  /**
   * join — seats the peer of `userId` (see JOIN): refused to someone removed from the room, to
   * newcomers while it is locked (`passLock`: its owner and admins pass), and when it is full.
   */
  async join(slug: string, peerId: string, userId: string, opts: { passLock?: boolean } = {}): Promise<JoinResult> {
    const now = Date.now();
    const [status, n] = (await this.redis.eval(JOIN, {
      keys: [roomKey(slug), membersKey(slug), peerKey(peerId), LIVE_ROOMS, bansKey(slug), admittedKey(slug)],
      arguments: [peerId, String(now), String(now + this.ttlMs), slug, String(this.ttlMs), userId, opts.passLock ? '1' : '0'],
    })) as [number, number];
    switch (status) {
      case 1: return { ok: true, count: n };
      case 2: return { ok: false, reason: 'full', count: n };
      case 4: return { ok: false, reason: 'locked' };
      case 5: return { ok: false, reason: 'banned', remainingMs: n };
      default: return { ok: false, reason: 'not-found' };
    }
  }

  /** leave — returns true if the peer was a member (false if it had already lapsed). */
  async leave(slug: string, peerId: string): Promise<boolean> {
    const [removed] = (await this.redis.multi().zRem(membersKey(slug), peerId).hSet(peerKey(peerId), 'room', '').exec()) as unknown as [number];
    return removed === 1;
  }

  /** setRoomMark — which room a live tab is in, as its record says (repairs a refresh that raced a move). */
  async setRoomMark(peerId: string, room: string): Promise<void> {
    await this.redis.hSet(peerKey(peerId), 'room', room);
  }

  async setMedia(peerId: string, media: { muted: boolean; cameraOff: boolean }): Promise<void> {
    await this.redis.hSet(peerKey(peerId), { muted: media.muted ? '1' : '0', cameraOff: media.cameraOff ? '1' : '0' });
  }

  async peer(peerId: string): Promise<PeerRecord | null> {
    return toPeer(await this.redis.hGetAll(peerKey(peerId)));
  }

  /** members — the room's live peers, in the order they joined. */
  async members(slug: string): Promise<PeerRecord[]> {
    const ids = await this.redis.zRangeByScore(membersKey(slug), Date.now(), '+inf');
    return (await this.peers(ids)).filter((p) => p.room === slug);
  }

  async memberCount(slug: string): Promise<number> {
    return this.redis.zCount(membersKey(slug), Date.now(), '+inf');
  }

  /**
   * sweep — removes lapsed tabs: from Online now (counted) and from live rooms (listed, each
   * exactly once across instances, so only one instance announces a departure).
   */
  async sweep(): Promise<{ lapsedOnline: number; lapsedMembers: { room: string; peerId: string }[] }> {
    const now = Date.now();
    const lapsedOnline = await this.redis.zRemRangeByScore(PRESENCE, '-inf', now);
    const slugs = await this.redis.sMembers(LIVE_ROOMS);
    const removed: { room: string; peerId: string }[] = [];
    for (const slug of slugs) {
      const lapsed = await this.redis.zRangeByScore(membersKey(slug), '-inf', now);
      for (const peerId of lapsed) {
        if ((await this.redis.zRem(membersKey(slug), peerId)) === 1) removed.push({ room: slug, peerId });
      }
      if ((await this.redis.zCard(membersKey(slug))) === 0) await this.redis.sRem(LIVE_ROOMS, slug);
    }
    return { lapsedOnline, lapsedMembers: removed };
  }

  /** online — every live tab (group by user for Online now). */
  async online(): Promise<PeerRecord[]> {
    const ids = await this.redis.zRangeByScore(PRESENCE, Date.now(), '+inf');
    return this.peers(ids);
  }

  /** liveRooms — rooms with at least one live member, with those members. */
  async liveRooms(): Promise<{ room: Room; members: PeerRecord[] }[]> {
    const slugs = await this.redis.sMembers(LIVE_ROOMS);
    const rooms = await this.getMany(slugs);
    // One round trip per room, all in flight at once (the lobby feed builds this every window).
    const memberLists = await Promise.all(rooms.map((room) => this.members(room.slug)));
    const out = rooms.flatMap((room, i) => (memberLists[i]!.length > 0 ? [{ room, members: memberLists[i]! }] : []));
    return out.sort((a, b) => a.room.name.localeCompare(b.room.name));
  }

  private async getMany(slugs: readonly string[]): Promise<Room[]> {
    if (slugs.length === 0) return [];
    const multi = this.redis.multi();
    for (const s of slugs) multi.hGetAll(roomKey(s));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    return rows.map((h) => toRoom(h ?? {})).filter((r): r is Room => r !== null);
  }

  private async peers(ids: readonly string[]): Promise<PeerRecord[]> {
    if (ids.length === 0) return [];
    const multi = this.redis.multi();
    for (const id of ids) multi.hGetAll(peerKey(id));
    const rows = (await multi.exec()) as unknown as Record<string, string>[];
    return rows.map((h) => toPeer(h ?? {})).filter((p): p is PeerRecord => p !== null);
  }

  // ---- deleted accounts ----------------------------------------------------------------

  /**
   * forgetUser — a deleted account leaves no trace in rooms: it goes from every room's sets of
   * account ids (invited, and whatever else a room keeps by account), the private calls it
   * started are deleted, and so is its list of rooms. Its lasting rooms are removed by the
   * caller first (see remove). Returns the deleted private rooms, whose callers should be told.
   */
  async forgetUser(userId: string): Promise<string[]> {
    const ended: string[] = [];
    for (const slug of await this.redis.zRange(PRIVATE_ROOMS, 0, -1)) {
      if ((await this.redis.hGet(roomKey(slug), 'ownerId')) !== userId) continue;
      await this.destroy(slug, userId);
      ended.push(slug);
    }
    for (const type of ['set', 'zset'] as const) {
      for await (const keys of this.redis.scanIterator({ MATCH: roomKey('*'), TYPE: type, COUNT: 500 })) {
        for (const key of keys) await (type === 'set' ? this.redis.sRem(key, userId) : this.redis.zRem(key, userId));
      }
    }
    await this.redis.del(ownerKey(userId));
    return ended;
  }
}
