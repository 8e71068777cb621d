// The page's side of the stream service worker: registers it, and answers its requests for bytes of
// the files the player has open with the engine's readRange (from holders, chunk-verified). Also the
// message shapes and Range parsing both sides share.

/** STREAM_SW_URL — where the server serves the stream service worker (a fixed URL, so updates replace it). */
const STREAM_SW_URL = '/files/sw.js';
/**
 * STREAM_PIECE — the worker asks for at most this much at a time, on these boundaries: the shared
 * files' chunk (SHARE_CHUNK, a unit test keeps them equal; not imported, so the worker's bundle
 * stays free of the validation schemas beside it).
 */
export const STREAM_PIECE = 1024 * 1024;
/** STREAM_RESPONSE_CAP — the most one answer carries: an open-ended `bytes=N-` gets this much, then the element asks again. */
export const STREAM_RESPONSE_CAP = 4 * STREAM_PIECE;
/** How many pieces the page keeps while a stream is open (an element often asks again for what it just read; the engine keeps more). */
const CACHE_PIECES = 2;

/** What the worker asks the page: `open` comes with a MessagePort; `read` and `close` go over it. */
export type StreamWorkerAsk = { op: 'open'; sha256: string } | { op: 'read'; start: number; end: number } | { op: 'close' } | { op: 'claim' };
/** What the page answers over the port. */
export type StreamPageReply = { op: 'opened'; size: number } | { op: 'refused' } | { op: 'bytes'; bytes: ArrayBuffer } | { op: 'error'; error: string };

const STREAM_RE = /^\/files\/stream\/([0-9a-f]{64})$/;
const MEDIA_TYPE_RE = /^(video|audio)\/[a-z0-9.+-]{1,90}$/i;

/** streamUrl — the URL a <video> plays a shared file from. */
function streamUrl(sha256: string, type: string): string {
  return `/files/stream/${sha256}?type=${encodeURIComponent(type)}`;
}

/** streamPath — the sha256 a /files/stream/<sha256> path names, or null for any other path. */
export function streamPath(pathname: string): string | null {
  return STREAM_RE.exec(pathname)?.[1] ?? null;
}

/** streamType — the Content-Type to answer with: a video or audio type from the URL, else bytes. */
export function streamType(type: string | null): string {
  return type && MEDIA_TYPE_RE.test(type) ? type.toLowerCase() : 'application/octet-stream';
}

/**
 * parseRange — the first range of a `Range: bytes=…` header as [start, end) within `size`; null when
 * there is none to honour (no header, another unit, malformed: the whole file is answered);
 * 'unsatisfiable' when it starts past the end.
 */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  const m = header ? /^bytes=\s*(\d*)\s*-\s*(\d*)\s*(?:,.*)?$/i.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) return null;
  if (start >= size) return 'unsatisfiable';
  if (last < start) return null;
  return { start, end: Math.min(size, last + 1) };
}

/** RangeSource — what the bridge reads bytes with (the FilesEngine). */
interface RangeSource {
  readRange(sha256: string, start: number, end: number): Promise<Uint8Array>;
  /** stopStream — nothing plays the file any more: let go of its holders. */
  stopStream(sha256: string): void;
}

/** OpenStream — a file the player has open; only these are answered. */
interface OpenStream {
  sha256: string;
  size: number;
  cache: Map<number, Promise<Uint8Array>>;
  ports: Set<MessagePort>;
  /** Open handles (the player and the call may play one file at once). */
  users: number;
}

/** StreamHandle — an open stream: its URL for the element, and close (stops fetching, forgets the bytes). */
export interface StreamHandle {
  url: string;
  close(): void;
}

/**
 * StreamBridge — one per page. `ready` registers the worker for `scope` (which must cover the
 * page) and resolves once it controls the page; `open` makes a file playable until its handle closes.
 */
export class StreamBridge {
  private readonly streams = new Map<string, OpenStream>();
  private readonly onMessage = (e: MessageEvent) => this.message(e);
  private readiness: Promise<void> | null = null;

  constructor(private readonly source: RangeSource, private readonly scope: string) {}

  /** supported — this browser can register a service worker here (a secure context with the API). */
  static get supported(): boolean {
    return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && globalThis.isSecureContext === true;
  }

  /** ready — the worker is registered and controls this page (rejects when it cannot). */
  ready(): Promise<void> {
    this.readiness ??= this.register();
    return this.readiness;
  }

  private async register(): Promise<void> {
    const container = navigator.serviceWorker;
    container.addEventListener('message', this.onMessage);
    container.startMessages();
    const registration = await container.register(STREAM_SW_URL, { scope: this.scope, updateViaCache: 'none' });
    if (container.controller) return;
    // A new worker claims open pages when it activates; an active one (this page was loaded past
    // it, e.g. by a hard reload) is asked to.
    const claim: StreamWorkerAsk = { op: 'claim' };
    registration.active?.postMessage({ hearthStream: claim });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        container.removeEventListener('controllerchange', changed);
        reject(new Error('The player could not start here. Reload the page and try again.'));
      }, 10_000);
      const changed = () => {
        if (!container.controller) return;
        clearTimeout(timer);
        container.removeEventListener('controllerchange', changed);
        resolve();
      };
      container.addEventListener('controllerchange', changed);
    });
  }

  /** open — lets the worker answer for `sha256` (of `size` bytes) until the handle closes. */
  open(file: { sha256: string; size: number; type: string }): StreamHandle {
    let stream = this.streams.get(file.sha256);
    if (!stream) this.streams.set(file.sha256, (stream = { sha256: file.sha256, size: file.size, cache: new Map(), ports: new Set(), users: 0 }));
    stream.users++;
    let closed = false;
    return {
      url: streamUrl(file.sha256, file.type),
      close: () => {
        if (closed) return;
        closed = true;
        if (--stream.users > 0 || this.streams.get(file.sha256) !== stream) return;
        this.streams.delete(file.sha256);
        this.source.stopStream(file.sha256);
        for (const port of stream.ports) {
          const reply: StreamPageReply = { op: 'error', error: 'The player closed.' };
          port.postMessage(reply);
          port.close();
        }
        stream.ports.clear();
        stream.cache.clear();
      },
    };
  }

  /** dispose — stops answering the worker (open streams are closed by their handles). */
  dispose(): void {
    if (!StreamBridge.supported) return;
    navigator.serviceWorker.removeEventListener('message', this.onMessage);
  }

  private message(e: MessageEvent): void {
    const ask = (e.data as { hearthStream?: StreamWorkerAsk } | null)?.hearthStream;
    const port = e.ports[0];
    if (!ask || !port || ask.op !== 'open') return;
    const stream = this.streams.get(ask.sha256);
    if (!stream) {
      const reply: StreamPageReply = { op: 'refused' };
      port.postMessage(reply);
      port.close();
      return;
    }
    stream.ports.add(port);
    port.onmessage = (m: MessageEvent<StreamWorkerAsk>) => {
      const r = m.data;
      if (r.op === 'close') {
        stream.ports.delete(port);
        port.close();
      } else if (r.op === 'read') {
        this.read(stream, r.start, r.end).then(
          (bytes) => {
            if (!stream.ports.has(port)) return;
            const reply: StreamPageReply = { op: 'bytes', bytes };
            port.postMessage(reply, [bytes]);
          },
          (err: Error) => {
            if (!stream.ports.has(port)) return;
            const reply: StreamPageReply = { op: 'error', error: err.message };
            port.postMessage(reply);
          },
        );
      }
    };
    const reply: StreamPageReply = { op: 'opened', size: stream.size };
    port.postMessage(reply);
  }

  /** read — bytes [start, end) (within one piece) as a fresh buffer, through the piece cache. */
  private async read(stream: OpenStream, start: number, end: number): Promise<ArrayBuffer> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end > start && end <= stream.size)) throw new Error('bad range');
    const index = Math.floor(start / STREAM_PIECE);
    if (end > (index + 1) * STREAM_PIECE) throw new Error('bad range');
    let piece = stream.cache.get(index);
    if (!piece) {
      const from = index * STREAM_PIECE;
      piece = this.source.readRange(stream.sha256, from, Math.min(stream.size, from + STREAM_PIECE));
      stream.cache.set(index, piece);
      piece.catch(() => stream.cache.delete(index));
      while (stream.cache.size > CACHE_PIECES) stream.cache.delete(stream.cache.keys().next().value!);
    } else {
      // Most recently used last.
      stream.cache.delete(index);
      stream.cache.set(index, piece);
    }
    const bytes = await piece;
    const off = start - index * STREAM_PIECE;
    return bytes.slice(off, off + (end - start)).buffer;
  }
}
