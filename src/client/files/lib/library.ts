// What survives a reload of shared files: downloads (their items, per-file progress and manifests) in IndexedDB.
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
const DB_NAME = 'hearth-shares';

/** opfsName — the OPFS file a shared file is downloaded into (one per content, whatever the item). */
export const opfsName = (sha256: string) => `share-${sha256}`;

/** Library — a promise wrapper over the `hearth-shares` IndexedDB database. */
export class Library {
  private constructor(private readonly db: IDBDatabase) {}

  /** open — null when IndexedDB is unavailable (downloads then do not survive a reload). */
  static open(): Promise<Library | null> {
    if (typeof indexedDB === 'undefined') return Promise.resolve(null);
    return new Promise((resolve) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('items')) db.createObjectStore('items', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('files')) db.createObjectStore('files', { keyPath: 'sha256' });
      };
      req.onsuccess = () => resolve(new Library(req.result));
      req.onerror = () => resolve(null);
      req.onblocked = () => resolve(null);
    });
  }

  all<S extends keyof Stores>(store: S): Promise<Stores[S][]> {
    return this.run(store, 'readonly', (s) => s.getAll()) as Promise<Stores[S][]>;
  }

  get<S extends keyof Stores>(store: S, key: string): Promise<Stores[S] | undefined> {
    return this.run(store, 'readonly', (s) => s.get(key)) as Promise<Stores[S] | undefined>;
  }

  put<S extends keyof Stores>(store: S, rec: Stores[S]): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.put(rec)).then(() => undefined);
  }

  delete(store: keyof Stores, key: string): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.delete(key)).then(() => undefined);
  }

  private run(store: string, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(store, mode);
      const req = fn(tx.objectStore(store));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB request failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
}
