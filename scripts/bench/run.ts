// npm run bench: runs every benchmark in scripts/bench/, or those named, with their own options:
// npm run bench -- signaling lobby     npm run bench -- transfer --sizes 256
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
// Names come first; everything from the first option on belongs to the benchmarks.
const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? argv : argv.slice(0, firstOption);
const options = firstOption < 0 ? [] : argv.slice(firstOption);
const all = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, '')).sort();
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`No benchmark named ${unknown.join(', ')}. There are: ${all.join(', ')}.`);
  process.exit(2);
}
for (const name of all.filter((n) => wanted.length === 0 || wanted.includes(n))) {
  console.log(`\n=== ${name} ===`);
  const mod = (await import(path.join(dir, `${name}.ts`))) as { main?: (argv: string[]) => Promise<void> };
  if (!mod.main) throw new Error(`scripts/bench/${name}.ts must export main(argv)`);
  await mod.main(options);
}
process.exit(0);
