// Reads QR codes back for tests: qrcode's SVG, a terminal's half-block QR code, or a PNG screenshot, decoded by jsQR.
import jsQRModule, { type QRCode } from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS with an ES-style default: Node hands over module.exports (the function itself, also at .default).
const jsQR = (jsQRModule as unknown as { default: (data: Uint8ClampedArray, width: number, height: number) => QRCode | null }).default;

const SCALE = 8;

/** decodeModules — jsQR on a grid of modules (true: dark), drawn SCALE px each with a light quiet zone. */
function decodeModules(rows: boolean[][]): string | null {
  const quiet = 4;
  const n = Math.max(rows.length, ...rows.map((r) => r.length)) + quiet * 2;
  const size = n * SCALE;
  const px = new Uint8ClampedArray(size * size * 4).fill(255);
  rows.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < SCALE; dy++) {
      for (let dx = 0; dx < SCALE; dx++) {
        const i = (((y + quiet) * SCALE + dy) * size + (x + quiet) * SCALE + dx) * 4;
        px[i] = px[i + 1] = px[i + 2] = 0;
      }
    }
  }));
  return jsQR(px, size, size)?.data ?? null;
}

/**
 * decodeQrSvg — rasterises the dark path of a qrcode SVG (strokes one module wide along rows:
 * M/m moves, h/H/v/V lines) and decodes it. Throws when the SVG is not of that shape.
 */
export function decodeQrSvg(svg: string): string | null {
  const view = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1];
  if (!view || !d) throw new Error('not a qrcode SVG');
  const n = Number(view[1]);
  const rows = Array.from({ length: n }, () => Array<boolean>(n).fill(false));
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of d.matchAll(/([MmHhVv])([^MmHhVv]*)/g)) {
    const a = args!.trim().split(/[\s,]+/).map(Number);
    if (cmd === 'M') [x, y] = [a[0]!, a[1]!];
    else if (cmd === 'm') [x, y] = [x + a[0]!, y + a[1]!];
    else if (cmd === 'h' || cmd === 'H') {
      const to = cmd === 'h' ? x + a[0]! : a[0]!;
      for (let c = Math.min(x, to); c < Math.max(x, to); c++) rows[Math.floor(y)]![c] = true;
      x = to;
    } else throw new Error(`unexpected path command ${cmd}`);
  }
  return decodeModules(rows);
}

/**
 * decodeQrTerminal — decodes qrcode's `small` terminal output: each character is two modules
 * stacked (█ both, ▀ top, ▄ bottom) drawn in the foreground colour (30 black: dark; 37 white:
 * light) over the background (47 white, or the terminal's own after a reset: light).
 */
export function decodeQrTerminal(text: string): string | null {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('\x1b[')) continue;
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    let fgDark = false;
    for (const [, codes, ch] of line.matchAll(/\x1b\[([\d;]*)m|([^\x1b])/g)) {
      if (codes !== undefined) {
        for (const c of codes.split(';')) {
          if (c === '30') fgDark = true;
          else if (c === '37' || c === '0' || c === '') fgDark = false;
        }
        continue;
      }
      const ink = { '█': [true, true], '▀': [true, false], '▄': [false, true], ' ': [false, false] }[ch!];
      if (!ink) throw new Error(`unexpected character ${JSON.stringify(ch)}`);
      top.push(ink[0]! && fgDark);
      bottom.push(ink[1]! && fgDark);
    }
    if (top.length) rows.push(top, bottom);
  }
  return decodeModules(rows);
}

/** decodeQrPng — decodes a QR code in a PNG (a browser's screenshot). */
export function decodeQrPng(png: Buffer): string | null {
  const img = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(img.data), img.width, img.height)?.data ?? null;
}
