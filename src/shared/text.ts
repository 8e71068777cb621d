// One rule for unsafe text in names people see (display names, room names, file names), shared by server and browser.

// C0 and C1 controls, DEL, line/paragraph separators; bidirectional marks, embeddings, overrides
// and isolates (they can make "report‮fdp.exe" read as "reportexe.pdf"); and zero-width or
// invisible characters that make two different names look alike ("Ad\u200Bmin" vs "Admin"):
// soft hyphen, combining grapheme joiner, Hangul and Mongolian fillers, word joiner, invisible
// operators, zero-width no-break space, and the variation selector-less tag characters.
// eslint-disable-next-line no-control-regex
const ALWAYS_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\ufff0-\ufff8]|\udb40[\udc00-\udc7f]/g;

// Zero-width non-joiner and joiner are needed inside Persian, Indic and emoji sequences
// ("👩‍💻", "می‌خواهم"), so they are allowed only between two non-ASCII characters; next to ASCII
// (or at either end) they only serve to disguise a Latin name.
const JOINER_MISUSE = /(^|[\u0000-\u007f])[\u200c\u200d]+|[\u200c\u200d]+(?=[\u0000-\u007f]|$)/g;

/** hasUnsafeText — true when `s` holds a character the unsafe-text rule forbids. */
export function hasUnsafeText(s: string): boolean {
  ALWAYS_UNSAFE.lastIndex = 0;
  JOINER_MISUSE.lastIndex = 0;
  return ALWAYS_UNSAFE.test(s) || JOINER_MISUSE.test(s);
}

/** stripUnsafeText — `s` with every forbidden character removed (for text we must keep, like a peer's file name). */
function stripUnsafeText(s: string): string {
  return s.replace(ALWAYS_UNSAFE, '').replace(JOINER_MISUSE, '$1');
}

/** cleanName — NFC, unsafe characters removed, runs of white space made one space, trimmed. */
export function cleanName(s: string): string {
  return stripUnsafeText(s.normalize('NFC')).replace(/\s+/g, ' ').trim();
}
