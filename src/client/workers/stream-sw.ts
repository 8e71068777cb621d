// Stream service worker: answers a video element's Range requests for /files/stream/<sha256> with
// bytes the controlling page fetches from the file's holders, so a shared video plays (and seeks)
// without being downloaded first. Every other request passes through untouched.
import { STREAM_PIECE, STREAM_RESPONSE_CAP, type StreamPageReply, type StreamWorkerAsk, parseRange, streamPath, streamType } from '../files/lib/stream-bridge.js';

// Not in TypeScript's DOM library (this file runs in a ServiceWorkerGlobalScope).
interface FetchEvent extends Event {
  readonly request: Request;
  readonly clientId: string;
  respondWith(r: Promise<Response> | Response): void;
}
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwClient {
  postMessage(m: unknown, transfer: Transferable[]): void;
}
interface SwScope {
  location: { origin: string };
  clients: { get(id: string): Promise<SwClient | undefined>; claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', fn: (e: ExtendableEvent & { data: unknown }) => void): void;
}
const sw = self as unknown as SwScope;

/** How long the page may take to say whether it plays a file (it answers at once, unless it is gone or stuck). */
const OPEN_TIMEOUT_MS = 10_000;
/** How long the page may take to answer one piece (a holder may be slow, or gone: the engine tries others). */
const PIECE_TIMEOUT_MS = 60_000;

// A new version takes over at once: the worker holds no state worth waiting for.
sw.addEventListener('install', (e) => e.waitUntil(sw.skipWaiting()));
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));
// A page loaded past the worker (a hard reload) asks to be taken over rather than reloaded.
sw.addEventListener('message', (e) => {
  const ask = (e.data as { hearthStream?: StreamWorkerAsk } | null)?.hearthStream;
  if (ask?.op === 'claim') e.waitUntil(sw.clients.claim());
});

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || req.mode === 'navigate') return;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin) return;
  const sha256 = streamPath(url.pathname);
  if (!sha256) return;
  e.respondWith(answer(e.clientId, sha256, streamType(url.searchParams.get('type')), req.headers.get('range')));
});

/** answer — the response to one request: 206 for a (capped) range, 200 without Range, 404 when the page does not play it. */
async function answer(clientId: string, sha256: string, type: string, rangeHeader: string | null): Promise<Response> {
  const client = clientId ? await sw.clients.get(clientId) : undefined;
  if (!client) return plain(404, 'No page plays this stream.');
  const port = await openPort(client, sha256);
  if (!port) return plain(404, 'This stream is not playing.');
  const { channel, size } = port;
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    const bye: StreamWorkerAsk = { op: 'close' };
    channel.postMessage(bye);
    channel.close();
    return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' } });
  }
  // A large or open-ended request gets a bounded answer; the element asks again from where it ends.
  const start = range?.start ?? 0;
  const end = range ? Math.min(range.end, start + STREAM_RESPONSE_CAP) : size;
  const headers: Record<string, string> = {
    'Content-Type': type,
    'Content-Length': String(end - start),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  return new Response(body(channel, start, end), { status: range ? 206 : 200, headers });
}

/** openPort — asks the page whether it plays `sha256`: a channel to it and the file's size, or null. */
function openPort(client: SwClient, sha256: string): Promise<{ channel: MessagePort; size: number } | null> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), OPEN_TIMEOUT_MS);
    const done = (v: { channel: MessagePort; size: number } | null) => {
      clearTimeout(timer);
      port1.onmessage = null;
      if (!v) port1.close();
      resolve(v);
    };
    port1.onmessage = (e: MessageEvent<StreamPageReply>) => {
      const r = e.data;
      done(r.op === 'opened' ? { channel: port1, size: r.size } : null);
    };
    const ask: StreamWorkerAsk = { op: 'open', sha256 };
    client.postMessage({ hearthStream: ask }, [port2]);
  });
}

/** body — bytes [start, end) pulled from the page one piece at a time, only as fast as the element reads. */
function body(channel: MessagePort, start: number, end: number): ReadableStream<Uint8Array> {
  let pos = start;
  let pending: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  channel.onmessage = (e: MessageEvent<StreamPageReply>) => {
    const p = pending;
    pending = null;
    if (!p) return;
    const r = e.data;
    if (r.op === 'bytes') p.resolve(new Uint8Array(r.bytes));
    else p.reject(new Error(r.op === 'error' ? r.error : 'unexpected reply'));
  };
  let open = true;
  const finish = () => {
    if (!open) return;
    open = false;
    const ask: StreamWorkerAsk = { op: 'close' };
    channel.postMessage(ask);
    channel.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (pos >= end) {
        finish();
        ctrl.close();
        return;
      }
      // Pieces end on the page's chunk boundaries, so no chunk is fetched twice for one answer.
      const to = Math.min(end, (Math.floor(pos / STREAM_PIECE) + 1) * STREAM_PIECE);
      try {
        const bytes = await new Promise<Uint8Array>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('The page did not answer in time.')), PIECE_TIMEOUT_MS);
          pending = {
            resolve: (b) => { clearTimeout(timer); resolve(b); },
            reject: (err) => { clearTimeout(timer); reject(err); },
          };
          const ask: StreamWorkerAsk = { op: 'read', start: pos, end: to };
          channel.postMessage(ask);
        });
        if (bytes.byteLength !== to - pos) throw new Error('The page answered the wrong number of bytes.');
        pos = to;
        ctrl.enqueue(bytes);
      } catch (err) {
        finish();
        ctrl.error(err);
      }
    },
    cancel() {
      // The element seeked away or the player closed: the page stops fetching for this answer.
      const p = pending;
      pending = null;
      finish();
      p?.reject(new Error('cancelled'));
    },
  }, { highWaterMark: 1 });
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });
}
