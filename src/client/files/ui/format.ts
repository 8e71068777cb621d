// Wording of shared items, the same as views/files.pug: who holds one, what it is, when it was shared, whether it matches a search.
import type { MyShare, SharedItemView } from '../../../shared/protocol.js';
import { formatBytes } from '../../../shared/ledger.js';
import { displayFileName } from '../../transfer/lib/filename.js';

type Item = Pick<SharedItemView, 'kind' | 'name' | 'files' | 'size' | 'type'>;

/** shownName — an item's name as the page shows it (no controls, bidi overrides or invisible characters). */
export function shownName(item: Pick<SharedItemView, 'name'>): string {
  return displayFileName(item.name);
}

/** holdersText — "Ana, Ben"; the viewer is "You", first. */
export function holdersText(item: Pick<SharedItemView, 'holders'>, selfUserId: string): string {
  const self = item.holders.some((h) => h.userId === selfUserId);
  const others = item.holders.filter((h) => h.userId !== selfUserId).map((h) => displayFileName(h.displayName));
  return [...(self ? ['You'] : []), ...others].join(', ');
}

/** metaText — "12 MB · video/mp4", "3 files · 40 MB" for a folder. */
export function metaText(item: Item): string {
  if (item.kind === 'folder') return `Folder · ${item.files.length === 1 ? '1 file' : `${item.files.length} files`} · ${formatBytes(item.size)}`;
  return [formatBytes(item.size), item.type].filter(Boolean).join(' · ');
}

/** whenText — "28 Nov 2026, 11:32" (the lobby's missed-call format). */
export function whenText(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/** isVideo — a single file the browser may play (video/*). */
export function isVideo(item: Pick<SharedItemView, 'kind' | 'type'>): boolean {
  return item.kind === 'file' && /^video\//i.test(item.type);
}

/** iconFor — the row's icon: folder, film or file. */
export function iconFor(item: Pick<SharedItemView, 'kind' | 'type'>): string {
  return item.kind === 'folder' ? 'folder' : isVideo(item) ? 'film' : 'file';
}

/** matches — the search rule of GET /files?q=: part of the name, a file's path or the type, case-insensitive. */
export function matches(item: Item | MyShare, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [item.name, item.type, ...item.files.flatMap((f) => [f.path, f.type])].some((s) => s.toLowerCase().includes(needle));
}
