// Who may enter a room: the owner always; others after its passcode, or when invited (rung in, private calls).
import type { SessionData } from 'express-session';
import type { Room, RoomStore } from '../store/rooms.js';

export type RoomAccess = 'ok' | 'passcode' | 'not-invited';

/** canEnterRoom — the one rule both the room page and the signaling `join` apply. */
export async function canEnterRoom(rooms: RoomStore, room: Room, userId: string, session: Partial<SessionData>): Promise<RoomAccess> {
  if (room.ownerId === userId) return 'ok';
  if (!room.invitedOnly && (!room.passcodeHash || session.roomAccess?.[room.slug])) return 'ok';
  // Someone rung into the room by a member needs no passcode.
  if (await rooms.isInvited(room.slug, userId)) return 'ok';
  return room.invitedOnly ? 'not-invited' : 'passcode';
}

/** grantRoomAccess — remembers in the session that its passcode was entered (bounded list). */
export function grantRoomAccess(session: Partial<SessionData>, slug: string): void {
  const access = { ...(session.roomAccess ?? {}), [slug]: true as const };
  const slugs = Object.keys(access);
  // Keep the 50 most recent so a session cannot grow without bound.
  for (const old of slugs.slice(0, Math.max(0, slugs.length - 50))) delete access[old];
  session.roomAccess = access;
}
