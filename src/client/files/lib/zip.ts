// A streaming writer of an uncompressed ("stored") ZIP: each file is read from its disk-backed Blob
// in slices and written straight to the sink, its CRC-32 following in a data descriptor, so no file
// is ever held in memory. ZIP64 where a file, an offset or the archive passes the 32-bit limits;
// names in UTF-8; empty folders as directory entries.
import { createCRC32 } from 'hash-wasm';

/** ZipEntry — a file (its bytes in a Blob, e.g. a disk-backed File) or an empty folder, by relative path. */
export type ZipEntry = { path: string; blob: Blob } | { path: string; dir: true };

/** ZipSink — where the archive goes, in order (a WritableStreamDefaultWriter, a FileSystemWritableFileStream…). */
export interface ZipSink {
  write(bytes: Uint8Array<ArrayBuffer>): unknown;
}

/** How much of a file is read at a time. */
const SLICE = 4 * 1024 * 1024;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const ZIP64_EXTRA = 0x0001;

interface Written {
  name: Uint8Array;
  dir: boolean;
  crc: number;
  size: number;
  offset: number;
  zip64: boolean;
  time: number;
  date: number;
}

/** zipPathProblem — why `path` cannot be an archive name (absolute, `.`/`..`, empty segments, backslashes), or null. */
function zipPathProblem(path: string): string | null {
  if (!path || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return 'not a relative path';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'a path segment is empty, . or ..';
  return null;
}

/** dosDateTime — a time as MS-DOS date and time fields (2-second steps, 1980–2107). */
function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31)));
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** Little-endian record builder. */
class Bytes {
  private readonly buf: Uint8Array<ArrayBuffer>;
  private readonly view: DataView;
  private at = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  u16(n: number): this {
    this.view.setUint16(this.at, n, true);
    this.at += 2;
    return this;
  }

  u32(n: number): this {
    this.view.setUint32(this.at, n >>> 0, true);
    this.at += 4;
    return this;
  }

  u64(n: number): this {
    this.view.setBigUint64(this.at, BigInt(n), true);
    this.at += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.buf.set(b, this.at);
    this.at += b.length;
    return this;
  }

  done(): Uint8Array<ArrayBuffer> {
    if (this.at !== this.buf.length) throw new Error(`zip record is ${this.at} bytes, expected ${this.buf.length}`);
    return this.buf;
  }
}

/**
 * writeZip — writes `entries` as one stored ZIP to `sink`, in order; returns the archive's size.
 * `progress` hears the bytes written so far; `signal` stops it between slices. Paths must be
 * relative and `/`-separated (the caller makes them safe to save under).
 */
export async function writeZip(entries: ZipEntry[], sink: ZipSink, opts: { progress?: (written: number) => void; signal?: AbortSignal; now?: number } = {}): Promise<number> {
  const enc = new TextEncoder();
  const seen = new Set<string>();
  const written: Written[] = [];
  const crc = await createCRC32();
  let offset = 0;
  const out = async (b: Uint8Array<ArrayBuffer>) => {
    opts.signal?.throwIfAborted();
    await sink.write(b);
    offset += b.length;
    opts.progress?.(offset);
  };

  for (const e of entries) {
    const problem = zipPathProblem(e.path);
    if (problem) throw new Error(`Cannot put "${e.path}" in a ZIP: ${problem}.`);
    const dir = 'dir' in e;
    const name = enc.encode(dir ? `${e.path}/` : e.path);
    if (name.length > MAX16) throw new Error(`Cannot put "${e.path}" in a ZIP: the name is too long.`);
    const key = dir ? `${e.path}/` : e.path;
    if (seen.has(key)) throw new Error(`"${e.path}" is in the ZIP twice.`);
    seen.add(key);
    const size = dir ? 0 : e.blob.size;
    const modified = !dir && 'lastModified' in e.blob && typeof e.blob.lastModified === 'number' ? e.blob.lastModified : (opts.now ?? Date.now());
    const w: Written = { name, dir, crc: 0, size, offset, zip64: size >= MAX32, ...dosDateTime(modified) };
    // A file's CRC follows its data (a data descriptor); a folder has nothing to follow.
    const flags = FLAG_UTF8 | (dir ? 0 : FLAG_DESCRIPTOR);
    const header = new Bytes(30 + name.length + (w.zip64 ? 20 : 0))
      .u32(0x04034b50).u16(w.zip64 ? 45 : 20).u16(flags).u16(0).u16(w.time).u16(w.date)
      .u32(0).u32(w.zip64 ? MAX32 : 0).u32(w.zip64 ? MAX32 : 0)
      .u16(name.length).u16(w.zip64 ? 20 : 0).raw(name);
    if (w.zip64) header.u16(ZIP64_EXTRA).u16(16).u64(0).u64(0);
    await out(header.done());
    if (!dir) {
      crc.init();
      const blob = (e as { blob: Blob }).blob;
      for (let at = 0; at < size; at += SLICE) {
        const bytes = new Uint8Array(await blob.slice(at, Math.min(size, at + SLICE)).arrayBuffer());
        if (bytes.length !== Math.min(SLICE, size - at)) throw new Error(`"${e.path}" changed while it was being saved.`);
        crc.update(bytes);
        await out(bytes);
      }
      w.crc = parseInt(crc.digest('hex'), 16);
      const descriptor = w.zip64
        ? new Bytes(24).u32(0x08074b50).u32(w.crc).u64(size).u64(size)
        : new Bytes(16).u32(0x08074b50).u32(w.crc).u32(size).u32(size);
      await out(descriptor.done());
    }
    written.push(w);
  }

  const cdStart = offset;
  for (const w of written) {
    // The ZIP64 extra holds, in this order, just the fields too large for their 32-bit slots.
    const big = { size: w.size >= MAX32, offset: w.offset >= MAX32 };
    const extraLen = (big.size ? 16 : 0) + (big.offset ? 8 : 0);
    const rec = new Bytes(46 + w.name.length + (extraLen ? 4 + extraLen : 0))
      .u32(0x02014b50).u16((3 << 8) | 45).u16(w.zip64 || big.offset ? 45 : 20)
      .u16(FLAG_UTF8 | (w.dir ? 0 : FLAG_DESCRIPTOR)).u16(0).u16(w.time).u16(w.date)
      .u32(w.crc).u32(big.size ? MAX32 : w.size).u32(big.size ? MAX32 : w.size)
      .u16(w.name.length).u16(extraLen ? 4 + extraLen : 0).u16(0).u16(0).u16(0)
      // Unix mode in the high half (rwxr-xr-x folders, rw-r--r-- files), and the MS-DOS folder bit.
      .u32(w.dir ? ((0o40755 << 16) | 0x10) : 0o100644 << 16)
      .u32(big.offset ? MAX32 : w.offset)
      .raw(w.name);
    if (extraLen) {
      rec.u16(ZIP64_EXTRA).u16(extraLen);
      if (big.size) rec.u64(w.size).u64(w.size);
      if (big.offset) rec.u64(w.offset);
    }
    await out(rec.done());
  }
  const cdSize = offset - cdStart;
  const count = written.length;
  if (count >= MAX16 || cdStart >= MAX32 || cdSize >= MAX32 || written.some((w) => w.zip64)) {
    const z64 = offset;
    await out(new Bytes(56).u32(0x06064b50).u64(44).u16((3 << 8) | 45).u16(45).u32(0).u32(0)
      .u64(count).u64(count).u64(cdSize).u64(cdStart).done());
    await out(new Bytes(20).u32(0x07064b50).u32(0).u64(z64).u32(1).done());
  }
  await out(new Bytes(22).u32(0x06054b50).u16(0).u16(0)
    .u16(Math.min(count, MAX16)).u16(Math.min(count, MAX16))
    .u32(Math.min(cdSize, MAX32)).u32(Math.min(cdStart, MAX32)).u16(0).done());
  return offset;
}
