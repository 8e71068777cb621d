// The streaming stored-ZIP writer (src/client/files/lib/zip.ts), read back by Python's zipfile and Info-ZIP's unzip.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openAsBlob, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { writeZip, type ZipEntry, type ZipSink } from '../../src/client/files/lib/zip.js';
import { tempDir } from '../helpers/processes.js';

const MiB = 1024 * 1024;
/** One slice of the writer's (4 MiB) of zeros. */
const ZEROS = Buffer.alloc(4 * MiB);

/** fileSink — writes the archive to `file`; all-zero slices become holes (a sparse file), so huge archives cost no disk. */
function fileSink(file: string): ZipSink & { close(): void } {
  const fd = openSync(file, 'w');
  let at = 0;
  return {
    write(b: Uint8Array) {
      if (b.length === ZEROS.length && Buffer.compare(b, ZEROS) === 0) {
        at += b.length;
        return;
      }
      writeSync(fd, b, 0, b.length, at);
      at += b.length;
    },
    close() {
      // A trailing hole still counts towards the size.
      writeSync(fd, new Uint8Array(0), 0, 0, at);
      closeSync(fd);
    },
  };
}

/** python — runs a Python 3 snippet with the archive's path as argv[1]; its stdout, parsed as JSON. */
function python(code: string, zip: string): unknown {
  return JSON.parse(execFileSync('python3', ['-c', code, zip], { encoding: 'utf8', maxBuffer: 64 * MiB }));
}

const LIST = `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
out = []
for i in z.infolist():
    h = hashlib.sha256()
    with z.open(i) as f:
        while True:
            b = f.read(1 << 20)
            if not b: break
            h.update(b)
    out.append({'name': i.filename, 'size': i.file_size, 'method': i.compress_type, 'dir': i.is_dir(), 'utf8': bool(i.flag_bits & 0x800), 'sha256': h.hexdigest()})
print(json.dumps({'bad': bad, 'entries': out}))
`;

describe('zip: a streaming stored ZIP', function () {
  this.timeout(120_000);

  it('holds nested files, a unicode name, an empty file and an empty folder: names, sizes and SHA-256s read back', async () => {
    const dir = tempDir('zip');
    const src = path.join(dir, 'src');
    const files: { path: string; bytes: Buffer }[] = [
      { path: 'readme.txt', bytes: Buffer.from('hello\n') },
      { path: 'docs/report 2024.pdf', bytes: randomBytes(5 * MiB + 17) },
      { path: 'docs/deep/er/山田 résumé 🎉.bin', bytes: randomBytes(3 * MiB) },
      { path: 'empty.dat', bytes: Buffer.alloc(0) },
    ];
    const entries: ZipEntry[] = [];
    for (const [i, f] of files.entries()) {
      // Disk-backed Blobs, as the browser's OPFS Files are.
      const onDisk = path.join(src, String(i));
      mkdirSync(src, { recursive: true });
      writeFileSync(onDisk, f.bytes);
      entries.push({ path: f.path, blob: await openAsBlob(onDisk) });
    }
    entries.push({ path: 'docs/nothing here yet', dir: true });
    const zip = path.join(dir, 'out.zip');
    const sink = fileSink(zip);
    let progress = 0;
    const size = await writeZip(entries, sink, { progress: (n) => { progress = n; } });
    sink.close();
    expect(size).to.equal(statSync(zip).size);
    expect(progress).to.equal(size);
    // Stored: the archive is the files plus headers.
    expect(size - files.reduce((n, f) => n + f.bytes.length, 0)).to.be.below(2000);

    const read = python(LIST, zip) as { bad: string | null; entries: { name: string; size: number; method: number; dir: boolean; utf8: boolean; sha256: string }[] };
    expect(read.bad).to.equal(null);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(read.entries).to.deep.equal([
      ...files.map((f) => ({ name: f.path, size: f.bytes.length, method: 0, dir: false, utf8: true, sha256: sha(f.bytes) })),
      { name: 'docs/nothing here yet/', size: 0, method: 0, dir: true, utf8: true, sha256: sha(Buffer.alloc(0)) },
    ]);

    // Info-ZIP's unzip agrees, and extracts the tree with the empty folder.
    expect(execFileSync('unzip', ['-tq', zip], { encoding: 'utf8' })).to.match(/No errors detected/);
    const outDir = path.join(dir, 'x');
    execFileSync('unzip', ['-q', zip, '-d', outDir]);
    for (const f of files) expect(sha(readFileSync(path.join(outDir, f.path))), f.path).to.equal(sha(f.bytes));
    expect(statSync(path.join(outDir, 'docs/nothing here yet')).isDirectory()).to.equal(true);
  });

  it('refuses paths that would leave the folder or repeat', async () => {
    const blob = new Blob(['x']);
    const sink = { write() {} };
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a//b', 'a\\b', '', './a']) {
      const err = await writeZip([{ path: bad, blob }], sink).then(() => null, (e: Error) => e);
      expect(err?.message, bad).to.match(/Cannot put/);
    }
    const err = await writeZip([{ path: 'a', blob }, { path: 'a', blob }], sink).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/twice/);
  });

  it('uses ZIP64 for a file past 4 GiB (read in slices, never whole)', async () => {
    const dir = tempDir('zip64');
    const big = 4 * 1024 * MiB + 3 * MiB + 5;
    // Zeros with a marker at the end, made slice by slice (Node's openAsBlob gets sizes past 4 GiB wrong);
    // a slice of more than 8 MiB is refused, so the writer must read in slices.
    const tail = Buffer.from('end!');
    const bigBlob = {
      size: big,
      slice(from: number, to: number) {
        if (to - from > 8 * MiB) throw new Error(`asked for ${to - from} bytes at once`);
        return {
          async arrayBuffer() {
            const b = new Uint8Array(to - from);
            for (let i = Math.max(from, big - 4); i < to; i++) b[i - from] = tail[i - (big - 4)]!;
            return b.buffer;
          },
        };
      },
    } as unknown as Blob;
    const small = randomBytes(1000);
    writeFileSync(path.join(dir, 'small'), small);
    const zip = path.join(dir, 'big.zip');
    const sink = fileSink(zip);
    const rss = process.memoryUsage().rss;
    await writeZip([{ path: 'video.mkv', blob: bigBlob }, { path: 'after/small.txt', blob: await openAsBlob(path.join(dir, 'small')) }], sink);
    sink.close();
    expect(process.memoryUsage().rss - rss, 'memory grew by less than 256 MiB').to.be.below(256 * MiB);
    // testzip checks every entry's CRC-32.
    const read = python('import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({"bad": z.testzip(), "entries": [[i.filename, i.file_size] for i in z.infolist()]}))', zip);
    expect(read).to.deep.equal({ bad: null, entries: [['video.mkv', big], ['after/small.txt', 1000]] });
    expect(execFileSync('unzip', ['-p', zip, 'after/small.txt'])).to.deep.equal(small);
  });
});
