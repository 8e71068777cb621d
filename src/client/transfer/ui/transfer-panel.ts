// The "File transfers" panel: one row per file with a progress bar, bytes, speed, time left, status and actions.
import { formatBytes } from '../../../shared/ledger.js';
import type { TransferInfo } from '../lib/model.js';
import { formatDuration } from '../lib/speed.js';
import { h, icon } from '../../shared/ui/dom.js';

/** RowActions — what the row buttons do (the mount wires them to the manager and to saving). */
export interface RowActions {
  cancel(id: string): void;
  save(id: string): void;
  saveAs?(id: string): void;
  remove(id: string): void;
  pickAgain(id: string): void;
}

interface Row {
  li: HTMLLIElement;
  bar: HTMLElement;
  meta: HTMLElement;
  status: HTMLElement;
  hash: HTMLElement;
  actions: HTMLElement;
  actionsKey: string;
}

/** statusText — the row's plain-language state. */
function statusText(t: TransferInfo): string {
  const who = t.peerName;
  switch (t.status) {
    case 'offered': return `Waiting for ${who} to accept`;
    case 'queued': return 'Queued';
    case 'connecting': return `Connecting to ${who}…`;
    case 'active': return t.direction === 'send' ? `Sending to ${who}` : `Receiving from ${who}`;
    case 'waiting': return t.waitingForFile ? `Waiting for ${who} to choose the file again` : `Waiting for ${who}`;
    case 'needs-file': return 'Choose the file again to continue sending';
    case 'checking': return 'Comparing the file with what was already sent…';
    case 'verifying': return 'Checking the SHA-256…';
    case 'verified': return 'Verified';
    case 'declined': return `Declined by ${who}`;
    case 'cancelled': return 'Cancelled';
    case 'failed': return `Failed: ${t.error ?? 'unknown error'}`;
  }
}

/** TransferPanel — a section that shows itself when there is something to show. */
export class TransferPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly rows = new Map<string, Row>();

  constructor(private readonly actions: RowActions) {
    this.list = h('ul', { class: 'transfer-list', 'aria-labelledby': 'transfers-heading' });
    this.el = h('section', { class: 'panel transfers', 'aria-labelledby': 'transfers-heading', hidden: true },
      h('h2', { id: 'transfers-heading', class: 'panel__title' }, icon('paperclip'), h('span', {}, 'File transfers')),
      this.list);
  }

  /** render — creates, updates or removes the row of `t` (null: the transfer is gone). */
  render(id: string, t: TransferInfo | null): void {
    let row = this.rows.get(id);
    if (!t) {
      row?.li.remove();
      this.rows.delete(id);
      this.el.hidden = this.rows.size === 0;
      return;
    }
    if (!row) {
      row = this.create(t);
      this.rows.set(id, row);
      this.list.prepend(row.li);
      this.el.hidden = false;
    }
    this.update(row, t);
  }

  private create(t: TransferInfo): Row {
    const nameId = `transfer-name-${t.id}`;
    const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-labelledby': nameId, 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: 'progress__fill' }));
    const meta = h('p', { class: 'list-row__meta transfer__meta' });
    const status = h('p', { class: 'transfer__status' });
    const hash = h('p', { class: 'transfer__hash', hidden: true });
    const actions = h('div', { class: 'transfer__actions' });
    const li = h('li', { class: 'list-row transfer', 'data-transfer-id': t.id },
      icon(t.direction === 'send' ? 'upload' : 'download', 'transfer__icon'),
      h('div', { class: 'list-row__body' },
        h('p', { class: 'transfer__title' },
          h('span', { class: 'transfer__name', id: nameId }, t.name),
          h('span', { class: 'transfer__peer' }, `${t.direction === 'send' ? 'to' : 'from'} ${t.peerName}`)),
        bar, meta, status, hash),
      actions);
    return { li, bar, meta, status, hash, actions, actionsKey: '' };
  }

  private update(row: Row, t: TransferInfo): void {
    row.li.dataset.status = t.status;
    const pct = t.size ? Math.floor((t.done / t.size) * 100) : t.status === 'verified' ? 100 : 0;
    row.bar.setAttribute('aria-valuenow', String(pct));
    row.bar.setAttribute('aria-valuetext', `${pct}%, ${formatBytes(t.done)} of ${formatBytes(t.size)}`);
    row.bar.style.setProperty('--progress', `${pct}%`);
    row.bar.classList.toggle('progress--success', t.status === 'verified');
    row.bar.classList.toggle('progress--danger', t.status === 'failed');

    let meta = `${formatBytes(t.done)} of ${formatBytes(t.size)}`;
    if (t.status === 'active' && t.speed > 0) {
      meta += ` · ${formatBytes(Math.round(t.speed))}/s`;
      meta += ` · ${formatDuration((t.size - t.done) / t.speed)} left`;
    }
    row.meta.textContent = meta;

    const text = statusText(t);
    if (row.status.textContent !== text) {
      row.status.replaceChildren(...(t.status === 'verified' ? [icon('shield-check'), h('span', {}, text)] : [text]));
    }
    row.status.className = `transfer__status transfer__status--${t.status}`;
    row.hash.hidden = !t.sha256 || (t.status !== 'verified' && t.status !== 'failed');
    if (!row.hash.hidden && row.hash.querySelector('code')?.textContent !== t.sha256) {
      row.hash.replaceChildren(h('span', { class: 'transfer__hash-label' }, 'SHA-256 '), h('code', {}, t.sha256));
    }
    this.updateActions(row, t);
  }

  private updateActions(row: Row, t: TransferInfo): void {
    const list = actionsFor(t, !!this.actions.saveAs);
    const key = list.join(',');
    if (key === row.actionsKey) return;
    row.actionsKey = key;
    const nameId = `transfer-name-${t.id}`;
    // Buttons keep short visible names (Cancel, Save); the file they act on is their description.
    const button = (label: string, cls: string, fn: () => void) => {
      const b = h('button', { type: 'button', class: `btn btn--small ${cls}`, 'aria-describedby': nameId }, label);
      b.addEventListener('click', fn);
      return b;
    };
    row.actions.replaceChildren(...list.map((a) => {
      switch (a) {
        case 'cancel': return button('Cancel', 'btn--secondary', () => this.actions.cancel(t.id));
        case 'save': return button('Save', 'btn--primary', () => this.actions.save(t.id));
        case 'save-as': return button('Save as…', 'btn--secondary', () => this.actions.saveAs?.(t.id));
        case 'pick': return button('Choose file again', 'btn--primary', () => this.actions.pickAgain(t.id));
        case 'remove': return button(t.direction === 'receive' && t.status === 'verified' ? 'Remove' : 'Dismiss', 'btn--ghost', () => this.actions.remove(t.id));
      }
    }));
  }
}

type Action = 'cancel' | 'save' | 'save-as' | 'pick' | 'remove';

function actionsFor(t: TransferInfo, canSaveAs: boolean): Action[] {
  if (t.status === 'verified') return t.direction === 'receive' ? ['save', ...(canSaveAs ? ['save-as' as const] : []), 'remove'] : ['remove'];
  if (t.status === 'declined' || t.status === 'cancelled' || t.status === 'failed') return ['remove'];
  if (t.status === 'needs-file') return ['pick', 'cancel'];
  return ['cancel'];
}
