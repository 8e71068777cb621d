// QR codes made on the server: an SVG for pages (named for screen readers) and blocks for the terminal.
import QRCode from 'qrcode';

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * qrSvg — `text` as an inline SVG: role="img" with the accessible name "QR code for <text>",
 * sized by CSS (class "qr"), dark on light whatever the page's theme (scanners need that), with
 * a quiet zone. It has no style attribute (CSP: style-src 'self'), only presentation attributes.
 */
export async function qrSvg(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } });
  if (/\sstyle=/i.test(svg)) throw new Error('qrcode made an SVG with a style attribute');
  return svg.trim().replace(/^<svg /, `<svg class="qr" role="img" aria-label="${escapeAttribute(`QR code for ${text}`)}" focusable="false" `);
}

/** qrTerminal — `text` as a QR code in half-block characters, for `npm start`'s banner. */
export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}
