// QR codes made on the server: an SVG for pages (named for screen readers) and blocks for the terminal.
import QRCode from 'qrcode';

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// Pages ask for the same few addresses again and again; the text may come from a visitor's Host
// header, so only a few are kept.
const CACHE_SIZE = 32;
const cache = new Map<string, string>();

/**
 * qrSvg — `text` as an inline SVG: role="img" with the accessible name "QR code for <text>",
 * sized by CSS (class "qr"), dark on light whatever the page's theme (scanners need that), with
 * a quiet zone. It has no style attribute (CSP: style-src 'self'), only presentation attributes.
 */
export async function qrSvg(text: string): Promise<string> {
  const kept = cache.get(text);
  if (kept !== undefined) return kept;
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } });
  if (/\sstyle=/i.test(svg)) throw new Error('qrcode made an SVG with a style attribute');
  const named = svg.trim().replace(/^<svg /, `<svg class="qr" role="img" aria-label="${escapeAttribute(`QR code for ${text}`)}" focusable="false" `);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(text, named);
  return named;
}

/** qrTerminal — `text` as a QR code in half-block characters, for `npm start`'s banner. */
export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}
