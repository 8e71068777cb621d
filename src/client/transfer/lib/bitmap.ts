// Chunk bookkeeping: a bitmap of chunks (verified, acknowledged, sent) and the missing ranges a receiver asks for.

/** Range — chunk indices [start, end). */
export type Range = [number, number];

/** Bitmap — one bit per chunk; `bytes` is what IndexedDB stores. */
export class Bitmap {
  readonly bytes: Uint8Array;
  private ones = 0;

  constructor(readonly size: number, bytes?: Uint8Array) {
    const len = Math.ceil(size / 8);
    this.bytes = bytes && bytes.length === len ? new Uint8Array(bytes) : new Uint8Array(len);
    // Bits past `size` in the last byte are never trusted (stored data may come from an older run).
    if (size % 8 && len) this.bytes[len - 1]! &= (1 << (size % 8)) - 1;
    for (const b of this.bytes) this.ones += popcount(b);
  }

  has(i: number): boolean {
    return ((this.bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }

  /** set — marks chunk `i`; true when it was not marked before. */
  set(i: number): boolean {
    if (i < 0 || i >= this.size || this.has(i)) return false;
    this.bytes[i >> 3]! |= 1 << (i & 7);
    this.ones++;
    return true;
  }

  get count(): number {
    return this.ones;
  }

  get complete(): boolean {
    return this.ones === this.size;
  }

  /** missing — up to `max` ranges of unmarked chunks, in order; `more` when there are further ones. */
  missing(max: number): { ranges: Range[]; more: boolean } {
    const ranges: Range[] = [];
    let i = 0;
    while (i < this.size) {
      // Skip whole bytes of ones quickly: a 1 GiB file has 4,096 chunks, a 1 TiB one 4 million.
      if ((i & 7) === 0 && this.bytes[i >> 3] === 0xff) {
        i += 8;
        continue;
      }
      if (this.has(i)) {
        i++;
        continue;
      }
      if (ranges.length === max) return { ranges, more: true };
      const start = i;
      while (i < this.size && !this.has(i)) i++;
      ranges.push([start, i]);
    }
    return { ranges, more: false };
  }
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}

/** validRanges — ranges from a peer: sorted, disjoint, non-empty and within [0, size). */
export function validRanges(ranges: Range[], size: number): boolean {
  let last = 0;
  for (const [a, b] of ranges) {
    if (a < last || b <= a || b > size) return false;
    last = b;
  }
  return true;
}

/** chunkCount — how many chunks a file of `size` bytes has (an empty file has none). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** chunkLength — the byte length of chunk `i` (the last one may be short). */
export function chunkLength(i: number, size: number, chunkSize: number): number {
  return Math.min(chunkSize, size - i * chunkSize);
}
