// Builds Hearth: browser islands and the stylesheet (content-hashed), the icon sprite, the server bundle and a manifest.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const final = path.join(root, 'public', 'build');
// Built beside the live directory and moved in at the end, so a Hearth that is running
// (or a test run in progress) never sees a half-built or emptied public/build.
const out = path.join(root, 'public', `.build-${process.pid}`);
const hash = (buf) => createHash('sha256').update(buf).digest('hex').slice(0, 10);
/** url — the address a file in `out` will have once `out` is public/build. */
const url = (file) => '/build/' + path.relative(out, path.join(root, file)).split(path.sep).join('/');

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
  // Lazily imported modules have an entryPoint too; only the islands are pages' scripts.
  if (!meta.entryPoint || !entryPoints.includes(path.join(root, meta.entryPoint))) continue;
  islands[path.basename(meta.entryPoint, '.ts')] = url(file);
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
    if (meta.entryPoint) workers[path.basename(meta.entryPoint, '.ts')] = url(file);
  }
}

const { buildIconSprite } = await import('./build-icons.mjs');
const sprite = buildIconSprite();
const iconsName = `icons-${hash(sprite)}.svg`;
writeFileSync(path.join(out, iconsName), sprite);

// The stylesheet: public/css/hearth.css and the parts it imports, one file (no @import at run time).
const styles = await esbuild.build({
  entryPoints: [path.join(root, 'public', 'css', 'hearth.css')],
  outdir: out,
  bundle: true,
  minify: true,
  target: ['chrome110', 'firefox115', 'safari16'],
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
let css = null;
for (const [file, meta] of Object.entries(styles.metafile.outputs)) {
  sizes.push([path.relative(out, path.join(root, file)), meta.bytes]);
  css = url(file);
}

// `files` lets the next build tell this build's files from older ones (see publish).
const manifest = { islands, workers, css, icons: `/build/${iconsName}`, files: [...filesUnder(out), 'manifest.json'].sort() };
writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

publish(out, final);

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
  console.log(`built ${Object.keys(islands).length} islands, the stylesheet, icons, server bundle`);
}
if (!existsSync(path.join(root, 'dist', 'server', 'main.js'))) process.exit(1);

/** filesUnder — every file below `dir`, as paths relative to it. */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/**
 * publish — moves the new build into `to`, manifest last. The previous build's files stay (a
 * running server still serves pages that name them until it restarts); older ones go.
 */
function publish(from, to) {
  const prevManifest = path.join(to, 'manifest.json');
  const previous = new Set(existsSync(prevManifest) ? JSON.parse(readFileSync(prevManifest, 'utf8')).files ?? [] : []);
  const fresh = filesUnder(from);
  for (const file of fresh.filter((f) => f !== 'manifest.json')) {
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    renameSync(path.join(from, file), path.join(to, file));
  }
  renameSync(path.join(from, 'manifest.json'), prevManifest);
  rmSync(from, { recursive: true, force: true });
  const keep = new Set(fresh);
  for (const file of filesUnder(to)) if (!keep.has(file) && !previous.has(file)) rmSync(path.join(to, file));
}
