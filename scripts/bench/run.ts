// npm run bench: runs every benchmark in scripts/bench/ (or those named: npm run bench -- signaling).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
for (const name of benches) {
  console.log(`\n=== ${name} ===`);
  const mod = (await import(path.join(dir, `${name}.ts`))) as { main?: () => Promise<void> };
  if (!mod.main) throw new Error(`scripts/bench/${name}.ts must export main()`);
  await mod.main();
}
process.exit(0);
