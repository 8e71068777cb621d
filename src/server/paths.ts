// Where Hearth's files are, whether running from src/ (tsx) or from the dist/ bundle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Hearth's package.json not found above ${start}`);
    dir = up;
  }
  return dir;
}

export const ROOT_DIR = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const VIEWS_DIR = path.join(ROOT_DIR, 'views');
export const PUBLIC_DIR = path.join(ROOT_DIR, 'public');
export const BUILD_DIR = path.join(PUBLIC_DIR, 'build');
export const SCRIPTS_DIR = path.join(ROOT_DIR, 'scripts');
