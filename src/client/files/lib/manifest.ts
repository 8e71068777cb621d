// Naming shared content: a file's SHA-256 and its manifest (the SHA-256 of every 1 MiB chunk), read once.
import { createSHA256 } from 'hash-wasm';
import { toHex } from '../../transfer/lib/messages.js';

/** SHARE_CHUNK — must match src/shared/shares.ts (every manifest assumes it). */
export const CHUNK = 1024 * 1024;

// Large reads are cheaper than many small ones (see transfer/lib/source.ts: 16 MiB blocks cost
// half the CPU of 1 MiB ones per GiB read).
const BLOCK = 16 * CHUNK;

/** Prepared — what sharing a file announces (sha256, manifest) and keeps to serve it (hashes). */
export interface Prepared {
  sha256: string;
  /** SHA-256 (hex) of `hashes`. */
  manifest: string;
  /** The 32-byte SHA-256 of each chunk, in order. */
  hashes: Uint8Array;
}

/** chunkCount — how many chunks a file of `size` bytes has (0 for an empty file). */
export function chunkCount(size: number): number {
  return Math.ceil(size / CHUNK);
}

/** chunkBytes — the length of chunk `i` of a file of `size` bytes. */
export function chunkBytes(i: number, size: number): number {
  return Math.max(0, Math.min(CHUNK, size - i * CHUNK));
}

/**
 * prepare — reads `blob` once: whole-file SHA-256 (hash-wasm, incremental) and each chunk's
 * SHA-256 (WebCrypto). `progress` gets the fraction read; `aborted` stops it between blocks.
 */
export async function prepare(blob: Blob, progress: (fraction: number) => void = () => {}, aborted: () => boolean = () => false): Promise<Prepared> {
  const hasher = await createSHA256();
  hasher.init();
  const count = chunkCount(blob.size);
  const hashes = new Uint8Array(count * 32);
  let next: Promise<ArrayBuffer> | null = count ? blob.slice(0, Math.min(BLOCK, blob.size)).arrayBuffer() : null;
  for (let at = 0; at < blob.size; at += BLOCK) {
    if (aborted()) throw new DOMException('Sharing was cancelled', 'AbortError');
    const buf = await next!;
    const after = at + BLOCK;
    // Read the next block while this one is hashed.
    next = after < blob.size ? blob.slice(after, Math.min(after + BLOCK, blob.size)).arrayBuffer() : null;
    const bytes = new Uint8Array(buf);
    hasher.update(bytes);
    const digests = [];
    for (let off = 0; off < bytes.length; off += CHUNK) digests.push(crypto.subtle.digest('SHA-256', bytes.subarray(off, off + CHUNK)));
    const done = await Promise.all(digests);
    done.forEach((d, k) => hashes.set(new Uint8Array(d), (at / CHUNK + k) * 32));
    progress(Math.min(1, after / blob.size));
  }
  progress(1);
  return { sha256: hasher.digest('hex'), manifest: await sha256Hex(hashes), hashes };
}

/** sha256Hex — SHA-256 (hex) of bytes, natively. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer> | Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** sha256Text — SHA-256 (hex) of a string's UTF-8 bytes (folder ids). */
export function sha256Text(text: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(text));
}
