// What the buttons of item and download rows do: Download, Play, Save, Cancel download, Stop sharing, Share again.
import type { MyShare, SharedItemView } from '../../../shared/protocol.js';
import { displayFileName, safeFileName } from '../../transfer/lib/filename.js';
import { chooseFiles } from '../../transfer/ui/pick-files.js';
import { h } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import type { DownloadActions } from './download-list.js';
import type { DownloadView, FilesEngine } from '../lib/files-engine.js';
import type { ItemActions } from './item-list.js';
import type { MyShareActions } from './my-shares.js';
import { chooseFolder } from './pick-folder.js';
import { openPlayer } from './player.js';
import { saveFolder } from './save-folder.js';

// The object URL must outlive the start of the download; it only references the file on disk.
const REVOKE_AFTER_MS = 5 * 60_000;

/** saveFile — `<a download>` of the verified local copy: a disk-backed File, never a copy in memory. */
async function saveFile(engine: FilesEngine, sha256: string, name: string): Promise<void> {
  const local = await engine.fileOf(sha256);
  if (!local) {
    toast(`${displayFileName(name)} is not on this device any more.`, 'error');
    return;
  }
  const safe = safeFileName(name);
  // Typed, so Chromium does not sniff the bytes and append an extension to the name.
  const url = URL.createObjectURL(new File([local], safe, { type: 'application/octet-stream' }));
  const a = h('a', { href: url, download: safe, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** fail — a refused action, said in a toast. */
const fail = (err: unknown) => toast(err instanceof Error ? err.message : String(err), 'error');

/**
 * fileActions — the row actions of every list, bound to `engine`. `downloading` hears each Download
 * (its button goes with the click: the page moves the focus to the new download's row).
 */
export function fileActions(engine: FilesEngine, downloading: (id: string) => void = () => {}): ItemActions & DownloadActions & MyShareActions & { stopItem(item: SharedItemView): void } {
  const stop = (id: string) => engine.stopSharing(id).catch((err: unknown) => {
    fail(err);
  });
  return {
    download: (item) => {
      engine.download(item.id);
      downloading(item.id);
    },
    play: (item) => openPlayer(engine, item),
    save: (d: DownloadView) => {
      if (d.kind === 'file') return void saveFile(engine, d.id, d.name).catch(fail);
      // The tree comes from the item's announcement, which the download keeps.
      const item = engine.itemOf(d.id);
      if (!item) return void toast(`${displayFileName(d.name)} is no longer listed: download it again to save it.`, 'error');
      void saveFolder(engine, item).catch(fail);
    },
    cancel: (d) => engine.cancelDownload(d.id),
    stop: (s) => stop(s.id),
    stopItem: (item) => stop(item.id),
    again: (s: MyShare) => void (async () => {
      const files = s.kind === 'folder' ? (await chooseFolder())?.entries : await chooseFiles(false);
      if (!files?.length) return;
      if (!(await engine.shareAgain(s.id, files))) toast(`That is not the same ${s.kind === 'folder' ? 'folder' : 'file'} as ${displayFileName(s.name)}: its content differs.`, 'error');
    })().catch(fail),
  };
}
