// What survives a reload of shared files: downloads (their items, per-file progress and manifests) in IndexedDB.
import { IdbDatabase } from '../../shared/lib/idb.js';
import type { DiskSnapshot } from '../../transfer/lib/disk.js';
import type { ShareItem } from '../../../shared/shares.js';

/** ItemRecord — an item this browser downloads or has downloaded (then it shares it too). */
export interface ItemRecord {
  id: string;
  item: ShareItem;
  /** Where it was shared: null for the Shared files page, else the room's slug. */
  room: string | null;
  state: 'downloading' | 'verified';
  createdAt: number;
}

/** FileRecord — one file of a download, stored in OPFS as `share-<sha256>`. */
export interface FileRecord {
  sha256: string;
  size: number;
  /** The verified manifest (32 bytes per chunk), once known. */
  hashes: Uint8Array | null;
  /** What is durably on disk (see Disk.flush). */
  snapshot: DiskSnapshot | null;
  verified: boolean;
}

type Stores = { items: ItemRecord; files: FileRecord };

/** opfsName — the OPFS file a shared file is downloaded into (one per content, whatever the item). */
export const opfsName = (sha256: string) => `share-${sha256}`;

/** Library — the `hearth-shares` database: downloaded items and their files' progress. */
export type Library = IdbDatabase<Stores>;

/** openLibrary — null when IndexedDB is unavailable (downloads then do not survive a reload). */
export function openLibrary(): Promise<Library | null> {
  return IdbDatabase.open<Stores>('hearth-shares', { items: 'id', files: 'sha256' });
}
