// What survives a reload: transfer manifests and verified-chunk bitmaps in IndexedDB, and tab ownership via Web Locks.
import { IdbDatabase } from '../../shared/lib/idb.js';

/** FileRecord — what both directions store about a file in transfer. */
export interface FileRecord {
  id: string;
  /** The offer it came in (receiving side: the sender's id, only compared together with `peerUserId`). */
  offerId: string;
  /** Position in its offer (files of one offer go one after another). */
  order: number;
  /** 'lobby' or 'room:<slug>': where the two sides can reach each other again. */
  scope: string;
  peerUserId: string;
  peerName: string;
  name: string;
  size: number;
  chunkSize: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * IncomingRecord — a file being (or already) received into OPFS. Its `id` is this browser's own
 * random id: the IndexedDB key, the Web Lock name and the OPFS file name. The sender's id is only
 * `remoteId`, looked up together with `peerUserId` — a peer cannot pick a key that reaches
 * another transfer's record or file (room ledgers broadcast transfer ids).
 */
export interface IncomingRecord extends FileRecord {
  /** The sender's id for this file (records stored before local ids had none: their `id` was it). */
  remoteId?: string;
  state: 'receiving' | 'verified';
  /** Chunks known to be on disk (flushed) — never a chunk that is not. */
  bitmap: Uint8Array;
  /** The read-back hash has covered chunks [0, frontier); `hashState` resumes it (hash-wasm save()). */
  frontier: number;
  hashState: Uint8Array | null;
  sha256: string | null;
}

/** OutgoingRecord — a file being sent; after a reload the user picks it again and it is checked against `hashes`. */
export interface OutgoingRecord extends FileRecord {
  /** SHA-256 of chunks [0, hashed), 32 bytes each. */
  hashes: Uint8Array;
  hashed: number;
}

type Stores = { in: IncomingRecord; out: OutgoingRecord };

/** TransferStore — the `hearth-transfers` database: records of files received (`in`) and sent (`out`). */
export type TransferStore = IdbDatabase<Stores>;

/** openTransferStore — null when IndexedDB is unavailable (then transfers simply do not survive a reload). */
export function openTransferStore(): Promise<TransferStore | null> {
  return IdbDatabase.open<Stores>('hearth-transfers', { in: 'id', out: 'id' });
}

/**
 * claim — takes the Web Lock `name` and resolves to its release function. Without `wait`:
 * null when another tab holds it (that tab is carrying the transfer on). With `wait`: once the
 * holder lets go — it may be a page still being torn down after a reload (or kept in the
 * back-forward cache), and then this tab carries the transfer on.
 */
export function claim(name: string): Promise<(() => void) | null>;
export function claim(name: string, opts: { wait: true }): Promise<() => void>;
export function claim(name: string, opts: { wait?: boolean } = {}): Promise<(() => void) | null> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return Promise.resolve(() => {});
  return new Promise((resolve) => {
    void locks.request(name, { ifAvailable: !opts.wait }, (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      return new Promise<void>((release) => resolve(release));
    });
  });
}
