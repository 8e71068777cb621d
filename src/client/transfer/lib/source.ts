// The sender's file: read with File.slice in large blocks (a couple ahead), cut into chunks, each
// hashed (SHA-256) once, and the whole-file SHA-256 built in chunk order — ahead of time while the
// offer waits for an answer, so that sending usually only reads.
import { createSHA256, type IHasher } from 'hash-wasm';
import { Bitmap, chunkCount, chunkLength } from './bitmap.js';
import { toHex } from './messages.js';

/** FileChangedError — the file picked again (or read again) is not the one whose chunks were sent. */
class FileChangedError extends Error {
  override name = 'FileChangedError';
}

// Each File.slice().arrayBuffer() is a round trip to the browser process, which opens and reads
// the file. Measured CPU per GiB read (all processes; scripts/bench/transfer.ts, part costs):
// 256 KiB slices 6–10 s, 1 MiB 3.6–4.2 s, 4 MiB 3.0–4.0 s, 8 MiB 3.0–3.5 s, 16 MiB 1.8–2.5 s
// (as cheap as File.stream()). So the sender reads 16 MiB blocks whatever the chunk size, one
// ahead: at most 32 MiB of the file in memory.
const BLOCK_BYTES = 16 * 1024 * 1024;
const BLOCKS_AHEAD = 1;
const DIGESTS_AHEAD = 8;

interface Ready {
  data: Uint8Array<ArrayBuffer>;
  /** Null when the chunk's hash is already trusted (not hashed again). */
  digest: Uint8Array | null;
}

/**
 * FileSource — one File being sent. Chunk hashes use WebCrypto (native, ~1 GB/s here); the
 * whole-file hash uses hash-wasm (WebCrypto has no incremental digest, ~300 MB/s), fed
 * strictly in chunk order. `prehash` does both while the offer waits; whatever it has not
 * reached when sending starts is hashed as it is sent, and chunks never read (the receiver
 * already had them) are read at the end by `finish()`. A chunk hashed here is not hashed again
 * when it is sent (or resent) unless the receiver rejected it. Memory: at most BLOCKS_AHEAD + 1 blocks.
 */
export class FileSource {
  readonly count: number;
  /** SHA-256 of each chunk, 32 bytes apiece; `known` says which are filled. */
  readonly hashes: Uint8Array;
  readonly known: Bitmap;
  /** Chunks hashed from this File in this page (`known` may also hold an earlier page's hashes, which are checked). */
  private readonly trusted: Bitmap;
  /** Chunks the receiver rejected: read and hashed again before they go out. */
  private readonly suspect = new Set<number>();
  private prehashing = false;
  private frontier = 0;
  private sha: string | null = null;
  private readonly perBlock: number;
  private readonly blocks = new Map<number, Promise<ArrayBuffer>>();
  private readonly ready = new Map<number, Promise<Ready>>();

  private constructor(readonly file: File, readonly chunkSize: number, private readonly hasher: IHasher, hashes: Uint8Array | null, hashed: number) {
    this.count = chunkCount(file.size, chunkSize);
    this.perBlock = Math.max(1, Math.floor(BLOCK_BYTES / chunkSize));
    this.hashes = new Uint8Array(this.count * 32);
    this.known = new Bitmap(this.count);
    this.trusted = new Bitmap(this.count);
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

  /** hashedBytes — how much of the file the whole-file hash has covered (what `prehash` reports). */
  get hashedBytes(): number {
    return Math.min(this.file.size, this.frontier * this.chunkSize);
  }

  /**
   * prehash — hashes the file ahead of sending (chunk hashes and the whole-file hash), until done
   * or `stopPrehash`; its reads are let go at the end. Errors are left for sending to meet.
   */
  async prehash(): Promise<void> {
    this.prehashing = true;
    try {
      while (this.prehashing && this.frontier < this.count) {
        for (let k = 1; k <= 4; k++) this.prefetch(this.frontier + k);
        await this.chunk(this.frontier);
      }
    } catch {
      // Reading failed: sending will meet the same error and report it.
    } finally {
      if (this.prehashing) this.dropReadAhead();
      this.prehashing = false;
    }
  }

  /** stopPrehash — sending starts (or the transfer ended): hashing goes on only as chunks are sent. */
  stopPrehash(): void {
    this.prehashing = false;
  }

  /** distrust — the receiver rejected chunk `i`: read and hash it again before resending (did the file change?). */
  distrust(i: number): void {
    this.suspect.add(i);
    this.ready.delete(i);
  }

  /**
   * prefetch — start reading and hashing chunk `i` now, so it is ready when the channel wants
   * it (both hop to other threads; waiting for them in the send loop cost throughput).
   */
  prefetch(i: number): void {
    if (i < 0 || i >= this.count || this.ready.has(i) || this.ready.size >= DIGESTS_AHEAD) return;
    this.start(i);
  }

  /** dropReadAhead — forget what was read ahead (the receiver asked for something else). */
  dropReadAhead(): void {
    this.ready.clear();
    this.blocks.clear();
  }

  private block(b: number): Promise<ArrayBuffer> {
    let p = this.blocks.get(b);
    if (!p) {
      const start = b * this.perBlock * this.chunkSize;
      p = this.file.slice(start, Math.min(this.file.size, start + this.perBlock * this.chunkSize)).arrayBuffer();
      p.catch(() => undefined); // reported when awaited
      this.blocks.set(b, p);
    }
    return p;
  }

  private start(i: number): Promise<Ready> {
    const hash = !this.trusted.has(i) || this.suspect.has(i);
    const b = Math.floor(i / this.perBlock);
    // Keep reading ahead in file order; blocks behind the one in use are let go.
    for (let k = 1; k <= BLOCKS_AHEAD; k++) if ((b + k) * this.perBlock < this.count) void this.block(b + k);
    for (const old of this.blocks.keys()) if (old < b || old > b + BLOCKS_AHEAD) this.blocks.delete(old);
    const off = (i - b * this.perBlock) * this.chunkSize;
    const p = this.block(b).then(async (buf) => {
      const data = new Uint8Array(buf, off, chunkLength(i, this.file.size, this.chunkSize));
      return { data, digest: hash ? new Uint8Array(await crypto.subtle.digest('SHA-256', data)) : null };
    });
    p.catch(() => undefined);
    this.ready.set(i, p);
    return p;
  }

  /** chunk — chunk `i`'s bytes (a view into its block) and hex SHA-256; FileChangedError if they differ from what was sent before. */
  async chunk(i: number): Promise<{ data: Uint8Array<ArrayBuffer>; hash: string }> {
    const p = this.ready.get(i) ?? this.start(i);
    this.ready.delete(i);
    const { data, digest } = await p;
    const slot = this.hashes.subarray(i * 32, i * 32 + 32);
    if (digest) {
      if (this.known.has(i)) {
        if (!equal(slot, digest)) throw new FileChangedError('The file changed since its first chunks were sent.');
      } else {
        slot.set(digest);
        this.known.set(i);
      }
      this.trusted.set(i);
      this.suspect.delete(i);
    }
    if (i === this.frontier) {
      this.hasher.update(data);
      this.frontier++;
    }
    return { data, hash: toHex(slot) };
  }

  /** finish — the whole file's SHA-256 (reads whatever chunks were never sent from here). */
  async finish(): Promise<string> {
    while (this.sha === null && this.frontier < this.count) {
      this.prefetch(this.frontier + 1);
      await this.chunk(this.frontier);
    }
    this.sha ??= this.hasher.digest('hex');
    return this.sha;
  }

  /**
   * verifyKnown — after a reload: reads the chunks whose hashes the earlier page recorded,
   * compares them, and feeds the whole-file hash. False at the first difference.
   */
  async verifyKnown(): Promise<boolean> {
    const total = this.hashedPrefix;
    try {
      for (let i = 0; i < total; i++) {
        for (let k = 1; k <= 4; k++) if (i + k < total) this.prefetch(i + k);
        await this.chunk(i);
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
