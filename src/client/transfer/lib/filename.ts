// File names from a peer are untrusted: make them safe to show and to save under (no paths, no spoofing).
import { cleanName } from '../../../shared/text.js';

// Path separators and characters Windows forbids in names.
const UNSAFE = /[/\\:*?"<>|]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const MAX_BYTES = 200;

/**
 * displayFileName — the name as shown in the page, by the one unsafe-text rule display and room
 * names follow (src/shared/text.ts): no controls, bidi overrides ("report\u202Efdp.exe") or
 * invisible characters, and runs of white space made one (they could push ".exe" out of view).
 */
export function displayFileName(raw: string): string {
  return cleanName(raw) || 'file';
}

/**
 * safeFileName — a name to save under: one path segment, no leading dots (no "..", no hidden
 * files), no characters that are separators or illegal on common systems, no reserved device
 * names, at most 200 UTF-8 bytes with the extension kept. "../x" → "_x", "a/b" → "a_b";
 * letters of any script are kept.
 */
export function safeFileName(raw: string): string {
  let s = displayFileName(raw).replace(UNSAFE, '_');
  const dotted = /^\s*\./.test(s);
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (dotted && s && !s.startsWith('_')) s = `_${s}`;
  if (RESERVED.test(s)) s = `_${s}`;
  if (!s) s = 'file';
  return truncateBytes(s, MAX_BYTES);
}

/** truncateBytes — shortens to `max` UTF-8 bytes without splitting a character, keeping a short extension. */
function truncateBytes(s: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= max) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : '';
  let base = Array.from(ext ? s.slice(0, dot) : s);
  while (base.length && enc.encode(base.join('') + ext).length > max) base = base.slice(0, -1);
  return base.join('') + ext;
}
