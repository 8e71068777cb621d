// Who may enter a room: the owner always; others after its current passcode, or when invited (rung in, private calls).
import type { SessionData } from 'express-session';
import type { Room, RoomStore } from '../store/rooms.js';

declare module 'express-session' {
  interface SessionData {
    /**
     * Rooms whose passcode this session has entered: slug → the room's passcodeVersion then. A
     * changed passcode has a new version, so the old one no longer lets anyone in.
     */
    roomPasscodes?: Record<string, number>;
  }
}

export type RoomAccess = 'ok' | 'passcode' | 'not-invited';

/** passcodeEntered — this session entered the room's current passcode. */
function passcodeEntered(room: Room, session: Partial<SessionData>): boolean {
  if (session.roomPasscodes?.[room.slug] === room.passcodeVersion) return true;
  // Sessions from before passcodes had versions: their entry counts until the passcode changes.
  return room.passcodeVersion === 0 && session.roomAccess?.[room.slug] === true;
}

/** canEnterRoom — the one rule both the room page and the signaling `join` apply. */
export async function canEnterRoom(rooms: RoomStore, room: Room, userId: string, session: Partial<SessionData>): Promise<RoomAccess> {
  if (room.ownerId === userId) return 'ok';
  if (!room.invitedOnly && (!room.passcodeHash || passcodeEntered(room, session))) return 'ok';
  // Someone rung into the room by a member needs no passcode.
  if (await rooms.isInvited(room.slug, userId)) return 'ok';
  return room.invitedOnly ? 'not-invited' : 'passcode';
}

/** grantRoomAccess — remembers in the session that the room's current passcode was entered (bounded list). */
export function grantRoomAccess(session: Partial<SessionData>, room: Room): void {
  const { [room.slug]: _previous, ...others } = session.roomPasscodes ?? {};
  // Re-inserted last: the list keeps the 50 most recently entered rooms, so a session cannot grow without bound.
  const access: Record<string, number> = { ...others, [room.slug]: room.passcodeVersion };
  const slugs = Object.keys(access);
  for (const old of slugs.slice(0, Math.max(0, slugs.length - 50))) delete access[old];
  session.roomPasscodes = access;
}
