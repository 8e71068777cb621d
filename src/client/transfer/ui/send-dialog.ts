// The room's Send file dialog: choose everyone or one member, choose files (or take dropped ones), send.
import { formatBytes } from '../../../shared/ledger.js';
import type { Person } from '../lib/transport.js';
import { h } from '../../shared/ui/dom.js';

/** RoomSendChoice — what the dialog hands back. */
export interface RoomSendChoice {
  files: File[];
  /** null: everyone in the room. */
  to: Person | null;
}

const EVERYONE = '*';

/** openRoomSendDialog — resolves with the choice, or null when the dialog was closed without sending. */
export function openRoomSendDialog(people: Person[], preset: { files?: File[]; to?: string } = {}): Promise<RoomSendChoice | null> {
  return new Promise((resolve) => {
    const select = h('select', { id: 'transfer-to', class: 'input', name: 'to' },
      h('option', { value: EVERYONE }, 'Everyone in the room'),
      ...people.map((p) => h('option', { value: p.userId }, p.displayName)));
    if (preset.to && people.some((p) => p.userId === preset.to)) select.value = preset.to;
    const input = h('input', { id: 'transfer-files', class: 'input', type: 'file', name: 'files', multiple: true });
    const chosen = h('ul', { class: 'transfer-offer__files', hidden: !preset.files?.length },
      ...(preset.files ?? []).map((f) => h('li', { class: 'transfer-offer__file' }, h('span', { class: 'transfer-offer__name' }, f.name), h('span', { class: 'transfer-offer__size' }, formatBytes(f.size)))));
    const send = h('button', { type: 'submit', class: 'btn btn--primary', disabled: !preset.files?.length }, 'Send');
    const close = h('button', { type: 'button', class: 'btn btn--secondary' }, 'Cancel');
    const form = h('form', { method: 'dialog', class: 'form' },
      h('h2', { id: 'transfer-send-title', class: 'modal__title' }, 'Send files'),
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'transfer-to' }, 'To'), select),
      preset.files?.length ? chosen : h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'transfer-files' }, 'Files'), input),
      h('div', { class: 'modal__actions' }, close, send));
    const dialog = h('dialog', { class: 'modal transfer-send', 'aria-labelledby': 'transfer-send-title' }, form);
    let files = preset.files ?? [];
    input.addEventListener('change', () => {
      files = [...(input.files ?? [])];
      send.disabled = files.length === 0 || people.length === 0;
    });
    const done = (choice: RoomSendChoice | null) => {
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(choice);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!files.length) return;
      done({ files, to: select.value === EVERYONE ? null : people.find((p) => p.userId === select.value) ?? null });
    });
    close.addEventListener('click', () => done(null));
    dialog.addEventListener('cancel', () => done(null));
    document.body.append(dialog);
    dialog.showModal();
  });
}
