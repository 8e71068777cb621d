// Raw WebSocket traffic for hostile tests: an upgrade written by hand over TLS, then any bytes at all (bad frames, fragments, floods).
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { HttpClient } from './http-client.js';

/** FrameOptions — everything a well-behaved client would never get wrong. */
export interface FrameOptions {
  fin?: boolean;
  /** RSV1–3 bits (0–7); anything but 0 is a protocol error without extensions. */
  rsv?: number;
  /** Client frames must be masked; false sends an unmasked one (a protocol error). */
  mask?: boolean;
  /** Claim this payload length in the header instead of the real one. */
  claimLength?: number;
}

/** frame — one WebSocket frame as a client would send it (masked unless told otherwise). */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), o: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = o.claimLength ?? data.length;
  const mask = o.mask ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(m | len);
  else if (len < 65_536) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, data]);
  const key = randomBytes(4);
  const masked = Buffer.from(data);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/** RawSocket — a hand-made WebSocket connection and what the server did with it. */
export interface RawSocket {
  socket: tls.TLSSocket;
  /** Resolves when the connection is gone: the HTTP status line, and the close code the server sent (if any). */
  ended: Promise<{ status: number; closeCode: number | null }>;
  /** Resolves with the HTTP status once the server has answered the upgrade request (0 if it never did). */
  answered: Promise<number>;
  write(bytes: Buffer): void;
}

/** cookieOf — the Cookie header of a signed-in test client. */
export const cookieOf = (http: HttpClient): string => [...http.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

/**
 * rawConnect — writes the upgrade request for `path` and `trailing` bytes in the same write
 * (frames that arrive "right behind" the upgrade), and records how the server answered.
 */
export function rawConnect(origin: string, ca: Buffer, opts: { path?: string; cookie?: string; origin?: string | null; trailing?: Buffer } = {}): RawSocket {
  const url = new URL(origin);
  const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, servername: 'localhost' });
  socket.on('error', () => socket.destroy());
  const headers = [
    `GET ${opts.path ?? '/ws'} HTTP/1.1`,
    `Host: ${url.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...(opts.origin === null ? [] : [`Origin: ${opts.origin ?? origin}`]),
    ...(opts.cookie ? [`Cookie: ${opts.cookie}`] : []),
  ];
  socket.write(Buffer.concat([Buffer.from(headers.join('\r\n') + '\r\n\r\n'), opts.trailing ?? Buffer.alloc(0)]));
  let buf = Buffer.alloc(0);
  let answer: (status: number) => void = () => {};
  const answered = new Promise<number>((resolve) => (answer = resolve));
  socket.on('data', (d: Buffer) => {
    // Only the start matters (status line, then the frames up to the close); do not keep a flood.
    if (buf.length < 1 << 20) buf = Buffer.concat([buf, d]);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(buf.toString('latin1', 0, 16));
    if (status) answer(Number(status[1]));
  });
  const ended = new Promise<{ status: number; closeCode: number | null }>((resolve) => {
    socket.once('close', () => {
      answer(0);
      resolve(parseReply(buf));
    });
  });
  return { socket, ended, answered, write: (bytes) => socket.writable && socket.write(bytes) };
}

/** parseReply — the HTTP status of the upgrade reply and the code of the first close frame after it. */
function parseReply(buf: Buffer): { status: number; closeCode: number | null } {
  const text = buf.toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const end = text.indexOf('\r\n\r\n');
  if (status !== 101 || end < 0) return { status, closeCode: null };
  let i = end + 4;
  while (i + 2 <= buf.length) {
    const opcode = buf[i]! & 0x0f;
    let len = buf[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = buf.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === 0x8) return { status, closeCode: len >= 2 && off + 2 <= buf.length ? buf.readUInt16BE(off) : 1005 };
    i = off + len;
  }
  return { status, closeCode: null };
}
