// Maps island names to the content-hashed bundles esbuild wrote (public/build/manifest.json).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_DIR } from './paths.js';

/** Assets — URLs of the built browser files. */
export interface Assets {
  islands: Record<string, string>;
  /** Worker bundles by name (src/client/workers/<name>.ts). */
  workers?: Record<string, string>;
  /** The stylesheet: public/css/hearth.css with the parts it imports, bundled and content-hashed. */
  css: string;
  icons: string;
}

/** AssetsMissingError — the browser bundles were not built. */
export class AssetsMissingError extends Error {
  override name = 'AssetsMissingError';
}

/** loadAssets — reads the manifest written by `npm run build`. */
export function loadAssets(dir = BUILD_DIR): Assets {
  const file = path.join(dir, 'manifest.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Assets;
  } catch {
    throw new AssetsMissingError(`The browser bundles are missing (${file}). Run: npm run build`);
  }
}
