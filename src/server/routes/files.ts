// The Shared files page (/files): what online people share in the lobby, searchable without JavaScript, and your own shares with Stop sharing.
import { Router } from 'express';
import type { MyShare, SharedItemView } from '../../shared/protocol.js';
import { formatBytes } from '../../shared/ledger.js';
import type { Assets } from '../assets.js';
import { csrfProtection } from '../auth/csrf.js';
import { notFound } from '../http-error.js';
import type { SharedFiles } from '../signaling/shares.js';

export interface FilesRoutesDeps {
  assets: Assets;
  files: SharedFiles;
}

/** MAX_QUERY — a search longer than this is cut (nobody types more; it bounds the work). */
const MAX_QUERY = 100;

const ID = /^[0-9a-f]{64}$/;

type Item = Pick<SharedItemView, 'kind' | 'name' | 'files' | 'type' | 'size'>;

/** matches — part of the item's name, one of its paths, or a type, case-insensitive (the island filters the same way). */
function matches(item: Item, q: string): boolean {
  const needle = q.toLowerCase();
  if (!needle) return true;
  return [item.name, item.type, ...item.files.flatMap((f) => [f.path, f.type])].some((s) => s.toLowerCase().includes(needle));
}

/** meta — "12 MB · video/mp4", or "Folder · 3 files · 40 MB". */
function meta(item: Item): string {
  if (item.kind === 'folder') return `Folder · ${item.files.length === 1 ? '1 file' : `${item.files.length} files`} · ${formatBytes(item.size)}`;
  return [formatBytes(item.size), item.type].filter(Boolean).join(' · ');
}

/** when — "28 Nov 2026, 11:32" (the lobby's missed-call format). */
function when(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

function icon(item: Item): string {
  return item.kind === 'folder' ? 'folder' : /^video\//i.test(item.type) ? 'film' : 'file';
}

function presentItem(item: SharedItemView, selfUserId: string) {
  const self = item.holders.some((h) => h.userId === selfUserId);
  const others = item.holders.filter((h) => h.userId !== selfUserId).map((h) => h.displayName);
  return {
    id: item.id, name: item.name, kind: item.kind, icon: icon(item), meta: meta(item),
    holders: [...(self ? ['You'] : []), ...others].join(', '),
    sharedAt: new Date(item.sharedAt).toISOString(), when: when(item.sharedAt),
  };
}

function presentMine(share: MyShare) {
  return { id: share.id, name: share.name, icon: icon(share), meta: meta(share), room: share.room, held: share.held };
}

/** filesRoutes — the page and its no-JavaScript Stop sharing (signed-in only; the caller enforces that). */
export function filesRoutes(deps: FilesRoutesDeps): Router {
  const router = Router();

  router.get('/files', async (req, res) => {
    const user = res.locals.user!;
    // ?q=a&q=b arrives as an array: that is no search anyone typed.
    const q = (typeof req.query.q === 'string' ? req.query.q : '').slice(0, MAX_QUERY).trim();
    const view = await deps.files.viewOf(user.id, null);
    res.render('files', {
      title: 'Shared files',
      scripts: deps.assets.islands.files ? [deps.assets.islands.files] : [],
      q,
      items: view.items.filter((i) => matches(i, q)).map((i) => presentItem(i, user.id)),
      mine: view.mine.map(presentMine),
      stopped: req.query.stopped === '1',
    });
  });

  router.post('/files/:id/stop', csrfProtection, async (req, res) => {
    const id = req.params.id;
    if (typeof id !== 'string' || !ID.test(id)) throw notFound();
    await deps.files.stopSharing(res.locals.user!.id, id);
    res.redirect(303, '/files?stopped=1');
  });

  return router;
}
