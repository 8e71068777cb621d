// Admin island: the Copy link buttons of invite and password reset links (everything else on the page is plain forms).
import { mountCopyButtons } from '../shared/ui/copy-link.js';

/** mount — wires the Admin page's Copy link buttons; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  return mountCopyButtons(root);
}

const root = document.querySelector<HTMLElement>('[data-island="admin"]');
if (root) mount(root);
