// Renders the lobby's live lists (Online now, Live rooms, Your rooms counts) from lobby updates, rebuilding only changed rows.
import type { LobbyChange } from '../../../shared/lobby.js';
import type { LiveRoom, OnlineEntry } from '../../../shared/protocol.js';
import { avatar, h as el, icon } from '../../shared/ui/dom.js';

/** Rows of a keyed list, with the data each one shows. */
type Rows<T> = Map<string, { sig: string; li: HTMLLIElement; data: T }>;

/**
 * LobbyLists — owns the three lists and their empty states. Lobby updates arrive often and
 * say which people and rooms changed: only those rows are rebuilt, so the others keep their
 * DOM, their keyboard focus and whatever is under the pointer.
 */
export class LobbyLists {
  private readonly people: Rows<OnlineEntry> = new Map();
  private readonly liveRooms: Rows<LiveRoom> = new Map();

  constructor(private readonly root: HTMLElement, private readonly selfUserId: string) {}

  /** personActions — features add per-person buttons (call, send file) to `actions`, a part of the person's `row`. */
  readonly personActions: ((entry: OnlineEntry, actions: HTMLElement, row: HTMLLIElement) => void)[] = [];

  /** update — one lobby update (see followLobby): the lists that changed, and in them the rows that changed. */
  update(lobby: { online: OnlineEntry[]; rooms: LiveRoom[] }, change: LobbyChange): void {
    if (change.full || change.online.size > 0) this.renderOnline(lobby.online, change.full ? null : change.online);
    if (change.full || change.rooms.size > 0) this.renderLiveRooms(lobby.rooms, change.full ? null : change.rooms);
  }

  /** renderOnline — Online now; `changed` (userIds) limits the rows looked at again (null: all). */
  renderOnline(online: OnlineEntry[], changed: ReadonlySet<string> | null = null): void {
    const list = this.root.querySelector<HTMLUListElement>('#online-list');
    if (!list) return;
    reconcile(list, this.people, online, (p) => p.userId, changed, (p) => this.row(p), 'data-user-id');
    this.toggleEmpty('#online-empty', online.some((p) => p.userId !== this.selfUserId));
  }

  private row(p: OnlineEntry): HTMLLIElement {
    const isSelf = p.userId === this.selfUserId;
    const where = p.where.kind === 'room'
      ? el('span', { class: 'person__where' }, 'In ', el('a', { href: `/r/${encodeURIComponent(p.where.slug)}` }, p.where.name))
      : el('span', { class: 'person__where' }, p.where.kind === 'call' ? 'In a call' : 'In the lobby');
    const actions = el('div', { class: 'person-actions' });
    const row = el('li', { class: isSelf ? 'person person--self' : 'person', 'data-user-id': p.userId },
      avatar(p.displayName),
      el('div', { class: 'person__body' },
        el('span', { class: 'person__name' }, p.displayName, isSelf && el('span', { class: 'person__you' }, ' (you)')),
        where),
      actions);
    if (!isSelf) for (const add of this.personActions) add(p, actions, row);
    return row;
  }

  /** renderLiveRooms — Live rooms and the counts in Your rooms; `changed` (slugs) as for renderOnline. */
  renderLiveRooms(rooms: LiveRoom[], changed: ReadonlySet<string> | null = null): void {
    const list = this.root.querySelector<HTMLUListElement>('#live-rooms');
    if (!list) return;
    reconcile(list, this.liveRooms, rooms, (r) => r.slug, changed, (r) => this.roomRow(r), 'data-slug');
    this.toggleEmpty('#live-empty', rooms.length > 0);
    this.updateMyRoomCounts(rooms);
  }

  private roomRow(r: LiveRoom): HTMLLIElement {
    return el('li', { class: 'room-item room-item--live', 'data-slug': r.slug },
      el('div', { class: 'room-item__body' },
        el('span', { class: 'room-item__title' },
          el('a', { class: 'room-item__link', href: `/r/${encodeURIComponent(r.slug)}` }, r.name),
          r.hasPasscode && icon('lock', 'room-item__lock'),
          r.hasPasscode && el('span', { class: 'visually-hidden' }, 'Passcode required'),
          r.locked && el('span', { class: 'badge badge--locked room-item__locked' }, 'Locked')),
        r.members.length > 0 && el('span', { class: 'room-item__members' }, r.members.map((m) => m.displayName).join(', '))),
      this.badge(r.count, r.capacity)) as HTMLLIElement;
  }

  /** updateMyRoomCounts — Your rooms shows live counts too (a room absent from Live rooms is empty). */
  private updateMyRoomCounts(rooms: LiveRoom[]): void {
    const counts = new Map(rooms.map((r) => [r.slug, r]));
    for (const li of this.root.querySelectorAll<HTMLLIElement>('#my-rooms li[data-slug]')) {
      const old = li.querySelector('.badge');
      const capacity = Number(li.dataset.capacity);
      const live = counts.get(li.dataset.slug ?? '');
      if (old && capacity) old.replaceWith(this.badge(live?.count ?? 0, capacity));
    }
  }

  private badge(count: number, capacity: number): HTMLElement {
    return el('span', { class: count >= capacity ? 'badge badge--full' : 'badge' },
      icon('users'),
      el('span', { 'aria-hidden': 'true' }, `${count}/${capacity}`),
      el('span', { class: 'visually-hidden' }, `${count} of ${capacity}`));
  }

  private toggleEmpty(selector: string, hasItems: boolean): void {
    const empty = this.root.querySelector<HTMLElement>(selector);
    if (empty) empty.hidden = hasItems;
  }
}

/**
 * reconcile — makes `list` show `items` in order, reusing the row of every item whose data is
 * unchanged (only ids in `changed` are compared; null compares all). A focused button or link
 * in a row that had to be rebuilt gets the focus back in the new row. `keyAttr` names the
 * row attribute holding the id (server-rendered rows have it too).
 */
function reconcile<T>(list: HTMLUListElement, rows: Rows<T>, items: readonly T[], key: (item: T) => string, changed: ReadonlySet<string> | null, build: (item: T) => HTMLLIElement, keyAttr: string): void {
  const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement : null;
  const focusedKey = focused?.closest('li')?.getAttribute(keyAttr) ?? undefined;
  const focusedName = focused ? label(focused) : '';
  const seen = new Set<string>();
  const lis = items.map((item) => {
    const id = key(item);
    seen.add(id);
    const kept = rows.get(id);
    if (kept && (kept.data === item || (changed && !changed.has(id)))) return kept.li;
    const sig = JSON.stringify(item);
    if (kept?.sig === sig) {
      kept.data = item;
      return kept.li;
    }
    const li = build(item);
    rows.set(id, { sig, li, data: item });
    return li;
  });
  for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
  // Touch only rows that are new, gone or moved: unchanged rows stay where they are.
  const keep = new Set(lis);
  for (const child of [...list.children]) if (!keep.has(child as HTMLLIElement)) child.remove();
  let cursor = list.firstElementChild;
  for (const li of lis) {
    if (li === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(li, cursor);
  }
  if (focused && document.activeElement !== focused) {
    // Moving or rebuilding its row dropped the focus: give it back (to the same control in the new row).
    const again = focused.isConnected ? focused : [...(rows.get(focusedKey ?? '')?.li.querySelectorAll<HTMLElement>('button, a') ?? [])].find((b) => label(b) === focusedName);
    again?.focus();
  }
}

function label(e: HTMLElement): string {
  return e.getAttribute('aria-label') ?? e.textContent ?? '';
}
