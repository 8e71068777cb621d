// Builds Hearth: browser islands (content-hashed), the icon sprite, the server bundle and a manifest.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'public', 'build');
const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 10);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const islandDir = path.join(root, 'src', 'client', 'islands');
const entryPoints = readdirSync(islandDir).filter((f) => f.endsWith('.ts')).map((f) => path.join(islandDir, f));
const client = await esbuild.build({
  entryPoints,
  outdir: out,
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: 'linked',
  target: ['chrome110', 'firefox115', 'safari16'],
  entryNames: '[name]-[hash]',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const islands = {};
const sizes = [];
for (const [file, meta] of Object.entries(client.metafile.outputs)) {
  if (file.endsWith('.map')) continue;
  sizes.push([path.relative(out, path.join(root, file)), meta.bytes]);
  if (!meta.entryPoint) continue;
  islands[path.basename(meta.entryPoint, '.ts')] = '/' + path.relative(path.join(root, 'public'), path.join(root, file)).split(path.sep).join('/');
}

// Workers are separate entry points (a worker cannot share the page's chunks).
const workerDir = path.join(root, 'src', 'client', 'workers');
const workers = {};
if (existsSync(workerDir)) {
  const built = await esbuild.build({
    entryPoints: readdirSync(workerDir).filter((f) => f.endsWith('.ts')).map((f) => path.join(workerDir, f)),
    outdir: path.join(out, 'workers'),
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    target: ['chrome110', 'firefox115', 'safari16'],
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  for (const [file, meta] of Object.entries(built.metafile.outputs)) {
    if (file.endsWith('.map')) continue;
    sizes.push([path.relative(out, path.join(root, file)), meta.bytes]);
    if (meta.entryPoint) workers[path.basename(meta.entryPoint, '.ts')] = '/' + path.relative(path.join(root, 'public'), path.join(root, file)).split(path.sep).join('/');
  }
}

const { buildIconSprite } = await import('./build-icons.mjs');
const sprite = buildIconSprite();
const iconsName = `icons-${hash(sprite)}.svg`;
writeFileSync(path.join(out, iconsName), sprite);

const css = readFileSync(path.join(root, 'public', 'css', 'hearth.css'));
const manifest = { islands, workers, css: `/css/hearth.css?v=${hash(css)}`, icons: `/build/${iconsName}` };
writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

await esbuild.build({
  entryPoints: [path.join(root, 'src', 'server', 'main.ts')],
  outfile: path.join(root, 'dist', 'server', 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});

if (!process.argv.includes('--quiet')) {
  for (const [file, bytes] of sizes.sort()) console.log(`  ${file.padEnd(40)} ${(bytes / 1024).toFixed(1).padStart(7)} KiB`);
  console.log(`built ${Object.keys(islands).length} islands, icons, server bundle`);
}
if (!existsSync(path.join(root, 'dist', 'server', 'main.js'))) process.exit(1);
