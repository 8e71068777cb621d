// The room's chat panel: appends live messages, makes links clickable, Enter sends. Text only:
// every message and name is set with textContent; links are built as elements, never parsed HTML.
import type { ChatMessage } from '../../../shared/protocol.js';
import { h } from '../../shared/ui/dom.js';
import { splitLinks } from '../lib/links.js';

/** linkify — text and <a> elements for `text` (see splitLinks). */
function linkify(text: string): (string | HTMLAnchorElement)[] {
  return splitLinks(text).map((p) => (p.href ? h('a', { href: p.href, rel: 'noopener noreferrer', target: '_blank' }, p.text) : p.text));
}

const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

export interface ChatOptions {
  /** send — sends over the socket; false means "not in the call": the form then posts normally (no-JS path). */
  send(text: string): boolean;
  /** The signed-in user: their own messages are marked. */
  selfUserId: string;
}

/** ChatPanel — wraps #chat (server-rendered history, form posting to /r/<slug>/chat). */
export class ChatPanel {
  private readonly list: HTMLOListElement;
  private readonly log: HTMLElement;
  private readonly empty: HTMLElement | null;
  private readonly form: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;

  constructor(root: HTMLElement, private readonly opts: ChatOptions) {
    this.list = root.querySelector<HTMLOListElement>('#chat-messages')!;
    this.log = root.querySelector<HTMLElement>('.chat-log') ?? this.list;
    this.empty = root.querySelector<HTMLElement>('#chat-empty');
    this.form = root.querySelector<HTMLFormElement>('#chat-form')!;
    this.input = root.querySelector<HTMLTextAreaElement>('#chat-input')!;
    this.enhanceHistory();
    this.markSelf();
    this.form.addEventListener('submit', (e) => this.onSubmit(e));
    this.input.addEventListener('keydown', (e) => {
      // Enter sends; Shift+Enter is a new line; an IME composition's Enter is not ours.
      if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.ctrlKey || e.altKey || e.metaKey) return;
      e.preventDefault();
      this.form.requestSubmit();
    });
    this.scrollToEnd();
  }

  /** append — one message from a `chat` event (duplicates by id are ignored). */
  append(m: ChatMessage): void {
    if (this.list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`)) return;
    const stick = this.atEnd() || m.userId === this.opts.selfUserId;
    this.list.append(this.render(m));
    if (this.empty) this.empty.hidden = true;
    if (stick) this.scrollToEnd();
  }

  /** restore — puts unsent text back (e.g. the server said "too fast"), unless something new was typed. */
  restore(text: string): void {
    if (!this.input.value) this.input.value = text;
  }

  /** markSelf — highlights your own messages in the server-rendered history. */
  private markSelf(): void {
    const self = this.opts.selfUserId;
    for (const li of this.list.querySelectorAll<HTMLElement>('li.chat-message')) {
      li.classList.toggle('chat-message--self', !!self && li.dataset.userId === self);
    }
  }

  private onSubmit(e: SubmitEvent): void {
    const text = this.input.value.trim();
    if (!text) {
      e.preventDefault();
      return;
    }
    if (!this.opts.send(text)) return; // not in the call: the browser posts the form
    e.preventDefault();
    this.input.value = '';
  }

  private render(m: ChatMessage): HTMLLIElement {
    const d = new Date(m.ts);
    const time = Number.isNaN(d.getTime()) ? null : h('time', { class: 'chat-message__time', datetime: d.toISOString() }, hhmm(d));
    const self = m.userId === this.opts.selfUserId;
    return h('li', { class: self ? 'chat-message chat-message--self' : 'chat-message', 'data-id': m.id, 'data-user-id': m.userId },
      h('div', { class: 'chat-message__meta' }, h('span', { class: 'chat-message__author' }, m.displayName), time),
      h('p', { class: 'chat-message__text' }, ...linkify(m.text)));
  }

  /** enhanceHistory — server-rendered messages get clickable links and times in the reader's time zone. */
  private enhanceHistory(): void {
    for (const p of this.list.querySelectorAll<HTMLElement>('.chat-message__text')) {
      if (p.querySelector('a')) continue;
      p.replaceChildren(...linkify(p.textContent ?? ''));
    }
    for (const t of this.list.querySelectorAll<HTMLTimeElement>('time.chat-message__time')) {
      const d = new Date(t.dateTime);
      if (!Number.isNaN(d.getTime())) t.textContent = hhmm(d);
    }
  }

  private atEnd(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
  }

  private scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}
