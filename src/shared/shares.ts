// Shared files, the data model both sides agree on: chunk size, limits, the announced item's schema and its consistency rules.
import * as v from 'valibot';
import { hasUnsafeText } from './text.js';

/** SHARE_CHUNK — the chunk size of every shared file; manifests hash chunks of exactly this size (the last may be shorter). */
export const SHARE_CHUNK = 1024 * 1024;

/** SHARE_LIMITS — bounds on what one person may announce (the server refuses more before storing anything). */
export const SHARE_LIMITS = {
  /** Items (files or folders) one person may share at once. */
  itemsPerPerson: 100,
  filesPerFolder: 200,
  /** Empty folders kept in one shared folder. */
  dirsPerFolder: 200,
  /** Characters in an item's name or one path segment. */
  name: 255,
  /** Characters in a relative path. */
  path: 1024,
  /** Segments in a relative path. */
  depth: 32,
  /** Bytes in one file (1 TiB). */
  fileSize: 2 ** 40,
  /** Characters in a MIME type. */
  type: 100,
} as const;

const Hex64Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));

/** segmentProblem — why one name or path segment is not acceptable, or null. */
function segmentProblem(s: string): string | null {
  if (s.length === 0) return 'an empty name';
  if (s.length > SHARE_LIMITS.name) return `a name longer than ${SHARE_LIMITS.name} characters`;
  if (s === '.' || s === '..') return 'a "." or ".." name';
  if (s.includes('\\') || s.includes('/')) return 'a path separator in a name';
  if (hasUnsafeText(s)) return 'control, invisible or bidirectional characters';
  if (s.trim().length === 0) return 'a blank name';
  return null;
}

/** pathProblem — why `p` is not a safe relative path (`/`-separated, no `.`/`..`, no `\`), or null. */
function pathProblem(p: string): string | null {
  if (p.length > SHARE_LIMITS.path) return `a path longer than ${SHARE_LIMITS.path} characters`;
  const segments = p.split('/');
  if (segments.length > SHARE_LIMITS.depth) return `a path deeper than ${SHARE_LIMITS.depth} folders`;
  for (const s of segments) {
    const problem = segmentProblem(s);
    if (problem) return problem;
  }
  return null;
}

const NameSchema = v.pipe(v.string(), v.check((s) => segmentProblem(s) === null, 'unsafe or empty name'));
const PathSchema = v.pipe(v.string(), v.check((s) => pathProblem(s) === null, 'unsafe relative path'));

/** SharedFileSchema — one file of an item: its relative path, size, MIME type, SHA-256 and manifest hash. */
export const SharedFileSchema = v.strictObject({
  path: PathSchema,
  size: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(SHARE_LIMITS.fileSize)),
  type: v.union([v.literal(''), v.pipe(v.string(), v.maxLength(SHARE_LIMITS.type), v.regex(/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i))]),
  sha256: Hex64Schema,
  /** SHA-256 of the concatenated 32-byte SHA-256s of the file's SHARE_CHUNK chunks. */
  manifest: Hex64Schema,
});
export type SharedFile = v.InferOutput<typeof SharedFileSchema>;

/** ShareItemSchema — what a tab announces: a file or a folder, named by its content (`id`). */
export const ShareItemSchema = v.strictObject({
  id: Hex64Schema,
  kind: v.picklist(['file', 'folder']),
  name: NameSchema,
  files: v.pipe(v.array(SharedFileSchema), v.minLength(1), v.maxLength(SHARE_LIMITS.filesPerFolder)),
  /** Empty folders (relative paths) of a folder item. */
  dirs: v.pipe(v.array(PathSchema), v.maxLength(SHARE_LIMITS.dirsPerFolder)),
});
export type ShareItem = v.InferOutput<typeof ShareItemSchema>;

/** folderIdText — the text a folder's id is the SHA-256 of (UTF-8): `f <path>\0<sha256>` per file, `d <path>` per empty folder, sorted, joined by newlines. */
export function folderIdText(item: Pick<ShareItem, 'files' | 'dirs'>): string {
  const lines = [...item.files.map((f) => `f ${f.path}\0${f.sha256}`), ...item.dirs.map((d) => `d ${d}`)];
  return lines.sort().join('\n');
}

/**
 * checkShareItem — why a schema-valid item is inconsistent, or null. The folder id itself needs a
 * hash (async in browsers), so callers check `id` against folderIdText separately.
 */
export function checkShareItem(item: ShareItem): string | null {
  if (item.kind === 'file') {
    if (item.files.length !== 1) return 'A shared file has exactly one file.';
    if (item.dirs.length > 0) return 'A shared file has no folders.';
    const file = item.files[0]!;
    if (file.path !== item.name) return "A shared file's path is its name.";
    if (file.sha256 !== item.id) return 'The item id does not match its content.';
    return null;
  }
  const files = new Set<string>();
  for (const f of item.files) {
    if (files.has(f.path)) return `Two files have the same path: ${f.path}`;
    files.add(f.path);
  }
  const dirs = new Set<string>();
  for (const d of item.dirs) {
    if (dirs.has(d) || files.has(d)) return `Two entries have the same path: ${d}`;
    dirs.add(d);
  }
  // A file cannot also be a folder on the way to another entry ("a" and "a/b").
  for (const p of [...files, ...dirs]) {
    const segments = p.split('/');
    for (let i = 1; i < segments.length; i++) {
      if (files.has(segments.slice(0, i).join('/'))) return `A file is also used as a folder: ${segments.slice(0, i).join('/')}`;
    }
  }
  return null;
}

/** shareSize — the bytes of every file of an item. */
export function shareSize(item: Pick<ShareItem, 'files'>): number {
  return item.files.reduce((sum, f) => sum + f.size, 0);
}
