// Renders the lobby's live lists (Online now, Live rooms, Your rooms counts) from `lobby` messages.
import type { LiveRoom, OnlineEntry } from '../../shared/protocol.js';
import { avatar, h as el, icon } from './dom.js';


/** LobbyView — owns the three lists and their empty states. */
export class LobbyView {
  /** Rendered rows by user, with what they showed: an unchanged person keeps their row (and focus). */
  private readonly rows = new Map<string, { sig: string; li: HTMLLIElement }>();

  constructor(private readonly root: HTMLElement, private readonly selfId: string) {}

  /** personActions — hook for features that add per-person buttons (call, send file). */
  personActions: ((entry: OnlineEntry, container: HTMLElement) => void)[] = [];

  renderOnline(online: OnlineEntry[]): void {
    const list = this.root.querySelector<HTMLUListElement>('#online-list');
    if (!list) return;
    // Lobby updates arrive often; rebuilding a row would drop the keyboard focus on its buttons
    // (and pull a button from under a pointer). Rows are rebuilt only when they change, and a
    // focused button that had to be rebuilt gets the focus back.
    const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement : null;
    const focusedUser = focused?.closest<HTMLElement>('li[data-user-id]')?.dataset.userId;
    const focusedName = focused?.getAttribute('aria-label') ?? focused?.textContent ?? '';
    const seen = new Set<string>();
    const items = online.map((p) => {
      seen.add(p.userId);
      const sig = JSON.stringify(p);
      const kept = this.rows.get(p.userId);
      if (kept?.sig === sig) return kept.li;
      const li = this.row(p);
      this.rows.set(p.userId, { sig, li });
      return li;
    });
    for (const id of [...this.rows.keys()]) if (!seen.has(id)) this.rows.delete(id);
    if (items.some((li, i) => list.children[i] !== li) || list.children.length !== items.length) list.replaceChildren(...items);
    if (focused && !focused.isConnected && focusedUser) {
      const row = this.rows.get(focusedUser)?.li;
      const again = [...(row?.querySelectorAll<HTMLElement>('button, a') ?? [])].find((b) => (b.getAttribute('aria-label') ?? b.textContent ?? '') === focusedName);
      again?.focus();
    }
    this.toggleEmpty('#online-empty', online.some((p) => p.userId !== this.selfId));
  }

  private row(p: OnlineEntry): HTMLLIElement {
    const isSelf = p.userId === this.selfId;
    const where = p.where.kind === 'room'
      ? el('span', { class: 'person__where' }, 'In ', el('a', { href: `/r/${encodeURIComponent(p.where.slug)}` }, p.where.name))
      : el('span', { class: 'person__where' }, p.where.kind === 'call' ? 'In a call' : 'In the lobby');
    const actions = el('div', { class: 'person-actions' });
    if (!isSelf) for (const add of this.personActions) add(p, actions);
    return el('li', { class: isSelf ? 'person person--self' : 'person', 'data-user-id': p.userId },
      avatar(p.displayName),
      el('div', { class: 'person__body' },
        el('span', { class: 'person__name' }, p.displayName, isSelf && el('span', { class: 'person__you' }, ' (you)')),
        where),
      actions) as HTMLLIElement;
  }

  renderLiveRooms(rooms: LiveRoom[]): void {
    const list = this.root.querySelector<HTMLUListElement>('#live-rooms');
    if (!list) return;
    list.replaceChildren(...rooms.map((r) => el('li', { class: 'room-item room-item--live', 'data-slug': r.slug },
      el('div', { class: 'room-item__body' },
        el('span', { class: 'room-item__title' },
          el('a', { class: 'room-item__link', href: `/r/${encodeURIComponent(r.slug)}` }, r.name),
          r.hasPasscode && icon('lock', 'room-item__lock'),
          r.hasPasscode && el('span', { class: 'visually-hidden' }, 'Passcode required')),
        r.members.length > 0 && el('span', { class: 'room-item__members' }, r.members.map((m) => m.displayName).join(', '))),
      this.badge(r.count, r.capacity))));
    this.toggleEmpty('#live-empty', rooms.length > 0);
    this.updateMyRoomCounts(rooms);
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
