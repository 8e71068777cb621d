// "In the room now": one row per person (two tabs of one person are one row), kept live.
import { avatar, h } from '../../shared/ui/dom.js';

export interface Member {
  userId: string;
  displayName: string;
}

/** MemberList — fills ul#room-members (and toggles its empty state); `selfUserId` gets "(you)". */
export class MemberList {
  constructor(private readonly list: HTMLElement, private readonly empty: HTMLElement | null, private readonly selfUserId: string) {}

  /** show — replaces the rows with `members` (in order, one per person). */
  show(members: readonly Member[]): void {
    const seen = new Map<string, Member>();
    for (const m of members) if (!seen.has(m.userId)) seen.set(m.userId, m);
    const rows = [...seen.values()].map((m) => h('li', { class: 'person', 'data-user-id': m.userId },
      avatar(m.displayName),
      h('div', { class: 'person__body' },
        h('span', { class: 'person__name' }, m.displayName, m.userId === this.selfUserId ? h('span', { class: 'person__you' }, ' (you)') : null)),
      h('div', { class: 'person-actions' })));
    // Other features add buttons to .person-actions; keep rows whose person is still here.
    const old = new Map([...this.list.querySelectorAll<HTMLElement>(':scope > li')].map((li) => [li.dataset.userId ?? '', li]));
    this.list.replaceChildren(...rows.map((row) => {
      const prev = old.get(row.dataset.userId ?? '');
      const actions = prev?.querySelector('.person-actions');
      if (actions && actions.childElementCount > 0) row.querySelector('.person-actions')!.replaceWith(actions);
      return row;
    }));
    if (this.empty) this.empty.hidden = rows.length > 0;
  }
}
