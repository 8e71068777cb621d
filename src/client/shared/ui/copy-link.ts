// Copy link buttons: the server renders them hidden beside a read-only link field; with JavaScript they appear and copy the link.

const COPIED_MS = 2000;

/** mountCopyButtons — shows and wires every `button[data-copy]` under `root` (its value names the field to copy); returns the teardown. */
export function mountCopyButtons(root: HTMLElement): () => void {
  const offs: (() => void)[] = [];
  for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
    const field = root.querySelector<HTMLInputElement>(`#${CSS.escape(button.dataset.copy ?? '')}`);
    if (!field) continue;
    const text = button.querySelector('span');
    const label = text?.textContent ?? '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const copy = async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        // No clipboard permission (or not a secure context): the link stays selected for Ctrl+C.
        if (!document.execCommand('copy')) return;
      }
      if (text) text.textContent = 'Copied';
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (text) text.textContent = label;
      }, COPIED_MS);
    };
    const onClick = () => void copy();
    const onFocus = () => field.select();
    button.addEventListener('click', onClick);
    field.addEventListener('focus', onFocus);
    button.hidden = false;
    offs.push(() => {
      clearTimeout(timer);
      button.removeEventListener('click', onClick);
      field.removeEventListener('focus', onFocus);
      button.hidden = true;
    });
  }
  return () => {
    for (const off of offs) off();
  };
}
