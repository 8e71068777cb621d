// The room's Share panel: Copy link (without JavaScript the link field is still there to select) and Show QR code, a dialog.
import { mountCopyButtons } from '../../shared/ui/copy-link.js';

/** mountShareRoom — reveals and wires the Share panel's buttons under `page` (if it has one); returns the teardown. */
export function mountShareRoom(page: HTMLElement): () => void {
  const panel = page.querySelector<HTMLElement>('#room-share');
  if (!panel) return () => {};
  const offCopy = mountCopyButtons(panel);
  const show = panel.querySelector<HTMLButtonElement>('#share-qr-button');
  const dialog = panel.querySelector<HTMLDialogElement>('#share-qr-dialog');
  const close = dialog?.querySelector<HTMLButtonElement>('[data-close]');
  if (!show || !dialog || !close) return offCopy;
  // showModal keeps focus inside and closes on Escape; Close is focused first, and focus goes back to the opener.
  const onShow = () => {
    dialog.showModal();
    close.focus();
  };
  const onClose = () => dialog.close();
  const onClosed = () => show.focus();
  show.addEventListener('click', onShow);
  close.addEventListener('click', onClose);
  dialog.addEventListener('close', onClosed);
  show.hidden = false;
  return () => {
    show.removeEventListener('click', onShow);
    close.removeEventListener('click', onClose);
    dialog.removeEventListener('close', onClosed);
    if (dialog.open) dialog.close();
    show.hidden = true;
    offCopy();
  };
}
