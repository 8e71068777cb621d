// "In the room now": one row per person (two tabs of one person are one row), kept live.
import { avatar, h } from '../../shared/ui/dom.js';

export interface Member {
  userId: string;
  displayName: string;
}

/** RowAction — builds a control for a person's row (null: none for them); it is marked data-moderation. */
type RowAction = (member: Member) => HTMLElement | null;

/**
 * MemberList — fills ul#room-members (and toggles its empty state); `selfUserId` gets "(you)".
 * `action` (the owner's and admins' Remove from room) is made anew for each row; whatever else
 * other features put in a row's .person-actions stays while its person is here.
 */
export class MemberList {
  constructor(private readonly list: HTMLElement, private readonly empty: HTMLElement | null, private readonly selfUserId: string, private readonly action?: RowAction) {}

  /** show — replaces the rows with `members` (in order, one per person). */
  show(members: readonly Member[]): void {
    const seen = new Map<string, Member>();
    for (const m of members) if (!seen.has(m.userId)) seen.set(m.userId, m);
    const old = new Map([...this.list.querySelectorAll<HTMLElement>(':scope > li')].map((li) => [li.dataset.userId ?? '', li]));
    const rows = [...seen.values()].map((m) => {
      // Other features' buttons carry over; moderation controls (the server's forms too) are made anew.
      const kept = [...(old.get(m.userId)?.querySelector('.person-actions')?.children ?? [])].filter((c) => !(c as HTMLElement).hasAttribute('data-moderation'));
      const action = this.action?.(m) ?? null;
      action?.setAttribute('data-moderation', '');
      return h('li', { class: 'person', 'data-user-id': m.userId },
        avatar(m.displayName),
        h('div', { class: 'person__body' },
          h('span', { class: 'person__name' }, m.displayName, m.userId === this.selfUserId ? h('span', { class: 'person__you' }, ' (you)') : null)),
        h('div', { class: 'person-actions' }, ...kept, action));
    });
    this.list.replaceChildren(...rows);
    if (this.empty) this.empty.hidden = rows.length > 0;
  }
}
