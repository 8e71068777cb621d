// Ringing a named person: the server-side state machine (ringing → accepted/declined/no-answer/busy/
// cancelled/offline/dnd), with every transition made atomically in Redis so any instance may act.
import { ErrorCode, type CallState, type ClientMessage, type UserRef } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import type { Call, CallStore } from '../store/calls.js';
import type { RateLimit } from '../store/limits.js';
import type { RedisClient } from '../store/redis.js';
import type { RoomStore } from '../store/rooms.js';
import type { UserStore } from '../store/users.js';
import { HandlerError, type Connection } from './connection.js';
import type { SignalingHub } from './hub.js';

type Msg<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

export interface RingingDeps {
  redis: RedisClient;
  calls: CallStore;
  rooms: RoomStore;
  users: UserStore;
  hub: SignalingHub;
  log: Logger;
  timeoutMs: number;
  /** Rings per caller. */
  rings: RateLimit;
  /** Capacity of the private call room an accepted ring creates. */
  callCapacity: number;
}

const ENDED = 'This call has already ended.';

/** Ringing — handlers for ring, ring-cancel, ring-answer, dnd and dismiss-missed, plus expiry. */
export class Ringing {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RingingDeps) {}

  /** start — a once-a-second sweep finishes rings whose instance died before their timer fired. */
  start(): void {
    this.sweeper = setInterval(() => void this.sweepExpired(), 1_000);
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  async ring(conn: Connection, msg: Msg<'ring'>): Promise<void> {
    const { calls, rooms, users, hub } = this.deps;
    if (msg.userId === conn.userId) throw new HandlerError(ErrorCode.UserNotFound, 'You cannot call yourself.');
    const callee = await users.findById(msg.userId);
    if (!callee) throw new HandlerError(ErrorCode.UserNotFound, 'There is no such person.');
    if (msg.room && msg.room !== conn.room) throw new HandlerError(ErrorCode.NotInRoom, 'You can only ring people into the room you are in.');
    if ((await this.deps.rings.take(conn.userId)) > 0) throw new HandlerError(ErrorCode.RateLimited, 'You are ringing too often; wait a minute.');
    const peer: UserRef = { userId: callee.id, displayName: callee.displayName };
    const base = { callerPeerId: conn.peerId, callerId: conn.userId, callerName: conn.displayName, calleeId: callee.id, calleeName: callee.displayName, room: msg.room ?? null };
    const reply = (state: CallState, callId: string) => conn.send({ type: 'ring-update', callId, state, peer, ...(msg.ref ? { ref: msg.ref } : {}) });

    const tabs = (await rooms.online()).filter((p) => p.userId === callee.id);
    const settled = async (state: 'offline' | 'dnd' | 'busy') => {
      // Not rung at all, but recorded, so the callee can call back.
      const call: Call = { ...base, callId: `x${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, state, expiresAt: 0 };
      reply(state, call.callId);
      await this.recordMissed(call);
      if (state !== 'offline') await hub.toUser(callee.id, { type: 'ring-notice', from: { userId: conn.userId, displayName: conn.displayName }, reason: state });
    };
    if (tabs.length === 0) return settled('offline');
    if (await calls.dnd(callee.id)) return settled('dnd');
    if (tabs.some((t) => t.room !== null)) return settled('busy');
    const call = await calls.start(base, this.deps.timeoutMs);
    if (!call) return settled('busy');

    conn.calling.add(call.callId);
    this.timers.set(call.callId, setTimeout(() => void this.expire(call.callId), this.deps.timeoutMs));
    reply('ringing', call.callId);
    const room = msg.room ? await rooms.get(msg.room) : null;
    await hub.toUser(callee.id, {
      type: 'ring-incoming',
      callId: call.callId,
      from: { userId: conn.userId, displayName: conn.displayName },
      room: room ? { slug: room.slug, name: room.name, capacity: room.capacity } : null,
      expiresAt: call.expiresAt,
    });
  }

  async cancel(conn: Connection, msg: Msg<'ring-cancel'>): Promise<void> {
    const call = await this.deps.calls.get(msg.callId);
    if (!call || call.callerId !== conn.userId) throw new HandlerError(ErrorCode.CallNotFound, 'There is no such call.');
    if (!(await this.end(call, 'cancelled'))) throw new HandlerError(ErrorCode.CallNotFound, ENDED);
  }

  async answer(conn: Connection, msg: Msg<'ring-answer'>): Promise<void> {
    const { calls, rooms, hub } = this.deps;
    const call = await calls.get(msg.callId);
    // A call for someone else is indistinguishable from no call at all.
    if (!call || call.calleeId !== conn.userId) throw new HandlerError(ErrorCode.CallNotFound, 'There is no such call.');
    if (!msg.accept) {
      if (!(await this.end(call, 'declined'))) throw new HandlerError(ErrorCode.CallNotFound, ENDED);
      return;
    }
    if (!(await calls.finish(call, 'accepted'))) throw new HandlerError(ErrorCode.CallNotFound, ENDED);
    this.clearTimer(call.callId);
    let slug = call.room;
    if (slug && (await rooms.get(slug))) {
      await rooms.invite(slug, call.calleeId);
    } else {
      const room = await rooms.create({
        name: `${call.callerName} & ${call.calleeName}`, ownerId: call.callerId, capacity: this.deps.callCapacity, passcodeHash: null,
        invitedOnly: true, invited: [call.callerId, call.calleeId],
      });
      slug = room.slug;
    }
    const callee: UserRef = { userId: call.calleeId, displayName: call.calleeName };
    const caller: UserRef = { userId: call.callerId, displayName: call.callerName };
    // The answering tab goes to the room; the callee's other tabs stop ringing. Each side gets
    // its own one-time token to take its seat on arrival (a plain link never joins by itself).
    const [calleeJoin, callerJoin] = await Promise.all([calls.grantJoin(call.calleeId, slug), calls.grantJoin(call.callerId, slug)]);
    conn.send({ type: 'ring-update', callId: call.callId, state: 'accepted', peer: caller, room: slug, join: calleeJoin, ...(msg.ref ? { ref: msg.ref } : {}) });
    await hub.toUser(call.calleeId, { type: 'ring-update', callId: call.callId, state: 'answered-elsewhere', peer: caller });
    await hub.toPeer(call.callerPeerId, { type: 'ring-update', callId: call.callId, state: 'accepted', peer: callee, room: slug, join: callerJoin });
  }

  async setDnd(conn: Connection, msg: Msg<'dnd'>): Promise<void> {
    await this.deps.calls.setDnd(conn.userId, msg.on);
    await this.deps.hub.toUser(conn.userId, { type: 'dnd', on: msg.on });
  }

  async dismissMissed(conn: Connection, msg: Msg<'dismiss-missed'>): Promise<void> {
    await this.deps.calls.dismissMissed(conn.userId, msg.id);
    await this.pushMissed(conn.userId);
  }

  /** onDisconnect — a caller's tab closing cancels its rings; a callee going fully offline ends theirs. */
  async onDisconnect(conn: Connection): Promise<void> {
    for (const callId of conn.calling) {
      const call = await this.deps.calls.get(callId);
      if (call?.state === 'ringing') await this.end(call, 'cancelled');
    }
    const stillOnline = (await this.deps.rooms.online()).some((p) => p.userId === conn.userId && p.peerId !== conn.peerId);
    if (stillOnline) return;
    const ringing = await this.deps.calls.ringingFor(conn.userId);
    if (ringing) await this.end(ringing, 'offline');
  }

  /** end — finishes a ringing call with `state` and tells both sides; false if it had ended. */
  private async end(call: Call, state: Exclude<CallState, 'ringing' | 'accepted'>): Promise<boolean> {
    if (!(await this.deps.calls.finish(call, state))) return false;
    this.clearTimer(call.callId);
    const { hub } = this.deps;
    const callee: UserRef = { userId: call.calleeId, displayName: call.calleeName };
    const caller: UserRef = { userId: call.callerId, displayName: call.callerName };
    await hub.toPeer(call.callerPeerId, { type: 'ring-update', callId: call.callId, state, peer: callee });
    await hub.toUser(call.calleeId, { type: 'ring-update', callId: call.callId, state: state === 'declined' ? 'answered-elsewhere' : state, peer: caller });
    if (state !== 'declined') await this.recordMissed(call);
    return true;
  }

  private async recordMissed(call: Call): Promise<void> {
    await this.deps.calls.addMissed(call.calleeId, call);
    await this.pushMissed(call.calleeId);
  }

  private async pushMissed(userId: string): Promise<void> {
    await this.deps.hub.toUser(userId, { type: 'missed-calls', calls: await this.deps.calls.missed(userId) });
  }

  private async expire(callId: string): Promise<void> {
    this.timers.delete(callId);
    try {
      const call = await this.deps.calls.get(callId);
      if (call?.state === 'ringing') await this.end(call, 'no-answer');
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, callId }, 'ring expiry deferred to the sweep');
    }
  }

  private async sweepExpired(): Promise<void> {
    if (!this.deps.redis.isReady) return;
    try {
      for (const call of await this.deps.calls.expired()) await this.end(call, 'no-answer');
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'ring sweep failed');
    }
  }

  private clearTimer(callId: string): void {
    const t = this.timers.get(callId);
    if (t) clearTimeout(t);
    this.timers.delete(callId);
  }
}
