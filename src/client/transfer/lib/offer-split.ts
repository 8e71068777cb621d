// Offer helpers: names as offered, and splitting many files into offers that fit the server's app-data cap.
import { displayFileName } from './filename.js';
import { LIMITS } from './messages.js';

// The server caps app data at 32 KiB of JSON; offers are split to stay under it.
const OFFER_JSON_BUDGET = 28_000;

/** push — appends `v` to the list under `k`. */
export function push(m: Map<string, string[]>, k: string, v: string): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

/** offerName — the name as offered: invisible characters out, at most 255 UTF-16 units (whole characters). */
export function offerName(name: string): string {
  let s = displayFileName(name);
  while (s.length > LIMITS.name) s = Array.from(s).slice(0, -1).join('');
  return s;
}

/** splitOffer — groups files into offers whose JSON stays under the server's app-data cap. */
export function splitOffer(files: File[]): File[][] {
  const groups: File[][] = [];
  let cur: File[] = [];
  let size = 100;
  for (const f of files) {
    const cost = JSON.stringify(offerName(f.name)).length + 120;
    if (cur.length && (size + cost > OFFER_JSON_BUDGET || cur.length >= LIMITS.filesPerOffer)) {
      groups.push(cur);
      cur = [];
      size = 100;
    }
    cur.push(f);
    size += cost;
  }
  if (cur.length) groups.push(cur);
  return groups;
}

