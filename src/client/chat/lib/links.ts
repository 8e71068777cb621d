// Links in chat text: which parts of a message are http(s) URLs. Text only, no DOM: the chat
// panel builds the elements, so a message can never become markup.

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Piece — a run of plain text, or a link shown as `text` that opens `href`. */
export interface Piece {
  text: string;
  href?: string;
}

/**
 * trimUrl — sentence punctuation after a link is not part of it ("see https://x.org/a."), but a
 * closing paren that balances one inside the URL is (Wikipedia-style "Foo_(bar)").
 */
function trimUrl(raw: string): string {
  const count = (s: string, ch: string) => s.split(ch).length - 1;
  while (raw.length > 0) {
    const c = raw[raw.length - 1]!;
    if (c === ')' && count(raw, ')') <= count(raw, '(')) break;
    if (!'.,;:!?\'")]}'.includes(c)) break;
    raw = raw.slice(0, -1);
  }
  return raw;
}

/** splitLinks — `text` as pieces in order; only http(s) URLs become links. */
export function splitLinks(text: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const raw = trimUrl(m[0]);
    let href: string | null = null;
    try {
      const u = new URL(raw);
      if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    const start = m.index ?? 0;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
