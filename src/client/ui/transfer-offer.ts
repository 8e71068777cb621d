// The receiver's question: "<Sender> wants to send you …" with the files, their sizes, Accept and Decline.
import { formatBytes } from '../../shared/ledger.js';
import type { IncomingOffer } from '../lib/transfer/manager.js';
import { avatar, h } from './dom.js';

/** OfferAnswers — what the two buttons do. */
export interface OfferAnswers {
  accept(offerId: string): void;
  decline(offerId: string): void;
  canReceive: boolean;
}

/** OfferDialogs — one modal at a time; offers that arrive meanwhile wait their turn. */
export class OfferDialogs {
  private readonly queue: IncomingOffer[] = [];
  private current: { offer: IncomingOffer; dialog: HTMLDialogElement } | null = null;

  constructor(private readonly answers: OfferAnswers) {}

  show(offer: IncomingOffer): void {
    this.queue.push(offer);
    if (!this.current) this.next();
  }

  /** close — the offer was answered elsewhere (another tab) or withdrawn. */
  close(offerId: string): void {
    const i = this.queue.findIndex((o) => o.id === offerId);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.current?.offer.id === offerId) this.finish();
  }

  private next(): void {
    const offer = this.queue.shift();
    if (!offer) return;
    const n = offer.files.length;
    const title = `${offer.sender.displayName} wants to send you ${n === 1 ? 'a file' : `${n} files`}`;
    const accept = h('button', { type: 'button', class: 'btn btn--primary', disabled: !this.answers.canReceive }, 'Accept');
    const decline = h('button', { type: 'button', class: 'btn btn--secondary' }, 'Decline');
    const dialog = h('dialog', { class: 'modal transfer-offer', 'aria-labelledby': 'transfer-offer-title', 'aria-describedby': 'transfer-offer-files' },
      h('div', { class: 'modal__header' }, avatar(offer.sender.displayName), h('h2', { id: 'transfer-offer-title', class: 'modal__title' }, title)),
      h('ul', { id: 'transfer-offer-files', class: 'transfer-offer__files' },
        ...offer.files.map((f) => h('li', { class: 'transfer-offer__file' }, h('span', { class: 'transfer-offer__name' }, f.name), h('span', { class: 'transfer-offer__size' }, formatBytes(f.size))))),
      n > 1 ? h('p', { class: 'transfer-offer__total' }, `${formatBytes(offer.total)} in all`) : null,
      h('p', { class: 'transfer-offer__note' }, this.answers.canReceive
        ? 'Files go straight from their browser to yours and are checked (SHA-256) on arrival. You can save them when they are done.'
        : 'This browser cannot store received files (it has no origin-private file system).'),
      h('div', { class: 'modal__actions' }, decline, accept));
    accept.addEventListener('click', () => {
      this.answers.accept(offer.id);
      this.finish();
    });
    decline.addEventListener('click', () => {
      this.answers.decline(offer.id);
      this.finish();
    });
    // Escape means "no".
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      decline.click();
    });
    document.body.append(dialog);
    this.current = { offer, dialog };
    dialog.showModal();
    (this.answers.canReceive ? accept : decline).focus();
  }

  private finish(): void {
    const c = this.current;
    this.current = null;
    if (c) {
      if (c.dialog.open) c.dialog.close();
      c.dialog.remove();
    }
    this.next();
  }
}
