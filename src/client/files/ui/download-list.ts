// Downloads: one row per item being pulled — progress, speed, time left, who sent how much, the state, and Save / Cancel download.
import { formatBytes } from '../../../shared/ledger.js';
import { displayFileName } from '../../transfer/lib/filename.js';
import { formatDuration } from '../../transfer/lib/speed.js';
import { h, icon } from '../../shared/ui/dom.js';
import type { DownloadView } from '../lib/files-engine.js';

/** DownloadActions — what the row buttons do. */
export interface DownloadActions {
  save(d: DownloadView): void;
  cancel(d: DownloadView): void;
}

interface Row {
  li: HTMLLIElement;
  bar: HTMLElement;
  meta: HTMLElement;
  from: HTMLElement;
  status: HTMLElement;
  actions: HTMLElement;
  actionsKey: string;
  fromKey: string;
}

/** statusText — the row's state in words ('' while it simply runs: the meta line says enough). */
function statusText(d: DownloadView): string {
  switch (d.state) {
    case 'downloading': return '';
    case 'paused': return 'Paused — waiting for someone who has this file';
    case 'verifying': return 'Checking the SHA-256…';
    case 'verified': return 'Verified';
    case 'failed': return `Failed: ${d.error ?? 'unknown error'}`;
    case 'cancelled': return 'Cancelled';
  }
}

/** percent — whole percent of `part` in `whole` (0 for nothing). */
const percent = (part: number, whole: number) => (whole > 0 ? Math.min(100, Math.floor((part / whole) * 100)) : 0);

/** shareOf — whole percents of each part that add up to 100 (largest remainders round up). */
function shareOf(parts: number[]): number[] {
  const sum = parts.reduce((a, b) => a + b, 0);
  if (sum <= 0) return parts.map(() => 0);
  const exact = parts.map((p) => (p / sum) * 100);
  const out = exact.map(Math.floor);
  let left = 100 - out.reduce((a, b) => a + b, 0);
  for (const i of exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i)) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out;
}

/** DownloadList — keeps the rows of `list` equal to the engine's downloads; `onCount` hears how many there are. */
export class DownloadList {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly list: HTMLElement, private readonly actions: DownloadActions, private readonly onCount: (n: number) => void) {}

  render(downloads: readonly DownloadView[]): void {
    const seen = new Set<string>();
    for (const d of downloads) {
      if (d.state === 'cancelled') continue;
      seen.add(d.id);
      let row = this.rows.get(d.id);
      if (!row) {
        row = this.create(d);
        this.rows.set(d.id, row);
        this.list.prepend(row.li);
      }
      this.update(row, d);
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      row.li.remove();
      this.rows.delete(id);
    }
    this.onCount(this.rows.size);
  }

  /** focusActions — moves the focus to the first button of `id`'s row (false: no such row yet). */
  focusActions(id: string): boolean {
    const b = this.rows.get(id)?.actions.querySelector('button');
    b?.focus();
    return !!b;
  }

  private create(d: DownloadView): Row {
    const name = displayFileName(d.name);
    const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-label': `Downloading ${name}`, 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: 'progress__fill' }));
    const meta = h('p', { class: 'list-row__meta file-download__meta' });
    const from = h('div', { class: 'file-download__from' });
    const status = h('p', { class: 'file-download__status', role: 'status' });
    const actions = h('div', { class: 'file-download__actions' });
    const li = h('li', { class: 'list-row file-download', 'data-id': d.id },
      icon(d.kind === 'folder' ? 'folder-down' : 'download', 'file-download__icon'),
      h('div', { class: 'list-row__body' }, h('p', { class: 'file-download__name' }, name), bar, meta, from, status),
      actions);
    return { li, bar, meta, from, status, actions, actionsKey: '', fromKey: '' };
  }

  private update(row: Row, d: DownloadView): void {
    row.li.dataset.state = d.state;
    const pct = d.state === 'verified' ? 100 : percent(d.done, d.total);
    row.bar.setAttribute('aria-valuenow', String(pct));
    row.bar.setAttribute('aria-valuetext', `${pct}%, ${formatBytes(d.done)} of ${formatBytes(d.total)}`);
    row.bar.style.setProperty('--progress', `${pct}%`);
    row.bar.classList.toggle('progress--success', d.state === 'verified');
    row.bar.classList.toggle('progress--danger', d.state === 'failed');

    let meta = `${formatBytes(d.done)} of ${formatBytes(d.total)}`;
    if (d.state === 'downloading' && d.speed > 0) {
      meta += ` · ${formatBytes(Math.round(d.speed))}/s`;
      if (d.eta !== null) meta += ` · ${formatDuration(d.eta)} left`;
    }
    if (row.meta.textContent !== meta) row.meta.textContent = meta;

    this.updateFrom(row, d);

    const text = statusText(d);
    if (row.status.textContent !== text) {
      row.status.replaceChildren(...(d.state === 'verified' ? [icon('shield-check'), h('span', {}, text)] : d.state === 'paused' ? [icon('pause'), h('span', {}, text)] : [text]));
    }
    row.status.hidden = !text;
    row.status.className = `file-download__status file-download__status--${d.state}`;
    this.updateActions(row, d);
  }

  /** updateFrom — "From 2 people" and each holder's share of the bytes received so far. */
  private updateFrom(row: Row, d: DownloadView): void {
    const senders = d.from.filter((f) => f.bytes > 0);
    const pcts = shareOf(senders.map((f) => f.bytes));
    const shares = senders.map((f, i) => ({ name: displayFileName(f.displayName), pct: pcts[i]! }));
    const key = JSON.stringify(shares);
    if (key === row.fromKey) return;
    row.fromKey = key;
    row.from.hidden = senders.length === 0;
    row.from.replaceChildren(
      h('p', { class: 'file-download__from-title' }, senders.length === 1 ? 'From 1 person' : `From ${senders.length} people`),
      h('ul', { class: 'file-download__shares' }, ...shares.map((s) => {
        const bar = h('span', { class: 'file-download__share-bar', 'aria-hidden': 'true' }, h('span', { class: 'progress__fill' }));
        bar.style.setProperty('--progress', `${s.pct}%`);
        return h('li', { class: 'file-download__share' }, h('span', { class: 'file-download__share-name', title: s.name }, s.name), bar, h('span', { class: 'file-download__share-pct' }, `${s.pct} %`));
      })));
  }

  private updateActions(row: Row, d: DownloadView): void {
    const list: ('save' | 'cancel')[] = d.state === 'verified' ? ['save'] : ['cancel'];
    const key = list.join(',');
    if (key === row.actionsKey) return;
    row.actionsKey = key;
    // Cancel download becomes Save when the file verifies: the focus stays in the row.
    const hadFocus = row.actions.contains(document.activeElement);
    row.actions.replaceChildren(...list.map((a) => {
      const b = a === 'save'
        ? h('button', { type: 'button', class: 'btn btn--small btn--primary' }, icon('save'), h('span', {}, 'Save'))
        : h('button', { type: 'button', class: 'btn btn--small btn--secondary' }, h('span', {}, 'Cancel download'));
      b.addEventListener('click', () => (a === 'save' ? this.actions.save(d) : this.actions.cancel(d)));
      return b;
    }));
    if (hadFocus) row.actions.querySelector('button')?.focus();
  }
}
