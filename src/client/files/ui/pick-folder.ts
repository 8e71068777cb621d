// Choosing what to share: a folder through the folder chooser (files only), or files and folders dropped on the page (empty folders too).
import { SHARE_LIMITS } from '../../../shared/shares.js';
import { h } from '../../shared/ui/dom.js';

/** PickedFolder — a folder's name, its files (paths relative to it, `/`-separated) and its empty folders. */
export interface PickedFolder {
  name: string;
  entries: { file: File; path: string }[];
  dirs: string[];
}

/**
 * chooseFolder — `<input type=file webkitdirectory>` (call from a click); null when cancelled. Paths
 * come from each file's webkitRelativePath ("Folder/sub/a.txt"). The chooser lists files only, so
 * empty folders inside cannot be seen this way (dropping the folder keeps them: see droppedItems).
 */
export function chooseFolder(): Promise<PickedFolder | null> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'file', webkitdirectory: true, hidden: true });
    const done = (v: PickedFolder | null) => {
      input.remove();
      resolve(v);
    };
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      if (!files.length) return done(null);
      const name = files[0]!.webkitRelativePath.split('/')[0] || 'Folder';
      done({ name, entries: files.map((file) => ({ file, path: file.webkitRelativePath.split('/').slice(1).join('/') || file.name })), dirs: [] });
    }, { once: true });
    input.addEventListener('cancel', () => done(null), { once: true });
    document.body.append(input);
    input.click();
  });
}

/** readAll — every entry of a dropped directory (readEntries answers in batches until an empty one). */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return out;
    out.push(...batch);
    // Far past what one folder may hold: the engine refuses it anyway, so stop reading.
    if (out.length > SHARE_LIMITS.filesPerFolder + SHARE_LIMITS.dirsPerFolder) return out;
  }
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** walk — a dropped folder's files and empty folders; stops a little past the limits. */
async function walk(root: FileSystemDirectoryEntry): Promise<PickedFolder> {
  const out: PickedFolder = { name: root.name, entries: [], dirs: [] };
  const visit = async (dir: FileSystemDirectoryEntry, prefix: string, depth: number): Promise<void> => {
    const children = await readAll(dir);
    if (!children.length && prefix) out.dirs.push(prefix);
    for (const child of children) {
      if (out.entries.length > SHARE_LIMITS.filesPerFolder || out.dirs.length > SHARE_LIMITS.dirsPerFolder) return;
      const path = prefix ? `${prefix}/${child.name}` : child.name;
      if (child.isFile) out.entries.push({ file: await fileOf(child as FileSystemFileEntry), path });
      else if (child.isDirectory && depth < SHARE_LIMITS.depth) await visit(child as FileSystemDirectoryEntry, path, depth + 1);
    }
  };
  await visit(root, '', 1);
  return out;
}

/** droppedItems — what was dropped: loose files, and folders with their trees (read at once: the drop's entries expire). */
export async function droppedItems(data: DataTransfer): Promise<{ files: File[]; folders: PickedFolder[] }> {
  // Entries must be taken synchronously, before the first await.
  const entries = [...data.items].filter((i) => i.kind === 'file').map((i) => ({ entry: i.webkitGetAsEntry(), file: i.getAsFile() }));
  const files: File[] = [];
  const folders: PickedFolder[] = [];
  for (const { entry, file } of entries) {
    if (entry?.isDirectory) folders.push(await walk(entry as FileSystemDirectoryEntry));
    else if (file) files.push(file);
  }
  return { files, folders };
}
