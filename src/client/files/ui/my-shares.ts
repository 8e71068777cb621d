// Your shares: what the person shares (any tab, any scope), Available or Offline, with Stop sharing and, when offline, Share again.
import type { MyShare } from '../../../shared/protocol.js';
import { h, icon } from '../../shared/ui/dom.js';
import { iconFor, metaText, shownName } from './format.js';
import { KeyedList } from './keyed-list.js';

/** MyShareActions — what the row buttons do. */
export interface MyShareActions {
  stop(share: MyShare): Promise<void>;
  again(share: MyShare): void;
}

/** MyShares — renders the person's own shares into `list`, and `empty` when there are none. */
export class MyShares {
  private readonly rows: KeyedList<MyShare>;

  constructor(list: HTMLElement, private readonly empty: HTMLElement, private readonly actions: MyShareActions) {
    this.rows = new KeyedList(list, (s) => s.id, (s) => JSON.stringify([s.name, s.size, s.held, s.room]), (s) => this.row(s));
  }

  render(mine: readonly MyShare[]): void {
    this.rows.render([...mine].sort((a, b) => b.sharedAt - a.sharedAt || a.name.localeCompare(b.name)));
    this.empty.hidden = mine.length > 0;
  }

  private row(s: MyShare): HTMLLIElement {
    const stop = h('button', { type: 'button', class: 'btn btn--small btn--danger-outline' }, 'Stop sharing');
    stop.addEventListener('click', () => {
      // Off while the server answers; back on if it refused (the row goes when it agrees).
      stop.disabled = true;
      void this.actions.stop(s).finally(() => {
        stop.disabled = false;
      });
    });
    // A room's share comes back from that room (Share in this room); here it would become everyone's.
    const again = !s.held && s.room === null && h('button', { type: 'button', class: 'btn btn--small btn--secondary' }, icon('upload'), h('span', {}, 'Share again'));
    if (again) again.addEventListener('click', () => this.actions.again(s));
    return h('li', { class: 'file-item', 'data-id': s.id },
      h('span', { class: 'file-item__icon' }, icon(iconFor(s))),
      h('div', { class: 'file-item__body' },
        h('span', { class: 'file-item__name' }, shownName(s)),
        h('span', { class: 'file-item__meta' }, metaText(s), s.room && ' · ', s.room && h('a', { href: `/r/${encodeURIComponent(s.room)}` }, 'In a room')),
        h('span', { class: s.held ? 'badge file-item__state file-item__state--available' : 'badge file-item__state' }, s.held ? 'Available' : 'Offline')),
      h('div', { class: 'file-item__actions' }, again, stop));
  }
}
