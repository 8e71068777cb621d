// Save for a downloaded folder: its tree written into a folder the person picks where the browser
// can, else one uncompressed ZIP streamed into an origin-private file and handed over as a download.
// Files are copied from their verified local copies slice by slice, never held in memory.
import type { ShareItem } from '../../../shared/shares.js';
import { safeFileName } from '../../transfer/lib/filename.js';
import { h } from '../../shared/ui/dom.js';
import type { FilesEngine } from '../lib/files-engine.js';
import { writeZip, type ZipEntry } from '../lib/zip.js';

/** The origin-private folder the ZIPs wait in until the browser has taken them. */
const ZIP_DIR = 'hearth-zips';
/** How long a ZIP (and its object URL) outlives the click that downloads it; older ones are swept. */
const ZIP_KEEP_MS = 10 * 60_000;
/** How much of a file is copied at a time into a picked folder. */
const SLICE = 8 * 1024 * 1024;

// Not in TypeScript's DOM library yet (File System Access API).
type PickDirectory = (opts: { mode: 'readwrite'; id?: string }) => Promise<FileSystemDirectoryHandle>;
interface Entries {
  entries(): AsyncIterable<[string, FileSystemHandle]>;
}

/** FolderItem — what Save needs of an item: its name and tree. */
type FolderItem = Pick<ShareItem, 'name' | 'files' | 'dirs'>;

/** SaveOptions — `zip`: always the ZIP (tests: a headless browser cannot answer a folder picker). */
interface SaveOptions {
  zip?: boolean;
  progress?: (fraction: number) => void;
}

/** safePath — each segment made safe to save under (no separators, dots, reserved or unsafe characters). */
const safePath = (p: string) => p.split('/').map(safeFileName);

/** unique — `name`, or `name (2)`, `name (3)`… (before the extension) when `taken` says it is used. */
async function unique(name: string, taken: (n: string) => boolean | Promise<boolean>): Promise<string> {
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${base} (${n})${ext}`;
    if (!(await taken(candidate))) return candidate;
  }
}

/**
 * saveFolder — saves a downloaded folder: into a folder the person picks (a new sub-folder named
 * after the item, its tree and empty folders inside), or as `<name>.zip`. Resolves 'cancelled' when
 * the person closes the picker; rejects when a file is not (or no longer) on this device.
 */
export async function saveFolder(engine: Pick<FilesEngine, 'fileOf'>, item: FolderItem, opts: SaveOptions = {}): Promise<'folder' | 'zip' | 'cancelled'> {
  // Every file first: a half-saved folder because one is missing would be worse than none.
  const files: { path: string[]; file: File }[] = [];
  const used = new Set<string>();
  for (const f of item.files) {
    const file = await engine.fileOf(f.sha256);
    if (!file || file.size !== f.size) throw new Error(`${item.name} is not all on this device: download it again.`);
    // Two names may become one once made safe ("a:b" and "a_b"): the later one gets a number.
    const path = safePath(f.path);
    const dir = path.slice(0, -1).join('/');
    path[path.length - 1] = await unique(path.at(-1)!, (n) => used.has(`${dir}/${n}`.toLowerCase()));
    used.add(path.join('/').toLowerCase());
    files.push({ path, file });
  }
  const dirs = item.dirs.map(safePath);
  const total = files.reduce((n, f) => n + f.file.size, 0);
  const pick = (globalThis as { showDirectoryPicker?: PickDirectory }).showDirectoryPicker;
  if (!opts.zip && typeof pick === 'function') {
    let root: FileSystemDirectoryHandle;
    try {
      root = await pick({ mode: 'readwrite', id: 'hearth-save' });
    } catch (err) {
      if ((err as Error).name === 'AbortError') return 'cancelled';
      throw err;
    }
    await intoFolder(root, safeFileName(item.name), files, dirs, total, opts.progress);
    return 'folder';
  }
  await asZip(safeFileName(item.name), files, dirs, total, opts.progress);
  return 'zip';
}

/** intoFolder — the tree under a new folder `name` in `root` (numbered if `name` is taken). */
async function intoFolder(root: FileSystemDirectoryHandle, name: string, files: { path: string[]; file: File }[], dirs: string[][], total: number, progress?: (f: number) => void): Promise<void> {
  const top = await root.getDirectoryHandle(await unique(name, (n) => root.getDirectoryHandle(n).then(() => true, () => false)), { create: true });
  const dirOf = async (segments: string[]) => {
    let d = top;
    for (const s of segments) d = await d.getDirectoryHandle(s, { create: true });
    return d;
  };
  for (const d of dirs) await dirOf(d);
  let done = 0;
  for (const { path, file } of files) {
    const handle = await (await dirOf(path.slice(0, -1))).getFileHandle(path.at(-1)!, { create: true });
    const out = await handle.createWritable();
    try {
      // A Blob slice goes to disk without passing through JavaScript's memory.
      for (let at = 0; at < file.size; at += SLICE) {
        const end = Math.min(file.size, at + SLICE);
        await out.write(file.slice(at, end));
        done += end - at;
        progress?.(total ? done / total : 1);
      }
      await out.close();
    } catch (err) {
      await out.abort().catch(() => undefined);
      throw err;
    }
  }
  progress?.(1);
}

/** asZip — streams the tree into an origin-private ZIP, hands it to the browser as `<name>.zip`, removes it later. */
async function asZip(name: string, files: { path: string[]; file: File }[], dirs: string[][], total: number, progress?: (f: number) => void): Promise<void> {
  const storage = await navigator.storage.getDirectory();
  const folder = await storage.getDirectoryHandle(ZIP_DIR, { create: true });
  await sweep(folder);
  const tmpName = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}.zip`;
  const handle = await folder.getFileHandle(tmpName, { create: true });
  const out = await handle.createWritable();
  const entries: ZipEntry[] = [
    ...files.map(({ path, file }) => ({ path: path.join('/'), blob: file })),
    ...dirs.map((d) => ({ path: d.join('/'), dir: true as const })),
  ];
  try {
    await writeZip(entries, out, { progress: (n) => progress?.(total ? Math.min(1, n / total) : 1) });
    await out.close();
  } catch (err) {
    await out.abort().catch(() => undefined);
    await folder.removeEntry(tmpName).catch(() => undefined);
    throw err;
  }
  // The ZIP on disk, typed so the browser neither sniffs it nor renames it.
  const zip = await handle.getFile();
  const url = URL.createObjectURL(new File([zip], `${name}.zip`, { type: 'application/zip' }));
  const a = h('a', { href: url, download: `${name}.zip`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    folder.removeEntry(tmpName).catch(() => undefined);
  }, ZIP_KEEP_MS);
}

/** sweep — removes ZIPs older than ZIP_KEEP_MS (a page closed before its timer ran). */
async function sweep(folder: FileSystemDirectoryHandle): Promise<void> {
  const stale: string[] = [];
  for await (const [entry, handle] of (folder as unknown as Entries).entries()) {
    if (handle.kind !== 'file') continue;
    const made = Number(/^(\d+)-/.exec(entry)?.[1] ?? 0);
    if (Date.now() - made > ZIP_KEEP_MS) stale.push(entry);
  }
  for (const entry of stale) await folder.removeEntry(entry).catch(() => undefined);
}
