// The /files page made live: Share, Downloads, Shared files (search filters as you type, the URL keeps q) and Your shares.
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { h } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import { DownloadList } from './download-list.js';
import type { FilesEngine } from '../lib/files-engine.js';
import { fileActions } from './file-actions.js';
import { ItemList } from './item-list.js';
import { MyShares } from './my-shares.js';
import { renderPreparing, shareButton, shareDropZone } from './share-controls.js';

/** emptyText — the Shared files list's empty state, as the server words it. */
function emptyText(q: string): string {
  return q ? `No shared files match “${q}”.` : 'Nobody is sharing anything right now.';
}

/** mountFilesPage — takes over the server-rendered lists of `root` (main[data-island=files]); returns the teardown. */
export function mountFilesPage(root: HTMLElement, engine: FilesEngine, signaling: SignalingClient, selfUserId: string): () => void {
  const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel);
  // After Download, the focus follows to the new row (the button it was on goes).
  let focusNext: string | null = null;
  const actions = fileActions(engine, (id) => {
    focusNext = id;
  });

  // Share: JS-only, so it was hidden until now.
  const sharePanel = $('#files-share');
  const shareActions = $('#files-share-actions');
  shareActions?.replaceChildren(shareButton(engine, 'files', 'Share files'), shareButton(engine, 'folder', 'Share a folder', 'btn btn--secondary'));
  const preparing = $('#files-preparing');
  if (sharePanel) sharePanel.hidden = false;
  const undrop = sharePanel ? shareDropZone(sharePanel, engine) : () => {};

  const downloadsPanel = $('#files-downloads');
  const downloadsEmpty = $('#downloads-empty');
  if (downloadsPanel) downloadsPanel.hidden = false;
  const downloads = new DownloadList($('#downloads-list') ?? h('ul'), actions, (n) => {
    if (downloadsEmpty) downloadsEmpty.hidden = n > 0;
  });

  const items = new ItemList({ list: $('#files-list') ?? h('ul'), empty: $('#files-empty') ?? h('p'), selfUserId, actions, emptyText });
  const mine = new MyShares($('#my-shares') ?? h('ul'), $('#my-shares-empty') ?? h('p'), actions);

  // Search: the form still submits without JavaScript; with it, the list follows the field at once.
  const form = $<HTMLFormElement>('#files-search');
  const field = form?.querySelector<HTMLInputElement>('input[name="q"]') ?? null;
  const query = () => field?.value ?? '';
  const keepInUrl = () => {
    const q = query().trim();
    const url = q ? `${location.pathname}?q=${encodeURIComponent(q)}` : location.pathname;
    if (url !== location.pathname + location.search) history.replaceState(history.state, '', url);
  };

  // The server's rows stand until the engine has the server's view (no flash of "Nobody is sharing").
  let listed = false;
  const render = () => {
    const list = engine.downloads();
    renderPreparing(preparing ?? h('ul'), engine.preparing());
    downloads.render(list);
    if (listed) {
      items.render(engine.items(), query(), new Map(list.map((d) => [d.id, d.state])));
      mine.render(engine.mine());
    }
    if (focusNext && downloads.focusActions(focusNext)) focusNext = null;
  };
  const onInput = () => {
    keepInUrl();
    render();
  };
  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    onInput();
  };
  field?.addEventListener('input', onInput);
  form?.addEventListener('submit', onSubmit);
  const offs = [
    engine.on('changed', render),
    engine.on('error', (message) => toast(message, 'error')),
    signaling.on('files', () => {
      listed = true;
    }),
  ];
  render();
  return () => {
    for (const off of offs) off();
    undrop();
    field?.removeEventListener('input', onInput);
    form?.removeEventListener('submit', onSubmit);
  };
}
