// Builds Hearth's SVG icon sprite from lucide-static: one <symbol> per icon, referenced in views as
// <svg class="icon"><use href="{iconsUrl}#name"></svg> (see views/partials/mixins.pug, mixin icon).
// Everything is read from local files, so the sprite is served from our own origin (CSP: 'self').
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every icon the product uses. Each name is a file in lucide-static/icons (all exist in 1.62.0). */
export const ICON_NAMES = Object.freeze([
  'flame',
  'log-out',
  'mic',
  'mic-off',
  'video',
  'video-off',
  'monitor-up',
  'monitor-x',
  'phone',
  'phone-off',
  'phone-incoming',
  'phone-missed',
  'message-square',
  'send',
  'users',
  'user',
  'lock',
  'trash-2',
  'plus',
  'x',
  'check',
  'upload',
  'download',
  'file',
  'paperclip',
  'bell',
  'bell-off',
  'settings',
  'film',
  'circle-alert',
  'shield-check',
  'door-open',
  'log-in',
  'copy',
  'link',
  'chevron-down',
  'shield',
  'user-x',
  'user-cog',
  'activity',
  'ban',
  'key-round',
  'lock-open',
  'monitor-smartphone',
  'qr-code',
  'folder',
  'folder-up',
  'folder-down',
  'play',
  'pause',
  'save',
  'share-2',
]);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_ICONS_DIR = path.resolve(HERE, '..', 'node_modules', 'lucide-static', 'icons');
const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The inner markup of one lucide SVG file: comments and the outer <svg …> … </svg> removed. */
function innerSvg(source, name) {
  const text = source.replace(/<!--[\s\S]*?-->/g, '');
  const open = text.match(/<svg\b[^>]*>/);
  const close = text.lastIndexOf('</svg>');
  if (!open || open.index === undefined || close < 0) {
    throw new Error(`lucide icon "${name}" is not an <svg> document`);
  }
  return text
    .slice(open.index + open[0].length, close)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('');
}

/**
 * Returns the sprite as a string.
 * @param {{ names?: readonly string[], iconsDir?: string }} [options]
 */
export function buildIconSprite(options = {}) {
  const names = options.names ?? ICON_NAMES;
  const iconsDir = options.iconsDir ?? DEFAULT_ICONS_DIR;
  const symbols = names.map((name) => {
    if (!NAME_RE.test(name)) throw new Error(`bad icon name: ${JSON.stringify(name)}`);
    const file = path.join(iconsDir, `${name}.svg`);
    let source;
    try {
      source = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`lucide icon "${name}" not found at ${file}`, { cause: err });
    }
    return (
      `<symbol id="${name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"` +
      ` stroke-linecap="round" stroke-linejoin="round">${innerSvg(source, name)}</symbol>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg">${symbols.join('')}</svg>\n`;
}

// `node scripts/build-icons.mjs [out.svg]` writes the sprite to a file (or stdout).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  const sprite = buildIconSprite();
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, sprite);
  } else {
    process.stdout.write(sprite);
  }
}
