// The page's side of the OPFS writer worker: request/response calls, plus reading a finished file for Save.

/** OPFS_DIR — the origin-private folder received files live in (each named by its transfer id). */
export const OPFS_DIR = 'hearth-transfers';

/** DiskSnapshot — what is durably on disk: persist exactly this, so a reload never trusts an unwritten chunk. */
export interface DiskSnapshot {
  bitmap: Uint8Array;
  frontier: number;
  hashState: Uint8Array | null;
}

export type DiskRequest =
  | { op: 'open'; id: string; size: number; chunkSize: number; resume: DiskSnapshot | null }
  | { op: 'write'; id: string; index: number; hash: string; parts: ArrayBuffer[] }
  | { op: 'flush'; id: string }
  | { op: 'digest'; id: string }
  | { op: 'close'; id: string }
  | { op: 'remove'; id: string };

export type DiskReply = { rid: number; ok: true; valid?: boolean; snapshot?: DiskSnapshot; sha256?: string } | { rid: number; ok: false; error: string; name: string };

/** DiskError — a failure inside the worker (its DOMException name kept, e.g. QuotaExceededError). */
class DiskError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** Disk — one worker for the page (started on first use); each received file is one open sync access handle in it. */
export class Disk {
  private w: Worker | null = null;
  private rid = 0;
  private readonly waiting = new Map<number, { resolve: (r: DiskReply & { ok: true }) => void; reject: (e: Error) => void }>();

  constructor(private readonly url: string) {}

  private get worker(): Worker {
    if (this.w) return this.w;
    this.w = new Worker(this.url, { type: 'module', name: 'opfs-writer' });
    this.w.onmessage = (e: MessageEvent<DiskReply>) => {
      const w = this.waiting.get(e.data.rid);
      if (!w) return;
      this.waiting.delete(e.data.rid);
      if (e.data.ok) w.resolve(e.data);
      else w.reject(new DiskError(e.data.error, e.data.name));
    };
    this.w.onerror = (e) => {
      const err = new DiskError(e.message || 'The file writer stopped', 'WorkerError');
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    return this.w;
  }

  /** available — this browser can write received files to the origin-private file system. */
  static get available(): boolean {
    return typeof Worker !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
  }

  open(id: string, size: number, chunkSize: number, resume: DiskSnapshot | null): Promise<void> {
    return this.call({ op: 'open', id, size, chunkSize, resume }).then(() => undefined);
  }

  /**
   * write — verifies the chunk made of `parts` (its data-channel messages, in order) against
   * `hash` and writes it as chunk `index`; false (nothing written) on a mismatch. The parts are
   * transferred, not copied: the worker puts them together.
   */
  write(id: string, index: number, hash: string, parts: ArrayBuffer[]): Promise<boolean> {
    return this.call({ op: 'write', id, index, hash, parts }, parts).then((r) => r.valid === true);
  }

  flush(id: string): Promise<DiskSnapshot> {
    return this.call({ op: 'flush', id }).then((r) => r.snapshot!);
  }

  /** digest — the whole file's SHA-256, hashed back from disk. */
  digest(id: string): Promise<string> {
    return this.call({ op: 'digest', id }).then((r) => r.sha256!);
  }

  close(id: string): Promise<void> {
    return this.call({ op: 'close', id }).then(() => undefined);
  }

  remove(id: string): Promise<void> {
    return this.call({ op: 'remove', id }).then(() => undefined);
  }

  private call(req: DiskRequest, transfer: Transferable[] = []): Promise<DiskReply & { ok: true }> {
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      this.worker.postMessage({ rid, ...req }, transfer);
    });
  }
}

/** opfsDir — the received-files folder (created on first use). */
export async function opfsDir(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIR, { create: true });
}

/** receivedFile — the finished file as a disk-backed File (no copy in memory); for Save. */
export async function receivedFile(id: string): Promise<File> {
  return (await (await opfsDir()).getFileHandle(id)).getFile();
}
