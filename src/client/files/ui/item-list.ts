// The list of shared items (the /files page's "Shared files", the room's "Shared in this room"): name, size, type, holders, when, and Download / Play (/ Play to the room).
import type { SharedItemView } from '../../../shared/protocol.js';
import { h, icon } from '../../shared/ui/dom.js';
import type { DownloadState } from '../lib/files-engine.js';
import { holdersText, iconFor, isVideo, matches, metaText, shownName, whenText } from './format.js';
import { KeyedList } from './keyed-list.js';

/** ItemActions — what a row's buttons do. */
export interface ItemActions {
  download(item: SharedItemView): void;
  play(item: SharedItemView): void;
}

/** ItemListOptions — the list, its empty-state paragraph, and its wording. */
export interface ItemListOptions {
  list: HTMLElement;
  empty: HTMLElement;
  selfUserId: string;
  actions: ItemActions;
  /** stop — Stop sharing on the rows of items this person holds (the room's list; /files has Your shares for it). */
  stop?: (item: SharedItemView) => void;
  /** playToRoom — Play <name> to the room on videos (the room's list, while in its call). */
  playToRoom?: (item: SharedItemView) => void;
  /** emptyText — nothing at all (q ''), or nothing matching q. */
  emptyText(q: string): string;
}

// A download in these states already has its row under Downloads; Download would only repeat it.
const BUSY: ReadonlySet<DownloadState> = new Set(['downloading', 'paused', 'verifying', 'verified']);

/** ItemList — renders items live, filtered by a search; rows keep their DOM while unchanged. */
export class ItemList {
  private readonly rows: KeyedList<{ item: SharedItemView; busy: boolean }>;

  constructor(private readonly o: ItemListOptions) {
    this.rows = new KeyedList(o.list, (e) => e.item.id, (e) => JSON.stringify([e.item.name, e.item.size, e.item.type, e.item.sharedAt, e.item.files.length, holdersText(e.item, o.selfUserId), e.busy]), (e) => this.row(e.item, e.busy));
  }

  /** render — the items matching `q`, newest first; `downloads` tells which ones are being (or were) downloaded here. */
  render(items: readonly SharedItemView[], q: string, downloads: ReadonlyMap<string, DownloadState>): void {
    const shown = items.filter((i) => matches(i, q)).sort((a, b) => b.sharedAt - a.sharedAt || a.name.localeCompare(b.name));
    this.rows.render(shown.map((item) => ({ item, busy: BUSY.has(downloads.get(item.id) ?? 'cancelled') })));
    this.o.empty.hidden = shown.length > 0;
    const text = this.o.emptyText(items.length ? q.trim() : '');
    if (this.o.empty.textContent !== text) this.o.empty.textContent = text;
  }

  private row(item: SharedItemView, busy: boolean): HTMLLIElement {
    const name = shownName(item);
    const mine = item.holders.some((x) => x.userId === this.o.selfUserId);
    const actions = h('div', { class: 'file-item__actions' });
    const button = (label: string, aria: string, iconName: string, fn: () => void, cls = 'btn--secondary') => {
      const b = h('button', { type: 'button', class: `btn btn--small ${cls}`, 'aria-label': aria }, icon(iconName), h('span', { 'aria-hidden': 'true' }, label));
      b.addEventListener('click', fn);
      actions.append(b);
    };
    if (isVideo(item)) button('Play', `Play ${name}`, 'play', () => this.o.actions.play(item));
    if (isVideo(item) && this.o.playToRoom) {
      const playToRoom = this.o.playToRoom;
      button('Play to the room', `Play ${name} to the room`, 'film', () => playToRoom(item));
    }
    if (mine && this.o.stop) {
      const stop = this.o.stop;
      button('Stop sharing', 'Stop sharing', 'x', () => stop(item), 'btn--danger-outline');
    }
    if (!mine && !busy) button('Download', item.kind === 'folder' ? `Download folder ${name}` : `Download ${name}`, 'download', () => this.o.actions.download(item), 'btn--primary');
    return h('li', { class: 'file-item', 'data-id': item.id },
      h('span', { class: 'file-item__icon' }, icon(iconFor(item))),
      h('div', { class: 'file-item__body' },
        h('span', { class: 'file-item__name' }, name),
        h('span', { class: 'file-item__meta' }, metaText(item)),
        h('span', { class: 'file-item__who' },
          h('span', { class: 'visually-hidden' }, 'Shared by '), holdersText(item, this.o.selfUserId), ' · ',
          h('time', { datetime: new Date(item.sharedAt).toISOString() }, whenText(item.sharedAt)))),
      actions);
  }
}
