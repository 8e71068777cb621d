// The signaling hub: this instance's live sockets, delivery across instances via Redis pub/sub,
// heartbeats, lapsed-peer sweeping and live lobby updates.
import { randomBytes } from 'node:crypto';
import type { ServerMessage } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { EventBus } from '../store/bus.js';
import type { RedisClient } from '../store/redis.js';
import type { PresenceRecord, RoomStore } from '../store/rooms.js';
import { LobbyFeed } from './lobby-feed.js';
import { buildLobbySnapshot } from './lobby-view.js';

/** LocalPeer — what the hub needs to know about one socket on this instance. */
export interface LocalPeer {
  readonly peerId: string;
  readonly userId: string;
  room: string | null;
  send(msg: ServerMessage): void;
  /** sendRaw — an already serialized message (lobby updates are serialized once for every socket). */
  sendRaw(text: string): void;
  /** leftRoom — the server took this peer out of its room (the room was deleted, or its person removed from it). */
  leftRoom(): void;
  /** heartbeat — called every interval; returns false when the socket is dead. */
  heartbeat(): boolean;
  /** presence — the tab's record as this instance knows it (written back on every heartbeat). */
  presence(): PresenceRecord;
}

/** BusEvent — what instances tell each other on the shared channel. */
type BusEvent =
  | { kind: 'room'; room: string; msg: ServerMessage; except?: string }
  | { kind: 'peer'; to: string; msg: ServerMessage }
  | { kind: 'user'; userId: string; msg: ServerMessage }
  | { kind: 'room-closed'; room: string }
  | { kind: 'removed'; room: string; userId: string; minutes: number }
  | { kind: 'session-ended'; sessionId: string }
  | { kind: 'user-ended'; userId: string; exceptSession?: string }
  | { kind: 'lobby' }
  | { kind: 'shares'; userId: string; stopped: string | null; except?: string };

export interface HubOptions {
  /** Ping interval; a socket that misses one pong is dropped at the next. */
  heartbeatMs: number;
}

/** SignalingHub — routes messages to sockets wherever they are connected. */
export class SignalingHub {
  readonly instanceId = randomBytes(6).toString('base64url');
  private readonly peers = new Map<string, LocalPeer>();
  private readonly bus: EventBus<BusEvent>;
  private timers: NodeJS.Timeout[] = [];
  /** lobby — coalesced lobby updates for this instance's sockets (see LobbyFeed). */
  readonly lobby: LobbyFeed;
  private readonly sessionListeners: ((sessionId: string) => void)[] = [];
  private readonly userListeners: ((userId: string, exceptSession?: string) => void)[] = [];
  private readonly lobbyListeners: (() => void)[] = [];
  private readonly shareListeners: ((userId: string, stopped: string | null, except?: string) => void)[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly rooms: RoomStore,
    private readonly log: Logger,
    private readonly opts: HubOptions,
  ) {
    this.bus = new EventBus(redis);
    this.lobby = new LobbyFeed({
      build: () => buildLobbySnapshot(rooms),
      peers: () => this.peers.values(),
      ready: () => redis.isReady,
      log,
    });
  }

  async start(): Promise<void> {
    this.timers.push(setInterval(() => void this.tick(), this.opts.heartbeatMs));
    await this.bus.start((ev) => this.onBus(ev));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.lobby.stop();
    await this.bus.stop();
  }

  add(peer: LocalPeer): void {
    this.peers.set(peer.peerId, peer);
  }

  /** remove — forgets `peer` (not a newer socket that took over its peer id). */
  remove(peer: LocalPeer): void {
    if (this.peers.get(peer.peerId) === peer) this.peers.delete(peer.peerId);
  }

  local(peerId: string): LocalPeer | undefined {
    return this.peers.get(peerId);
  }

  // ---- delivery ------------------------------------------------------------------------

  /** toRoom — every member of `room` on every instance, except `except`. */
  toRoom(room: string, msg: ServerMessage, except?: string): Promise<void> {
    return this.publish({ kind: 'room', room, msg, except });
  }

  /** toPeer — one tab, on this instance directly or via the bus. */
  async toPeer(peerId: string, msg: ServerMessage): Promise<void> {
    const local = this.peers.get(peerId);
    if (local) local.send(msg);
    else await this.publish({ kind: 'peer', to: peerId, msg });
  }

  /** toUser — every tab of a user, wherever they are connected. */
  toUser(userId: string, msg: ServerMessage): Promise<void> {
    return this.publish({ kind: 'user', userId, msg });
  }

  roomClosed(room: string): Promise<void> {
    return this.publish({ kind: 'room-closed', room });
  }

  /**
   * removeFromRoom — a person was removed from `room`: on every instance, each of their tabs in
   * it leaves (the others hear `peer-left`), and every tab of theirs hears `removed`.
   */
  removeFromRoom(room: string, userId: string, minutes: number): Promise<void> {
    return this.publish({ kind: 'removed', room, userId, minutes });
  }

  /** sessionEnded — a session ended (sign-out, expiry): every instance closes its sockets. */
  sessionEnded(sessionId: string): Promise<void> {
    return this.publish({ kind: 'session-ended', sessionId });
  }

  /** onSessionEnded — called on every instance for each ended session. */
  onSessionEnded(fn: (sessionId: string) => void): void {
    this.sessionListeners.push(fn);
  }

  /** userSessionsEnded — every session of `userId` but `exceptSession` ended (password change, disabled, deleted): every instance closes those sockets. */
  userSessionsEnded(userId: string, exceptSession?: string): Promise<void> {
    return this.publish({ kind: 'user-ended', userId, ...(exceptSession ? { exceptSession } : {}) });
  }

  /** onUserSessionsEnded — called on every instance when an account's sessions were ended. */
  onUserSessionsEnded(fn: (userId: string, exceptSession?: string) => void): void {
    this.userListeners.push(fn);
  }

  /** lobbyChanged — every instance refreshes its sockets' lobby view shortly. */
  lobbyChanged(): Promise<void> {
    return this.publish({ kind: 'lobby' });
  }

  /** onLobbyChanged — called on every instance after each lobby change (tabs came, went, moved). */
  onLobbyChanged(fn: () => void): void {
    this.lobbyListeners.push(fn);
  }

  /** sharesChanged — `userId` shared something, or stopped sharing item `stopped` (every tab of theirs but `except` lets it go). */
  sharesChanged(userId: string, stopped: string | null, except?: string): Promise<void> {
    return this.publish({ kind: 'shares', userId, stopped, ...(except ? { except } : {}) });
  }

  /** onSharesChanged — called on every instance for each {@link sharesChanged}. */
  onSharesChanged(fn: (userId: string, stopped: string | null, except?: string) => void): void {
    this.shareListeners.push(fn);
  }

  private publish(ev: BusEvent): Promise<void> {
    return this.bus.publish(ev);
  }

  private onBus(ev: BusEvent): void {
    switch (ev.kind) {
      case 'room':
        for (const p of this.peers.values()) if (p.room === ev.room && p.peerId !== ev.except) p.send(ev.msg);
        break;
      case 'peer':
        this.peers.get(ev.to)?.send(ev.msg);
        break;
      case 'user':
        for (const p of this.peers.values()) if (p.userId === ev.userId) p.send(ev.msg);
        break;
      case 'room-closed':
        for (const p of this.peers.values()) {
          if (p.room !== ev.room) continue;
          p.leftRoom();
          p.send({ type: 'room-closed', room: ev.room, reason: 'deleted' });
        }
        break;
      case 'removed':
        this.removeLocal(ev.room, ev.userId, ev.minutes).catch((err: Error) => this.log.warn({ err: err.message }, 'could not take a removed person out of a room; their seat lapses with their heartbeat'));
        break;
      case 'session-ended':
        for (const fn of this.sessionListeners) fn(ev.sessionId);
        break;
      case 'user-ended':
        for (const fn of this.userListeners) fn(ev.userId, ev.exceptSession);
        break;
      case 'lobby':
        this.lobby.changed();
        for (const fn of this.lobbyListeners) fn();
        break;
      case 'shares':
        for (const fn of this.shareListeners) fn(ev.userId, ev.stopped, ev.except);
        break;
    }
  }

  /** removeLocal — this instance's part of {@link removeFromRoom}. */
  private async removeLocal(room: string, userId: string, minutes: number): Promise<void> {
    const seated: LocalPeer[] = [];
    for (const p of this.peers.values()) {
      if (p.userId !== userId) continue;
      // Out of the room before anything is awaited: no heartbeat may seat it again.
      if (p.room === room) {
        p.leftRoom();
        seated.push(p);
      }
      // Every tab of theirs: one on the room's page, not in its call, stops offering to join too.
      p.send({ type: 'removed', room, minutes });
    }
    for (const p of seated) {
      if (await this.rooms.leave(room, p.peerId)) await this.toRoom(room, { type: 'peer-left', room, peerId: p.peerId, reason: 'left' });
    }
    if (seated.length > 0) await this.lobbyChanged();
  }

  /**
   * sendLobby — a new socket on this instance: it gets the whole lobby with the next feed
   * update (within a window), then deltas. Changes go through lobbyChanged, never here.
   */
  async sendLobby(peer: LocalPeer): Promise<void> {
    this.lobby.subscribe(peer);
  }

  // ---- liveness ------------------------------------------------------------------------

  private async tick(): Promise<void> {
    for (const p of [...this.peers.values()]) p.heartbeat();
    if (!this.redis.isReady) return;
    try {
      const locals = [...this.peers.values()];
      const records = locals.map((p) => p.presence());
      const rejoined = await this.rooms.refresh(records, this.instanceId);
      let changed = rejoined.length > 0;
      for (const [i, rec] of records.entries()) {
        const local = locals[i]!;
        // The tab left (or moved) while the refresh ran: do not leave it seated where it was.
        if (rec.room && local.room !== rec.room) {
          await this.rooms.leave(rec.room, rec.peerId);
          if (local.room) await this.rooms.setRoomMark(rec.peerId, local.room);
          changed = true;
        }
      }
      // Back after an outage (its records had lapsed): the room hears of it again, so a member
      // who was told it timed out, or who joined meanwhile, connects to it.
      for (const { room, peerId } of rejoined) {
        const rec = records.find((r) => r.peerId === peerId)!;
        if (this.peers.get(peerId)?.room !== room) continue;
        const { peerId: id, userId, displayName, muted, cameraOff } = rec;
        await this.toRoom(room, { type: 'peer-joined', room, peer: { peerId: id, userId, displayName, muted, cameraOff } }, peerId);
      }
      // Peers whose instance died stop refreshing; whoever sweeps them first tells their rooms.
      const { lapsedOnline, lapsedMembers } = await this.rooms.sweep();
      for (const { room, peerId } of lapsedMembers) {
        await this.toRoom(room, { type: 'peer-left', room, peerId, reason: 'timeout' });
      }
      const ended = await this.rooms.endPrivateRooms();
      if (changed || ended.length > 0 || lapsedOnline > 0 || lapsedMembers.length > 0) await this.lobbyChanged();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat bookkeeping failed');
    }
  }
}
