// Short notices in the page's aria-live region (#toasts): "Ada joined", errors from the server.
import { h, icon } from './dom.js';

export type ToastKind = 'info' | 'success' | 'error';

export interface ToastOptions {
  /** How long it stays, in ms (default 5 s; errors 8 s). 0 keeps it until dismissed. */
  timeoutMs?: number;
}

const MAX_TOASTS = 4;
const ICONS: Record<ToastKind, string> = { info: 'bell', success: 'check', error: 'circle-alert' };

/**
 * toast — shows `text` (as text, never markup) in #toasts and returns its element.
 * The region is `aria-live="polite"`, so screen readers announce it once.
 */
export function toast(text: string, kind: ToastKind = 'info', opts: ToastOptions = {}): HTMLElement {
  const region = document.getElementById('toasts') ?? document.body.appendChild(h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite', role: 'status' }));
  const close = h('button', { type: 'button', class: 'btn btn--ghost toast__close', 'aria-label': 'Dismiss' }, icon('x'));
  const el = h('div', { class: kind === 'info' ? 'toast' : `toast toast--${kind}` }, icon(ICONS[kind]), h('p', { class: 'toast__text' }, text), close);
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  // The region stacks column-reverse: the first child sits at the bottom edge, so the newest goes first.
  region.prepend(el);
  while (region.children.length > MAX_TOASTS) region.lastElementChild?.remove();
  const ms = opts.timeoutMs ?? (kind === 'error' ? 8_000 : 5_000);
  if (ms > 0) setTimeout(remove, ms);
  return el;
}
