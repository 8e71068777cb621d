// The lobby page: server-rendered Online now, Live rooms and Your rooms (the island keeps them live).
import { Router } from 'express';
import type { Assets } from '../assets.js';
import { buildLobbySnapshot } from '../signaling/lobby-view.js';
import type { CallStore } from '../store/calls.js';
import type { RoomStore } from '../store/rooms.js';

export interface PageRoutesDeps {
  assets: Assets;
  rooms: RoomStore;
  calls: CallStore;
  /** The capacity the New room form suggests. */
  defaultCapacity: number;
}

export interface NewRoomForm {
  errors: { name?: string; capacity?: string; passcode?: string; form?: string };
  values: { name: string; capacity: number | string; passcode: '' };
}

/** lobbyLocals — everything lobby.pug needs for `userId`, with the New room form as `newRoom` says. */
export async function lobbyLocals(rooms: RoomStore, assets: Assets, userId: string, newRoom: NewRoomForm) {
  const [snapshot, mine] = await Promise.all([buildLobbySnapshot(rooms), rooms.listByOwner(userId)]);
  const counts = await Promise.all(mine.map((r) => rooms.memberCount(r.slug)));
  return {
    title: 'Lobby',
    scripts: assets.islands.lobby ? [assets.islands.lobby] : [],
    online: snapshot.online.map((o) => ({ ...o, isSelf: o.userId === userId })),
    liveRooms: snapshot.rooms,
    myRooms: mine.map((r, i) => ({ slug: r.slug, name: r.name, capacity: r.capacity, count: counts[i] ?? 0, hasPasscode: r.passcodeHash !== null })),
    newRoom,
  };
}

/** pageRoutes — routes that need a signed-in user (the caller enforces that). */
export function pageRoutes(deps: PageRoutesDeps): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const userId = res.locals.user!.id;
    const newRoom: NewRoomForm = { errors: {}, values: { name: '', capacity: deps.defaultCapacity, passcode: '' } };
    const [locals, missedCalls] = await Promise.all([lobbyLocals(deps.rooms, deps.assets, userId, newRoom), deps.calls.missed(userId)]);
    res.render('lobby', { ...locals, missedCalls });
  });
  return router;
}
