// Builds what the lobby shows (Online now, Live rooms) from Redis, for the page and for live updates.
import { compareOnline, compareRooms } from '../../shared/lobby.js';
import type { LiveRoom, OnlineEntry } from '../../shared/protocol.js';
import type { RoomStore } from '../store/rooms.js';

/** LobbySnapshot — Online now and Live rooms, each in the order the page shows them. */
export interface LobbySnapshot {
  online: OnlineEntry[];
  rooms: LiveRoom[];
}

/** buildLobbySnapshot — one entry per person (several tabs count once; a tab in a room wins). */
export async function buildLobbySnapshot(rooms: RoomStore): Promise<LobbySnapshot> {
  const [peers, live] = await Promise.all([rooms.online(), rooms.liveRooms()]);
  // Redis lists tabs by heartbeat expiry, which reshuffles them at every heartbeat. The lobby
  // must not: browsers get deltas, and a reshuffled list would look like a change.
  peers.sort(byPeerId);
  const roomNames = new Map(live.map((l) => [l.room.slug, l.room.name]));
  const people = new Map<string, OnlineEntry>();
  for (const p of peers) {
    const inRoom = p.room && roomNames.has(p.room) ? { kind: 'room' as const, slug: p.room, name: roomNames.get(p.room)! } : null;
    const known = people.get(p.userId);
    const lobbyPeers = [...(known?.lobbyPeers ?? []), ...(p.room ? [] : [p.peerId])];
    if (!known || (inRoom && known.where.kind === 'lobby')) {
      people.set(p.userId, { userId: p.userId, displayName: p.displayName, where: inRoom ?? { kind: 'lobby' }, lobbyPeers });
    } else {
      known.lobbyPeers = lobbyPeers;
    }
  }
  // One order for the page and for browsers that apply lobby deltas (compareOnline, compareRooms).
  const online = [...people.values()].sort(compareOnline);
  const liveRooms: LiveRoom[] = live.map(({ room, members }) => ({
    slug: room.slug,
    name: room.name,
    capacity: room.capacity,
    count: members.length,
    hasPasscode: room.passcodeHash !== null,
    locked: room.locked,
    members: members.sort(byPeerId).map((m) => ({ userId: m.userId, displayName: m.displayName })),
  }));
  // Private call rooms are nobody else's business: they do not appear in the lobby.
  const privateSlugs = new Set(live.filter((l) => l.room.invitedOnly).map((l) => l.room.slug));
  return {
    online: online.map((o) => (o.where.kind === 'room' && privateSlugs.has(o.where.slug) ? { ...o, where: { kind: 'call' } } : o)),
    rooms: liveRooms.filter((r) => !privateSlugs.has(r.slug)).sort(compareRooms),
  };
}

function byPeerId(a: { peerId: string }, b: { peerId: string }): number {
  return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0;
}
