// The sender's file: chunks read with File.slice (a few ahead), per-chunk SHA-256, and the whole-file SHA-256 built in order.
import { createSHA256, type IHasher } from 'hash-wasm';
import { Bitmap, chunkCount, chunkLength } from './bitmap.js';
import { toHex } from './messages.js';

/** FileChangedError — the file picked again (or read again) is not the one whose chunks were sent. */
export class FileChangedError extends Error {
  override name = 'FileChangedError';
}

const READ_AHEAD = 4;

/**
 * FileSource — one File being sent. Chunk hashes use WebCrypto (native, ~1.5 GB/s here); the
 * whole-file hash uses hash-wasm (WebCrypto has no incremental digest, ~300 MB/s), fed
 * strictly in chunk order: chunks resent later are not hashed twice, chunks never read
 * (the receiver already had them) are read at the end by `finish()`.
 */
export class FileSource {
  readonly count: number;
  /** SHA-256 of each chunk, 32 bytes apiece; `known` says which are filled. */
  readonly hashes: Uint8Array;
  readonly known: Bitmap;
  private frontier = 0;
  private sha: string | null = null;
  private readonly reads = new Map<number, Promise<{ data: ArrayBuffer; digest: Uint8Array }>>();

  private constructor(readonly file: File, readonly chunkSize: number, private readonly hasher: IHasher, hashes: Uint8Array | null, hashed: number) {
    this.count = chunkCount(file.size, chunkSize);
    this.hashes = new Uint8Array(this.count * 32);
    this.known = new Bitmap(this.count);
    if (hashes) {
      this.hashes.set(hashes.subarray(0, Math.min(hashes.length, this.hashes.length)));
      for (let i = 0; i < Math.min(hashed, this.count); i++) this.known.set(i);
    }
  }

  /** create — `hashes`/`hashed` are what an earlier page sent (after a reload), checked by `verifyKnown`. */
  static async create(file: File, chunkSize: number, hashes: Uint8Array | null = null, hashed = 0): Promise<FileSource> {
    const hasher = await createSHA256();
    hasher.init();
    return new FileSource(file, chunkSize, hasher, hashes, hashed);
  }

  /** hashedPrefix — how many leading chunks have known hashes (what is persisted). */
  get hashedPrefix(): number {
    let i = 0;
    while (i < this.count && this.known.has(i)) i++;
    return i;
  }

  /** prefetch — start reading chunk `i` now, so it is ready when the channel wants it. */
  prefetch(i: number): void {
    if (i >= 0 && i < this.count && !this.reads.has(i) && this.reads.size < READ_AHEAD) this.startRead(i);
  }

  /** dropReadAhead — forget chunks read ahead (the receiver asked for something else). */
  dropReadAhead(): void {
    this.reads.clear();
  }

  // Reading and the chunk's digest both hop to other threads; doing them ahead keeps the
  // send loop from waiting on either (measured: 64 KiB chunks went from ~50 % to ~X % of raw).
  private startRead(i: number): Promise<{ data: ArrayBuffer; digest: Uint8Array }> {
    const start = i * this.chunkSize;
    const p = this.file.slice(start, start + chunkLength(i, this.file.size, this.chunkSize)).arrayBuffer()
      .then(async (data) => ({ data, digest: new Uint8Array(await crypto.subtle.digest('SHA-256', data)) }));
    p.catch(() => undefined); // reported when awaited
    this.reads.set(i, p);
    return p;
  }

  private read(i: number): Promise<{ data: ArrayBuffer; digest: Uint8Array }> {
    const p = this.reads.get(i) ?? this.startRead(i);
    this.reads.delete(i);
    return p;
  }

  /** chunk — chunk `i`'s bytes and hex SHA-256; throws FileChangedError if it no longer matches what was sent before. */
  async chunk(i: number): Promise<{ data: ArrayBuffer; hash: string }> {
    const { data, digest: hash } = await this.read(i);
    const slot = this.hashes.subarray(i * 32, i * 32 + 32);
    if (this.known.has(i)) {
      if (!equal(slot, hash)) throw new FileChangedError('The file changed since its first chunks were sent.');
    } else {
      slot.set(hash);
      this.known.set(i);
    }
    if (i === this.frontier) {
      this.hasher.update(new Uint8Array(data));
      this.frontier++;
    }
    return { data, hash: toHex(hash) };
  }

  /** finish — the whole file's SHA-256 (reads whatever chunks were never sent from here). */
  async finish(): Promise<string> {
    while (this.sha === null && this.frontier < this.count) await this.chunk(this.frontier);
    this.sha ??= this.hasher.digest('hex');
    return this.sha;
  }

  /**
   * verifyKnown — after a reload: reads the chunks whose hashes the earlier page recorded,
   * compares them, and feeds the whole-file hash. False at the first difference.
   */
  async verifyKnown(onProgress?: (done: number, total: number) => void): Promise<boolean> {
    const total = this.hashedPrefix;
    try {
      for (let i = 0; i < total; i++) {
        this.prefetch(i + 1);
        await this.chunk(i);
        if (i % 16 === 0) onProgress?.(i, total);
      }
    } catch (err) {
      if (err instanceof FileChangedError) return false;
      throw err;
    }
    return true;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
