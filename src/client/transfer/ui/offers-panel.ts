// The receiver's list of offers: one calm row per offer (who, what, how big, Accept, Decline), never a modal.
import { formatBytes } from '../../../shared/ledger.js';
import type { IncomingOffer } from '../lib/manager.js';
import { avatar, h, icon } from '../../shared/ui/dom.js';

/** OfferAnswers — what the two buttons do (with this tab's id for the offer). */
export interface OfferAnswers {
  accept(id: string): void;
  decline(id: string): void;
  canReceive: boolean;
}

// A 64-file offer lists a few names; the count and total say the rest.
const NAMES_SHOWN = 3;

/**
 * OffersPanel — "Files offered to you": a region that shows itself while offers wait. Offers come
 * from other people and may be unwanted or many, so they never take the page over: no modal, no
 * focus moved (a stray key press answers nothing), one row each. Its status line is polite live
 * text, so screen readers hear of new offers without being interrupted.
 */
export class OffersPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly rows = new Map<string, { li: HTMLLIElement; decline: HTMLButtonElement }>();

  constructor(private readonly answers: OfferAnswers) {
    this.list = h('ul', { class: 'transfer-offers__list' });
    this.status = h('p', { class: 'transfer-offers__status', role: 'status' });
    this.el = h('section', { class: 'panel transfer-offers', 'aria-labelledby': 'transfer-offers-heading', hidden: true },
      h('h2', { id: 'transfer-offers-heading', class: 'panel__title' }, icon('download'), h('span', {}, 'Files offered to you')),
      this.status,
      this.list);
  }

  show(offer: IncomingOffer): void {
    if (this.rows.has(offer.id)) return;
    const row = this.row(offer);
    this.rows.set(offer.id, row);
    this.list.append(row.li);
    this.changed();
  }

  /** close — the offer was answered (here or in another tab) or withdrawn. */
  close(id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    // A row answered from the keyboard hands the focus to a neighbour's Decline, never to an
    // Accept: pressing Enter once too often must not accept the next offer.
    const hadFocus = row.li.contains(document.activeElement);
    // Rows are kept in arrival order, the order they are shown in.
    const all = [...this.rows.values()];
    const at = all.indexOf(row);
    const next = all[at + 1] ?? all[at - 1];
    this.rows.delete(id);
    row.li.remove();
    this.changed();
    if (hadFocus) next?.decline.focus();
  }

  private changed(): void {
    const n = this.rows.size;
    this.el.hidden = n === 0;
    const waiting = n === 1 ? 'One offer is waiting for your answer.' : `${n} offers are waiting for your answer.`;
    this.status.textContent = n === 0 ? '' : this.answers.canReceive
      ? `${waiting} Nothing is received until you accept.`
      : `${waiting} This browser cannot store received files (it has no origin-private file system).`;
  }

  private row(offer: IncomingOffer): { li: HTMLLIElement; decline: HTMLButtonElement } {
    const n = offer.files.length;
    const first = offer.files[0]!;
    // What the buttons act on, in their names: "Accept report.pdf from Ada" — several rows each have their own.
    const what = n === 1 ? first.name : `${n} files`;
    const who = offer.sender.displayName;
    const summaryId = `transfer-offer-${offer.id}`;
    const accept = h('button', { type: 'button', class: 'btn btn--primary btn--small', 'aria-label': `Accept ${what} from ${who}`, 'aria-describedby': summaryId, disabled: !this.answers.canReceive }, 'Accept');
    const decline = h('button', { type: 'button', class: 'btn btn--secondary btn--small', 'aria-label': `Decline ${what} from ${who}`, 'aria-describedby': summaryId }, 'Decline');
    accept.addEventListener('click', () => this.answers.accept(offer.id));
    decline.addEventListener('click', () => this.answers.decline(offer.id));
    const shown = offer.files.slice(0, NAMES_SHOWN);
    const li = h('li', { class: 'list-row transfer-offer', 'data-offer-id': offer.id },
      avatar(who),
      h('div', { class: 'list-row__body' },
        h('p', { class: 'transfer-offer__who', id: summaryId },
          h('strong', {}, who), ' ',
          h('span', { class: 'transfer-offer__what' }, n === 1 ? `offers ${first.name} (${formatBytes(first.size)})` : `offers ${n} files (${formatBytes(offer.total)} in all)`)),
        n > 1 ? h('ul', { class: 'transfer-offer__files' },
          ...shown.map((f) => h('li', { class: 'transfer-offer__file' }, h('span', { class: 'transfer-offer__name' }, f.name), h('span', { class: 'transfer-offer__size' }, formatBytes(f.size)))),
          n > NAMES_SHOWN ? h('li', { class: 'transfer-offer__more' }, `and ${n - NAMES_SHOWN} more`) : null) : null),
      h('div', { class: 'transfer-offer__actions' }, accept, decline));
    return { li, decline };
  }
}
