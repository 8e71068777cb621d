// Choosing a folder to share: its files with paths relative to it, and its empty folders where the browser can show them.
import { SHARE_LIMITS } from '../../../shared/shares.js';
import { h } from '../../shared/ui/dom.js';

/** PickedFolder — a folder's name, its files (paths relative to it, `/`-separated) and its empty folders. */
export interface PickedFolder {
  name: string;
  entries: { file: File; path: string }[];
  dirs: string[];
}

type DirectoryPicker = () => Promise<FileSystemDirectoryHandle>;
type DirectoryHandle = FileSystemDirectoryHandle & { values(): AsyncIterable<FileSystemHandle> };

/** directoryPicker — the File System Access folder dialog, where the browser has one. */
function directoryPicker(): DirectoryPicker | null {
  const fn = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  return typeof fn === 'function' ? fn.bind(window) : null;
}

/**
 * chooseFolder — asks for a folder (call from a click); null when the person cancelled. Where the
 * browser has showDirectoryPicker the tree is walked, empty folders included; elsewhere
 * `<input webkitdirectory>` lists only files, so empty folders cannot be seen and are left out.
 */
export async function chooseFolder(): Promise<PickedFolder | null> {
  const pick = directoryPicker();
  if (pick) {
    let dir: FileSystemDirectoryHandle;
    try {
      dir = await pick();
    } catch (err) {
      if ((err as DOMException).name === 'AbortError') return null;
      // Refused (a policy, a sandbox): the plain folder input still works.
      return chooseFolderInput();
    }
    return walk(dir as DirectoryHandle);
  }
  return chooseFolderInput();
}

/** walk — the files and empty folders under `root`; stops a little past the limits (the engine refuses more). */
async function walk(root: DirectoryHandle): Promise<PickedFolder> {
  const out: PickedFolder = { name: root.name, entries: [], dirs: [] };
  const visit = async (dir: DirectoryHandle, prefix: string, depth: number): Promise<void> => {
    let children = 0;
    for await (const child of dir.values()) {
      children++;
      if (out.entries.length > SHARE_LIMITS.filesPerFolder || out.dirs.length > SHARE_LIMITS.dirsPerFolder) return;
      const path = prefix ? `${prefix}/${child.name}` : child.name;
      if (child.kind === 'file') out.entries.push({ file: await (child as FileSystemFileHandle).getFile(), path });
      else if (depth < SHARE_LIMITS.depth) await visit(child as DirectoryHandle, path, depth + 1);
    }
    if (!children && prefix) out.dirs.push(prefix);
  };
  await visit(root, '', 1);
  return out;
}

/** chooseFolderInput — `<input type=file webkitdirectory>`: paths come from each file's webkitRelativePath ("Folder/sub/a.txt"). */
function chooseFolderInput(): Promise<PickedFolder | null> {
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
