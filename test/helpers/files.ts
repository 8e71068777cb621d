// Test and benchmark files: random bytes of a given size written to disk, with their SHA-256.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

const MiB = 1024 * 1024;

/** randomFile — writes `size` random bytes to `dir/name`; returns its path and SHA-256. */
export async function randomFile(dir: string, name: string, size: number): Promise<{ file: string; sha256: string }> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let left = size; left > 0;) {
    const buf = randomBytes(Math.min(left, 16 * MiB));
    hash.update(buf);
    if (!out.write(buf)) await once(out, 'drain');
    left -= buf.length;
  }
  out.end();
  await once(out, 'close');
  return { file, sha256: hash.digest('hex') };
}
