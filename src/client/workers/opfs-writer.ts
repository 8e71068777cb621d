// OPFS writer worker: checks each received chunk's SHA-256, writes it through a sync access handle,
// and hashes the file back from disk as it fills, so the final SHA-256 is of the bytes really stored.
import { createSHA256, type IHasher } from 'hash-wasm';
import type { DiskReply, DiskRequest, DiskSnapshot } from '../transfer/lib/disk.js';
import { OPFS_DIR } from '../transfer/lib/disk.js';

// Not in TypeScript's DOM library (sync access handles exist only in workers).
interface SyncAccessHandle {
  read(buf: Uint8Array, opts?: { at?: number }): number;
  write(buf: Uint8Array, opts?: { at?: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}
type WorkerScope = { onmessage: ((e: MessageEvent<DiskRequest & { rid: number }>) => void) | null; postMessage(m: DiskReply, t?: Transferable[]): void };
const scope = self as unknown as WorkerScope;

interface OpenFile {
  handle: SyncAccessHandle;
  size: number;
  chunkSize: number;
  count: number;
  /** Chunks written (the page persists this after a flush). */
  bitmap: Uint8Array;
  /** Chunks [0, frontier) have been read back from disk into `hasher`. */
  frontier: number;
  hasher: IHasher;
  /** One reusable buffer for reading back: memory stays one chunk per open file. */
  buf: Uint8Array;
  /** One reusable buffer a chunk's parts are put together in (checked, then written from). */
  asm: Uint8Array<ArrayBuffer>;
  /** Writes run one after another (they share `asm`). */
  queue: Promise<unknown>;
}

const files = new Map<string, OpenFile>();
const has = (b: Uint8Array, i: number) => ((b[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;

async function dir(): Promise<FileSystemDirectoryHandle> {
  return (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIR, { create: true });
}

function get(id: string): OpenFile {
  const f = files.get(id);
  if (!f) throw new DOMException(`File ${id} is not open`, 'InvalidStateError');
  return f;
}

/** advance — reads newly contiguous chunks back from disk into the running whole-file hash. */
function advance(f: OpenFile): void {
  while (f.frontier < f.count && has(f.bitmap, f.frontier)) {
    const at = f.frontier * f.chunkSize;
    const view = f.buf.subarray(0, Math.min(f.chunkSize, f.size - at));
    if (f.handle.read(view, { at }) !== view.length) throw new DOMException('Short read from disk', 'NotReadableError');
    f.hasher.update(view);
    f.frontier++;
  }
}

async function open(req: Extract<DiskRequest, { op: 'open' }>): Promise<void> {
  if (files.has(req.id)) return;
  const fh = await (await dir()).getFileHandle(req.id, { create: true });
  const handle = await (fh as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle();
  try {
    // Full size up front: chunks may land in any order, and a full disk fails now rather than at 90 %.
    if (handle.getSize() !== req.size) handle.truncate(req.size);
    const count = Math.ceil(req.size / req.chunkSize);
    const bitmap = new Uint8Array(Math.ceil(count / 8));
    const hasher = await createSHA256();
    hasher.init();
    let frontier = 0;
    const r = req.resume;
    if (r && r.bitmap.length === bitmap.length) {
      bitmap.set(r.bitmap);
      if (r.hashState && r.frontier > 0) {
        try {
          hasher.load(r.hashState);
          frontier = r.frontier;
        } catch {
          hasher.init(); // a state from another hash-wasm build: hash the prefix again from disk
        }
      }
    }
    const one = Math.min(req.chunkSize, Math.max(req.size, 1));
    const f: OpenFile = { handle, size: req.size, chunkSize: req.chunkSize, count, bitmap, frontier, hasher, buf: new Uint8Array(one), asm: new Uint8Array(one), queue: Promise.resolve() };
    advance(f);
    files.set(req.id, f);
  } catch (err) {
    handle.close();
    throw err;
  }
}

function write(req: Extract<DiskRequest, { op: 'write' }>): Promise<boolean> {
  const f = get(req.id);
  const at = req.index * f.chunkSize;
  const len = Math.min(f.chunkSize, f.size - at);
  let got = 0;
  for (const p of req.parts) got += p.byteLength;
  if (req.index < 0 || req.index >= f.count || got !== len) return Promise.resolve(false);
  const run = f.queue.then(() => writeChunk(f, req, at, len));
  f.queue = run.catch(() => undefined);
  return run;
}

/** writeChunk — puts the parts together in `asm`, checks the SHA-256, and only then writes. */
async function writeChunk(f: OpenFile, req: Extract<DiskRequest, { op: 'write' }>, at: number, len: number): Promise<boolean> {
  const view = f.asm.subarray(0, len);
  let o = 0;
  for (const p of req.parts) {
    view.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  // A chunk that does not match its hash is never written: the page asks for it again.
  if (hex !== req.hash) return false;
  if (files.get(req.id) !== f) throw new DOMException('File was closed', 'InvalidStateError');
  if (!has(f.bitmap, req.index)) {
    if (f.handle.write(view, { at }) !== len) throw new DOMException('Short write to disk', 'InvalidStateError');
    f.bitmap[req.index >> 3]! |= 1 << (req.index & 7);
    advance(f);
  }
  return true;
}

function snapshot(f: OpenFile): DiskSnapshot {
  f.handle.flush();
  return { bitmap: f.bitmap.slice(), frontier: f.frontier, hashState: f.frontier > 0 ? f.hasher.save().slice() : null };
}

function digest(id: string): string {
  const f = get(id);
  f.handle.flush();
  advance(f);
  if (f.frontier < f.count) throw new DOMException('The file is not complete', 'InvalidStateError');
  // digest() ends the hasher; keep it resumable in case the page asks again.
  const state = f.hasher.save().slice();
  const hex = f.hasher.digest('hex');
  f.hasher.init();
  f.hasher.load(state);
  return hex;
}

async function remove(id: string): Promise<void> {
  files.get(id)?.handle.close();
  files.delete(id);
  try {
    await (await dir()).removeEntry(id);
  } catch (err) {
    if ((err as DOMException).name !== 'NotFoundError') throw err;
  }
}

scope.onmessage = (e) => {
  const req = e.data;
  const reply = (r: Omit<DiskReply & { ok: true }, 'rid' | 'ok'> = {}) => scope.postMessage({ rid: req.rid, ok: true, ...r });
  void (async () => {
    switch (req.op) {
      case 'open':
        await open(req);
        return reply();
      case 'write': return reply({ valid: await write(req) });
      case 'flush': return reply({ snapshot: snapshot(get(req.id)) });
      case 'digest': return reply({ sha256: digest(req.id) });
      case 'close': {
        const f = files.get(req.id);
        if (f) {
          f.handle.flush();
          f.handle.close();
          files.delete(req.id);
        }
        return reply();
      }
      case 'remove':
        await remove(req.id);
        return reply();
    }
  })().catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ rid: req.rid, ok: false, error: e.message, name: e.name });
  });
};
