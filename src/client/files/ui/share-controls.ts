// Sharing: the Share files / Share a folder buttons, and "Preparing <name>… 45 %" while each file is read and hashed.
import { chooseFiles, dropTarget } from '../../transfer/ui/pick-files.js';
import { displayFileName } from '../../transfer/lib/filename.js';
import { h, icon } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import type { FilesEngine, PreparingView } from '../lib/files-engine.js';
import { chooseFolder, droppedItems, type PickedFolder } from './pick-folder.js';

const fail = (err: unknown) => toast(err instanceof Error ? err.message : String(err), 'error');

/** shareButton — a button that asks for files (or a folder) and shares them through `engine`. */
export function shareButton(engine: FilesEngine, what: 'files' | 'folder', label: string, cls = 'btn btn--primary'): HTMLButtonElement {
  const b = h('button', { type: 'button', class: cls }, icon(what === 'folder' ? 'folder-up' : 'upload'), h('span', {}, label));
  b.addEventListener('click', () => void (async () => {
    if (what === 'files') {
      const files = await chooseFiles(true);
      if (files.length) await engine.shareFiles(files);
      return;
    }
    const folder = await chooseFolder();
    if (folder) await shareFolder(engine, folder);
  })().catch(fail));
  return b;
}

/** shareFolder — shares a picked folder, or says why there is nothing to share. */
async function shareFolder(engine: FilesEngine, folder: PickedFolder): Promise<void> {
  if (!folder.entries.length) {
    toast(`${displayFileName(folder.name)} has no files to share.`, 'info');
    return;
  }
  await engine.shareFolder(folder.name, folder.entries, folder.dirs);
}

/**
 * shareDropZone — files and folders dropped on `el` are shared (folders with their empty folders,
 * which the folder chooser cannot see); `el` is highlighted while files hover over it.
 */
export function shareDropZone(el: HTMLElement, engine: FilesEngine): () => void {
  return dropTarget(el, () => {}, (data) => void (async () => {
    const { files, folders } = await droppedItems(data);
    if (files.length) await engine.shareFiles(files);
    for (const folder of folders) await shareFolder(engine, folder);
  })().catch(fail));
}

/** renderPreparing — one line per item being read: its name, the percent, and a bar. */
export function renderPreparing(list: HTMLElement, preparing: readonly PreparingView[]): void {
  const key = JSON.stringify(preparing.map((p) => [p.name, Math.floor(p.fraction * 100)]));
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.hidden = preparing.length === 0;
  list.replaceChildren(...preparing.map((p) => {
    const pct = Math.min(100, Math.floor(p.fraction * 100));
    const text = `Preparing ${displayFileName(p.name)}… ${pct} %`;
    const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-label': `Preparing ${displayFileName(p.name)}`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct }, h('div', { class: 'progress__fill' }));
    bar.style.setProperty('--progress', `${pct}%`);
    return h('li', { class: 'file-preparing' }, h('span', { class: 'file-preparing__text' }, text), bar);
  }));
}
