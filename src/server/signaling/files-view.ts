// What the shared files look like to one viewer: items live tabs hold (in the viewer's scope) and the viewer's own records.
import type { MyShare, SharedItemView } from '../../shared/protocol.js';
import { shareSize } from '../../shared/shares.js';
import type { RoomStore } from '../store/rooms.js';
import type { ShareRecord, ShareStore } from '../store/shares.js';

/** SharesSnapshot — every held item (by scope) and the records of the people asked about, read once and shown to many. */
export interface SharesSnapshot {
  /** Held items by scope: the room slug, or '' for the lobby. */
  items: Map<string, SharedItemView[]>;
  records: Map<string, ShareRecord[]>;
  /** Items some live tab of the person holds where it is now (any scope). */
  held: Map<string, Set<string>>;
}

/** FilesView — the `files` message's content for one viewer. */
export interface FilesView {
  items: SharedItemView[];
  mine: MyShare[];
}

function describe(record: ShareRecord) {
  const { item } = record;
  return {
    id: item.id, kind: item.kind, name: item.name, files: item.files, dirs: item.dirs,
    size: shareSize(item), type: item.kind === 'file' ? item.files[0]!.type : '',
  };
}

/**
 * buildSharesSnapshot — reads every live tab's holdings; an item is listed in a scope when a
 * live tab in that scope (its room now, or the lobby) holds it and its person still records it.
 * `viewers` are people whose own records are wanted too (even if they hold nothing now).
 */
export async function buildSharesSnapshot(rooms: RoomStore, shares: ShareStore, viewers: Iterable<string> = []): Promise<SharesSnapshot> {
  const live = await rooms.online();
  const holdings = await shares.holdings(live.map((p) => p.peerId));
  const holders = live.filter((p) => holdings.has(p.peerId));
  const records = await shares.records([...holders.map((p) => p.userId), ...viewers]);
  const byUser = new Map([...records].map(([userId, list]) => [userId, new Map(list.map((r) => [r.item.id, r]))]));

  const scopes = new Map<string, Map<string, { view: SharedItemView; first: ShareRecord }>>();
  const held = new Map<string, Set<string>>();
  for (const peer of holders) {
    const mine = byUser.get(peer.userId);
    for (const [id, room] of holdings.get(peer.peerId)!) {
      const record = mine?.get(id);
      if (!record) continue; // stopped sharing it; the tab has not heard yet
      // Held for a room the tab has left since: nobody it could serve sees it there (Offline).
      if (room !== peer.room) continue;
      let heldBy = held.get(peer.userId);
      if (!heldBy) held.set(peer.userId, (heldBy = new Set()));
      heldBy.add(id);
      const scope = room ?? '';
      let items = scopes.get(scope);
      if (!items) scopes.set(scope, (items = new Map()));
      let entry = items.get(id);
      if (!entry) {
        entry = { view: { ...describe(record), room, sharedAt: record.sharedAt, holders: [] }, first: record };
        items.set(id, entry);
      } else if (record.sharedAt < entry.first.sharedAt) {
        // The earliest sharer names the item.
        entry.first = record;
        entry.view = { ...entry.view, ...describe(record), sharedAt: record.sharedAt };
      }
      let holder = entry.view.holders.find((h) => h.userId === peer.userId);
      if (!holder) entry.view.holders.push((holder = { userId: peer.userId, displayName: peer.displayName, peers: [] }));
      holder.peers.push(peer.peerId);
    }
  }
  // Holders in the order they shared it ("Ana, Ben" when Ana shared first).
  const since = (userId: string, id: string) => byUser.get(userId)?.get(id)?.sharedAt ?? 0;
  for (const map of scopes.values()) for (const { view } of map.values()) view.holders.sort((a, b) => since(a.userId, view.id) - since(b.userId, view.id) || a.displayName.localeCompare(b.displayName));
  const items = new Map([...scopes].map(([scope, map]) => [scope, [...map.values()].map((e) => e.view).sort(newestFirst)]));
  return { items, records, held };
}

function newestFirst(a: { sharedAt: number; name: string }, b: { sharedAt: number; name: string }): number {
  return b.sharedAt - a.sharedAt || a.name.localeCompare(b.name);
}

/** itemsIn — the held items a tab in `room` (null: the lobby) may see. */
export function itemsIn(snapshot: SharesSnapshot, room: string | null): SharedItemView[] {
  return snapshot.items.get(room ?? '') ?? [];
}

/** mineOf — the person's own records, each with whether a live tab of theirs holds it. */
export function mineOf(snapshot: SharesSnapshot, userId: string): MyShare[] {
  const held = snapshot.held.get(userId);
  return (snapshot.records.get(userId) ?? []).map((r): MyShare => ({
    ...describe(r), room: r.room, sharedAt: r.sharedAt, held: held?.has(r.item.id) ?? false,
  }));
}

/** viewFor — what a tab of `userId` in `room` (null: the lobby) may see. */
export function viewFor(snapshot: SharesSnapshot, userId: string, room: string | null): FilesView {
  return { items: itemsIn(snapshot, room), mine: mineOf(snapshot, userId) };
}
