// One file fetched from every holder at once: holder links, the verified manifest, and who gets which chunk next.
import { toHex } from '../../transfer/lib/messages.js';
import type { ChannelTransport } from '../../transfer/lib/transport.js';
import { HolderLink } from './holder-link.js';
import { chunkCount, sha256Hex } from './manifest.js';
import { CHANNEL_PREFIX } from './wire.js';

/** Chunks asked of one holder at a time: enough to keep its channel busy, little to redo if it leaves. */
const WINDOW = 4;
const RETRY_MS = 2_000;
/** A link with chunks in flight that brought nothing for this long is stalled: idle holders fetch its chunks too. */
const STALL_MS = 1_000;
/** Chunks a player's requests keep in memory (re-asked ranges overlap). */
const CACHE = 12;

/** Background — the download that feeds a swarm its work and takes what arrives (a player needs none). */
export interface Background {
  /** next — the next chunk to fetch, or null (none left, or the disk is behind). */
  next(): number | null;
  /** deliver — store a chunk; false when its bytes do not match the manifest (the holder lied). */
  deliver(index: number, parts: ArrayBuffer[], peerId: string): Promise<boolean>;
}

interface Waiter {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

/**
 * Swarm — links to the holders of one file (by SHA-256). Work is pulled, not divided up front:
 * each holder is given a new chunk as soon as one of its WINDOW arrives, so a faster holder
 * serves more. A holder whose manifest does not hash to the announced value, or whose chunk
 * fails its hash, is dropped for this file for good; a holder that leaves has its chunks given
 * to the others.
 */
export class Swarm {
  private readonly candidates = new Map<string, string>();
  private readonly links = new Map<string, HolderLink>();
  private readonly banned = new Set<string>();
  private readonly retryAt = new Map<string, number>();
  private readonly retry: number[] = [];
  private readonly priority: number[] = [];
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly cache = new Map<number, Uint8Array>();
  private hashes: Uint8Array | null = null;
  private manifestWaiters: ((h: Uint8Array) => void)[] = [];
  private background: Background | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private tick: ReturnType<typeof setTimeout> | null = null;
  /** Chunks already asked of a second holder because the first stalled. */
  private readonly doubled = new Set<number>();
  private closed = false;
  /** Bytes received per user (several tabs of one person count as one). */
  readonly fromUser = new Map<string, number>();
  readonly count: number;

  constructor(readonly sha256: string, readonly size: number, private readonly manifestHash: string, private readonly transport: ChannelTransport, private readonly changed: () => void) {
    this.count = chunkCount(size);
  }

  /** holders — the tabs that hold this file now (peer id → user id); links follow. */
  setHolders(holders: Map<string, string>): void {
    this.candidates.clear();
    for (const [peer, user] of holders) if (!this.banned.has(peer)) this.candidates.set(peer, user);
    for (const [peer, link] of this.links) if (!this.candidates.has(peer)) link.die();
    this.pump();
  }

  /** waiting — nobody who holds this file is online (the download shows Paused). */
  get waiting(): boolean {
    return this.candidates.size === 0;
  }

  setBackground(bg: Background | null): void {
    this.background = bg;
    this.pump();
  }

  /** manifest — the verified chunk hashes (fetched from the first holder that answers truthfully). */
  manifest(): Promise<Uint8Array> {
    if (this.hashes) return Promise.resolve(this.hashes);
    return new Promise((resolve) => {
      this.manifestWaiters.push(resolve);
      this.pump();
    });
  }

  /** knownManifest — hashes stored earlier (after a reload), already checked against the announcement. */
  setManifest(hashes: Uint8Array): void {
    this.hashes = hashes;
    for (const w of this.manifestWaiters.splice(0)) w(hashes);
  }

  /** fetch — chunk `i`, verified, ahead of the background download (a player's request). */
  fetch(i: number): Promise<Uint8Array> {
    const hit = this.cache.get(i);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(i);
      if (list) list.push({ resolve, reject });
      else {
        this.waiters.set(i, [{ resolve, reject }]);
        if (![...this.links.values()].some((l) => l.inflight.includes(i))) this.priority.push(i);
      }
      this.pump();
    });
  }

  /** pump — gives every open link work up to its window, opens links to new holders. */
  pump(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const peer of this.candidates.keys()) {
      if (this.links.has(peer) || (this.retryAt.get(peer) ?? 0) > now) continue;
      this.connect(peer);
    }
    const open = [...this.links.values()].filter((l) => l.open);
    if (!this.hashes) {
      // One holder is asked for the manifest at a time; the rest wait.
      const pick = open.find((l) => !l.askedManifest);
      if (!open.some((l) => l.askedManifest) && pick && (this.manifestWaiters.length || this.background || this.waiters.size)) pick.askManifest();
      this.schedule();
      return;
    }
    // Least-loaded first, so a new holder is filled before old ones get more.
    open.sort((a, b) => a.inflight.length - b.inflight.length);
    for (const link of open) {
      const want: number[] = [];
      while (link.inflight.length + want.length < WINDOW) {
        const i = this.priority.shift() ?? this.retry.shift() ?? this.background?.next() ?? null;
        if (i === null) break;
        want.push(i);
      }
      if (!want.length) want.push(...this.stalled(link, open, now));
      if (want.length) link.get(want);
    }
    this.schedule();
    // While chunks are in flight, look again shortly: a link may stall without any event.
    if (!this.tick && open.some((l) => l.inflight.length)) {
      this.tick = setTimeout(() => {
        this.tick = null;
        this.pump();
      }, STALL_MS / 2);
    }
  }

  /**
   * stalled — for an idle link once there is nothing new to fetch: chunks a stalled link was
   * asked for (a connection changing its network path can stall for seconds, and the download
   * would wait for it at its end). Whichever copy arrives first is kept.
   */
  private stalled(link: HolderLink, open: HolderLink[], now: number): number[] {
    const out: number[] = [];
    for (const other of open) {
      if (other === link || !other.inflight.length || now - other.lastProgress < STALL_MS) continue;
      for (const i of other.inflight) {
        if (out.length + link.inflight.length >= WINDOW) return out;
        if (this.doubled.has(i) || link.inflight.includes(i)) continue;
        this.doubled.add(i);
        out.push(i);
      }
    }
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.tick) clearTimeout(this.tick);
    for (const link of this.links.values()) link.die();
    this.links.clear();
    for (const list of this.waiters.values()) for (const w of list) w.reject(new Error('The player was closed'));
    this.waiters.clear();
  }

  /** activeHolders — links open now. */
  get activeHolders(): number {
    return [...this.links.values()].filter((l) => l.open).length;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const waits = [...this.retryAt.values()].filter((t) => t > Date.now());
    if (!waits.length) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(50, Math.min(...waits) - Date.now()));
  }

  private connect(peer: string): void {
    const dc = this.transport.open(peer, CHANNEL_PREFIX + this.sha256);
    if (!dc) {
      this.retryAt.set(peer, Date.now() + RETRY_MS);
      return;
    }
    const link: HolderLink = new HolderLink(peer, dc, this.size, this.count, {
      open: () => this.pump(),
      manifest: (bytes) => void this.onManifest(link, bytes),
      chunk: (i, parts) => void this.onChunk(link, i, parts),
      closed: () => this.onClosed(link),
    });
    this.links.set(peer, link);
  }

  private async onManifest(link: HolderLink, bytes: Uint8Array): Promise<void> {
    if (this.hashes) return this.pump();
    if ((await sha256Hex(bytes)) !== this.manifestHash) return this.ban(link);
    this.setManifest(bytes);
    this.pump();
  }

  private async onChunk(link: HolderLink, i: number, parts: ArrayBuffer[]): Promise<void> {
    const user = this.candidates.get(link.peerId);
    if (user) this.fromUser.set(user, (this.fromUser.get(user) ?? 0) + parts.reduce((n, p) => n + p.byteLength, 0));
    const waiters = this.waiters.get(i);
    let ok = true;
    if (waiters) {
      const bytes = join(parts);
      ok = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))) === toHex(this.hashes!.subarray(i * 32, i * 32 + 32));
      if (ok) {
        this.waiters.delete(i);
        this.remember(i, bytes);
        for (const w of waiters) w.resolve(bytes);
      }
    }
    const bg = this.background;
    // The download keeps what a player asked for too (it ignores chunks it already has).
    if (ok && bg) ok = await bg.deliver(i, parts, link.peerId);
    if (!ok) {
      this.retry.unshift(i);
      if (waiters) this.priority.unshift(i);
      this.ban(link);
      return;
    }
    this.changed();
    this.pump();
  }

  private onClosed(link: HolderLink): void {
    if (this.links.get(link.peerId) !== link) return;
    this.links.delete(link.peerId);
    // Its unanswered chunks go to the others first.
    for (const i of link.inflight) (this.waiters.has(i) ? this.priority : this.retry).unshift(i);
    link.inflight.length = 0;
    if (!this.closed) this.retryAt.set(link.peerId, Date.now() + RETRY_MS);
    this.changed();
    this.pump();
  }

  private ban(link: HolderLink): void {
    this.banned.add(link.peerId);
    this.candidates.delete(link.peerId);
    link.die();
    this.changed();
  }

  private remember(i: number, bytes: Uint8Array): void {
    this.cache.set(i, bytes);
    while (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value!);
  }
}

function join(parts: ArrayBuffer[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}
