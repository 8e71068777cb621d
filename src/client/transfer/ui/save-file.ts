// Save: hands a received file from OPFS to the user — a download of the disk-backed File, or a picked file where supported.
import { receivedFile } from '../lib/disk.js';
import { safeFileName } from '../lib/filename.js';
import { h } from '../../shared/ui/dom.js';

type SavePicker = (opts: { suggestedName?: string }) => Promise<FileSystemFileHandle>;

// The object URL must outlive the start of the download; it only references the file on disk.
const REVOKE_AFTER_MS = 5 * 60_000;

/** downloadReceived — `<a download>` of the OPFS file: a disk-backed File, never a copy in memory. */
export async function downloadReceived(id: string, name: string): Promise<void> {
  const safe = safeFileName(name);
  // A typed wrapper of the disk-backed File (still no copy): untyped, Chromium sniffs the bytes
  // and may append an extension (".txt") to the name.
  const file = new File([await receivedFile(id)], safe, { type: 'application/octet-stream' });
  const url = URL.createObjectURL(file);
  const a = h('a', { href: url, download: safe, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

/** savePicker — the File System Access save dialog, where the browser has one (it rejects in headless Chromium). */
export function savePicker(): SavePicker | null {
  const fn = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  return typeof fn === 'function' ? fn.bind(window) : null;
}

/** saveReceivedAs — streams the OPFS file into a file the user picks; false when they cancelled. */
export async function saveReceivedAs(id: string, name: string): Promise<boolean> {
  const pick = savePicker();
  if (!pick) return false;
  let handle: FileSystemFileHandle;
  try {
    handle = await pick({ suggestedName: safeFileName(name) });
  } catch (err) {
    if ((err as DOMException).name === 'AbortError') return false;
    throw err;
  }
  const writable = await handle.createWritable();
  await (await receivedFile(id)).stream().pipeTo(writable);
  return true;
}
