// Room moderation, one set of rules for the socket and the room page: the room's owner or an admin
// removes a person (every tab of theirs leaves, and stays out for a while), locks the room, or
// changes its capacity and passcode. An owner moderates only rooms they own; admins any room.
import { ErrorCode } from '../../shared/protocol.js';
import { minutesLeft } from '../../shared/moderation.js';
import type { Room, RoomSettings, RoomStore } from '../store/rooms.js';
import type { User, UserStore } from '../store/users.js';
import type { SignalingHub } from './hub.js';

/** ModerationError — a refused moderation: its protocol error code and the HTTP status a page answers with. */
export class ModerationError extends Error {
  constructor(readonly code: ErrorCode, readonly status: number, message: string) {
    super(message);
  }
}

export interface ModerationDeps {
  rooms: RoomStore;
  users: UserStore;
  hub: SignalingHub;
}

const noRoom = () => new ModerationError(ErrorCode.RoomNotFound, 404, 'This room does not exist (it may have been deleted).');

/** mayModerate — the room's owner, or an admin. */
export function mayModerate(room: Room, user: Pick<User, 'id' | 'isAdmin'>): boolean {
  return user.isAdmin || room.ownerId === user.id;
}

/** Moderation — checks who may, then acts on the store and tells the sockets (on every instance). */
export class Moderation {
  constructor(private readonly deps: ModerationDeps) {}

  /**
   * remove — takes `targetId` out of the room: every tab of theirs in it leaves the call at once
   * (each hears `removed`), and their joins are refused until the ban lapses. Returns the ban in minutes.
   */
  async remove(slug: string, actorId: string, targetId: string): Promise<{ minutes: number }> {
    const { room, actor } = await this.authorize(slug, actorId);
    if (targetId === actor.id) throw new ModerationError(ErrorCode.NotAllowed, 403, 'You cannot remove yourself; use Leave instead.');
    const target = await this.deps.users.findById(targetId);
    if (!target) throw new ModerationError(ErrorCode.UserNotFound, 404, 'There is no such person.');
    if ((target.isAdmin || target.id === room.ownerId) && !actor.isAdmin) {
      throw new ModerationError(ErrorCode.NotAllowed, 403, "Only an admin can remove the room's owner or an admin.");
    }
    // The ban first: a join racing this removal is refused by it (the store checks it atomically).
    if (!(await this.deps.rooms.ban(room.slug, target.id))) throw noRoom();
    const minutes = minutesLeft(this.deps.rooms.banMs);
    await this.deps.hub.removeFromRoom(room.slug, target.id, minutes);
    return { minutes };
  }

  /** setLocked — locks or unlocks the room; everyone in it (but `except`, the asking tab) hears `room-updated`. */
  async setLocked(slug: string, actorId: string, locked: boolean, except?: string): Promise<Room> {
    const { room } = await this.authorize(slug, actorId);
    if (!(await this.deps.rooms.setLocked(room.slug, locked))) throw noRoom();
    return this.announce(room.slug, except);
  }

  /** updateSettings — a new capacity and/or passcode (validated by the caller); the room hears `room-updated`. */
  async updateSettings(slug: string, actorId: string, settings: RoomSettings): Promise<Room> {
    const { room } = await this.authorize(slug, actorId);
    if (room.invitedOnly) throw new ModerationError(ErrorCode.NotAllowed, 403, 'A private call has no settings to change.');
    if (!(await this.deps.rooms.updateSettings(room.slug, settings))) throw noRoom();
    return this.announce(room.slug);
  }

  /** authorize — the room, and the acting account if it may moderate it (read fresh: a demoted admin may no longer). */
  async authorize(slug: string, actorId: string): Promise<{ room: Room; actor: User }> {
    const [room, actor] = await Promise.all([this.deps.rooms.get(slug), this.deps.users.findById(actorId)]);
    if (!room) throw noRoom();
    if (!actor || actor.disabled || !mayModerate(room, actor)) {
      throw new ModerationError(ErrorCode.NotAllowed, 403, "Only this room's owner or an admin can do that.");
    }
    return { room, actor };
  }

  private async announce(slug: string, except?: string): Promise<Room> {
    const room = await this.deps.rooms.get(slug);
    if (!room) throw noRoom();
    await this.deps.hub.toRoom(slug, roomUpdated(room), except);
    await this.deps.hub.lobbyChanged();
    return room;
  }
}

/** roomUpdated — the `room-updated` message for `room`. */
export function roomUpdated(room: Room, ref?: string) {
  return { type: 'room-updated' as const, room: room.slug, capacity: room.capacity, locked: room.locked, hasPasscode: room.passcodeHash !== null, ...(ref ? { ref } : {}) };
}
