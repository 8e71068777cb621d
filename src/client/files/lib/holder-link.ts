// The downloader's side of one shared-files channel: asks one holder for the manifest and for chunks, reassembles them.
import { DataChannelSession } from '../../transfer/lib/channel-session.js';
import { chunkBytes } from './manifest.js';
import { PART, parseWire, type Wire } from './wire.js';

/** HolderLinkEvents — what a link reports to its swarm. */
export interface HolderLinkEvents {
  open(): void;
  manifest(bytes: Uint8Array): void;
  chunk(index: number, parts: ArrayBuffer[]): void;
  /** closed — the channel is gone (closed, silent, or the holder broke the protocol). */
  closed(): void;
}

interface Assembly {
  index: number;
  parts: ArrayBuffer[];
  length: number;
  got: number;
}

/**
 * HolderLink — never trusts the holder's framing: a chunk must be one it was asked for, its
 * bytes must add up to that chunk's length, and a manifest to the length it announced (at
 * most what the file's size implies); anything else closes the channel (and is reported as closed).
 */
export class HolderLink extends DataChannelSession<Wire> {
  /** Chunk indices asked for and not yet arrived, in order. */
  readonly inflight: number[] = [];
  open = false;
  askedManifest = false;
  /** When bytes last arrived (or the channel opened): a link with chunks in flight and nothing since is stalled. */
  lastProgress = Date.now();
  private manifestDone = false;
  private cur: Assembly | null = null;
  private manifestWant: { n: number; parts: Uint8Array; got: number } | null = null;

  constructor(readonly peerId: string, dc: RTCDataChannel, private readonly size: number, private readonly count: number, private readonly on: HolderLinkEvents) {
    super(dc, () => on.closed());
    const opened = () => {
      if (this.closed) return;
      this.open = true;
      this.lastProgress = Date.now();
      on.open();
    };
    if (dc.readyState === 'open') queueMicrotask(opened);
    else dc.addEventListener('open', opened, { once: true });
  }

  askManifest(): void {
    this.askedManifest = true;
    this.sendText({ t: 'manifest' });
  }

  get(indices: number[]): void {
    this.inflight.push(...indices);
    this.sendText({ t: 'get', i: indices });
  }

  protected stopped(): void {
    this.open = false;
  }

  protected onMessage(data: unknown): void {
    if (data instanceof ArrayBuffer) return this.onBytes(data);
    const m = typeof data === 'string' ? parseWire(data) : null;
    if (!m || this.cur || this.manifestWant) return this.protocolError();
    switch (m.t) {
      case 'manifest': {
        if (!this.askedManifest || this.manifestDone || m.n !== this.count) return this.protocolError();
        this.manifestDone = true;
        this.manifestWant = { n: m.n, parts: new Uint8Array(m.n * 32), got: 0 };
        if (m.n === 0) this.finishManifest();
        return;
      }
      case 'c': {
        // Chunks come back in the order they were asked for.
        if (this.inflight[0] !== m.i) return this.protocolError();
        this.cur = { index: m.i, parts: [], length: chunkBytes(m.i, this.size), got: 0 };
        return;
      }
      case 'ping': return;
      default: return this.protocolError();
    }
  }

  private onBytes(data: ArrayBuffer): void {
    const mw = this.manifestWant;
    if (mw) {
      if (data.byteLength === 0 || data.byteLength > PART || mw.got + data.byteLength > mw.parts.length) return this.protocolError();
      mw.parts.set(new Uint8Array(data), mw.got);
      mw.got += data.byteLength;
      if (mw.got === mw.parts.length) this.finishManifest();
      return;
    }
    const c = this.cur;
    if (!c || data.byteLength === 0 || data.byteLength > PART || c.got + data.byteLength > c.length) return this.protocolError();
    c.parts.push(data);
    c.got += data.byteLength;
    this.lastProgress = Date.now();
    if (c.got < c.length) return;
    this.cur = null;
    this.inflight.shift();
    this.on.chunk(c.index, c.parts);
  }

  private finishManifest(): void {
    const bytes = this.manifestWant!.parts;
    this.manifestWant = null;
    this.on.manifest(bytes);
  }
}
