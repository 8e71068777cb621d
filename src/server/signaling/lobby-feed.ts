// The lobby feed: coalesces lobby changes into one snapshot build per window and sends every socket the same small delta.
import { performance } from 'node:perf_hooks';
import type { ServerMessage } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import type { LobbySnapshot } from './lobby-view.js';

/** FeedPeer — what the feed needs of a socket. */
export interface FeedPeer {
  send(msg: ServerMessage): void;
  /** sendRaw — an already serialized message (the feed serializes once for every socket). */
  sendRaw(text: string): void;
}

/**
 * LobbyFeedMode — `delta`: one build per window, a delta to every socket, a full snapshot only
 * to new sockets. `full`: a full snapshot to every socket after each change, serialized per
 * socket (how Hearth worked before the feed; kept so the benchmark can measure both).
 */
export type LobbyFeedMode = 'delta' | 'full';

export interface LobbyFeedOptions {
  /** Reads the current lobby (from Redis). */
  build: () => Promise<LobbySnapshot>;
  /** This instance's sockets, now. */
  peers: () => Iterable<FeedPeer>;
  /** False while the database is unreachable: the feed waits instead of failing builds. */
  ready: () => boolean;
  log: Logger;
  /** Window after a change in a calm lobby (default 250 ms). */
  minWindowMs?: number;
  /** Longest window, reached under steady churn (default 500 ms: with the build, people still appear within a second). */
  maxWindowMs?: number;
  /** Debounce of the `full` mode (default 100 ms, as before the feed). */
  fullDebounceMs?: number;
}

/** A window is at least this many times the last build's cost: the feed keeps to a small share of a core. */
const COST_FACTOR = 10;

/** Serialized entries of the last snapshot sent, in the page's order (the next delta is computed against them). */
interface Sent {
  online: Map<string, string>;
  rooms: Map<string, string>;
}

/**
 * LobbyFeed — one per instance. Changes only mark the lobby dirty; at the end of the window the
 * lobby is built once, compared with what was sent last, and the difference goes out as one
 * `lobby-delta` string shared by every socket. A new socket waits for the next build and gets
 * the whole lobby (`lobby`) numbered like the deltas that follow it. Cost per window: one
 * build and one small string per socket, however many sockets or changes there were.
 */
export class LobbyFeed {
  private mode: LobbyFeedMode = 'delta';
  private seq = 0;
  private sent: Sent | null = null;
  /** `lobby` text for `seq`, made when a new socket needs it. */
  private fullText: string | null = null;
  /** Sockets that have a full snapshot and get every delta since. */
  private synced = new WeakSet<FeedPeer>();
  /** New sockets waiting for the next build. */
  private waiting = new Set<FeedPeer>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  /** The build in progress (one at a time). */
  private running: Promise<void> | null = null;
  private stopped = false;
  private minWindow: number;
  private maxWindow: number;
  private window: number;
  private lastEnd = -Infinity;
  private lastCost = 0;
  /** builds — snapshots built so far, and the time they took with their sends (benchmarks). */
  builds = 0;
  buildMs = 0;

  constructor(private readonly opts: LobbyFeedOptions) {
    this.minWindow = opts.minWindowMs ?? 250;
    this.maxWindow = opts.maxWindowMs ?? 500;
    this.window = this.minWindow;
  }

  /** sequence — number of the last lobby message sent (a socket that has it is up to date). */
  get sequence(): number {
    return this.seq;
  }

  /** configure — window bounds (tests make the window long and end it with flush()). */
  configure(w: { minWindowMs?: number; maxWindowMs?: number }): void {
    this.minWindow = w.minWindowMs ?? this.minWindow;
    this.maxWindow = Math.max(this.minWindow, w.maxWindowMs ?? this.maxWindow);
    this.window = this.minWindow;
  }

  /**
   * flush — ends the window now: builds, and sends whatever changed (nothing if nothing did),
   * even if the news of a change is still on its way over the bus (tests rely on that).
   */
  async flush(): Promise<void> {
    if (this.running) await this.running;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dirty = true;
    await (this.mode === 'full' ? this.flushFull() : this.endWindow());
  }

  /** changed — something in the lobby changed (here or on another instance). */
  changed(): void {
    this.dirty = true;
    this.schedule();
  }

  /** subscribe — a new socket: it gets the whole lobby from the next build, then deltas. */
  subscribe(peer: FeedPeer): void {
    if (this.mode === 'full') {
      void this.sendFull(peer);
      return;
    }
    this.waiting.add(peer);
    this.schedule();
  }

  /** setMode — switches between the feed and full snapshots; every socket gets a full snapshot next. */
  setMode(mode: LobbyFeedMode): void {
    this.mode = mode;
    this.sent = null;
    this.fullText = null;
    this.synced = new WeakSet();
    this.waiting = new Set(mode === 'delta' ? this.opts.peers() : []);
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.running || this.stopped) return;
    if (this.mode === 'full') {
      this.timer = setTimeout(() => void this.flushFull(), this.opts.fullDebounceMs ?? 100);
      return;
    }
    // A change soon after the last update means churn: a longer window covers more changes
    // with one build. After a calm spell the shortest window makes the lobby feel instant.
    const sinceLast = performance.now() - this.lastEnd;
    this.window = sinceLast < 2 * this.window ? Math.min(this.maxWindow, this.window * 2) : this.minWindow;
    const delay = Math.min(this.maxWindow, Math.max(this.window, COST_FACTOR * this.lastCost));
    this.timer = setTimeout(() => void this.endWindow(), delay);
  }

  /** endWindow — the end of a window: one build, one delta. */
  private endWindow(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.running || (!this.dirty && this.waiting.size === 0)) return Promise.resolve();
    if (!this.opts.ready()) {
      // The database is down: try again later; nothing is lost, the next build sees it all.
      this.timer = setTimeout(() => void this.endWindow(), this.maxWindow);
      return Promise.resolve();
    }
    this.running = this.build().finally(() => {
      this.running = null;
      if (this.dirty || this.waiting.size > 0) this.schedule();
    });
    return this.running;
  }

  private async build(): Promise<void> {
    const serving = this.waiting;
    this.waiting = new Set();
    this.dirty = false;
    const t0 = performance.now();
    try {
      if (serving.size === 0 && isEmpty(this.opts.peers())) {
        // Nobody here to tell: the next socket starts from a fresh snapshot anyway.
        this.sent = null;
        this.fullText = null;
      } else {
        this.builds++;
        this.publish(await this.opts.build(), serving);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'lobby update failed');
      this.dirty = true;
      for (const p of serving) this.waiting.add(p);
    } finally {
      this.lastEnd = performance.now();
      this.lastCost = this.lastEnd - t0;
      this.buildMs += this.lastCost;
    }
  }

  /** publish — the delta to synced sockets, then the whole lobby to the new ones. */
  private publish(snap: LobbySnapshot, serving: ReadonlySet<FeedPeer>): void {
    const next: Sent = {
      online: new Map(snap.online.map((p) => [p.userId, JSON.stringify(p)])),
      rooms: new Map(snap.rooms.map((r) => [r.slug, JSON.stringify(r)])),
    };
    if (!this.sent) {
      // First snapshot (or after a reset): nobody is synced, so there is no delta to send.
      this.seq++;
      this.fullText = null;
    } else {
      const online = diff(this.sent.online, next.online);
      const rooms = diff(this.sent.rooms, next.rooms);
      if (online.set.length + online.remove.length + rooms.set.length + rooms.remove.length > 0) {
        this.seq++;
        this.fullText = null;
        const text = `{"type":"lobby-delta","seq":${this.seq},"online":${deltaJson(online)},"rooms":${deltaJson(rooms)}}`;
        for (const p of this.opts.peers()) if (this.synced.has(p)) p.sendRaw(text);
      }
    }
    this.sent = next;
    if (serving.size === 0) return;
    this.fullText ??= `{"type":"lobby","seq":${this.seq},"online":[${[...next.online.values()].join(',')}],"rooms":[${[...next.rooms.values()].join(',')}]}`;
    for (const p of serving) {
      p.sendRaw(this.fullText);
      this.synced.add(p);
    }
  }

  // ---- full mode (before the feed) ------------------------------------------------------

  private async flushFull(): Promise<void> {
    this.timer = null;
    this.dirty = false;
    if (this.stopped || !this.opts.ready()) return;
    try {
      this.builds++;
      const msg: ServerMessage = { type: 'lobby', seq: ++this.seq, ...(await this.opts.build()) };
      for (const p of this.opts.peers()) p.send(msg);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'lobby update failed');
    }
  }

  private async sendFull(peer: FeedPeer): Promise<void> {
    if (!this.opts.ready()) return;
    try {
      this.builds++;
      peer.send({ type: 'lobby', seq: this.seq, ...(await this.opts.build()) });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'lobby update failed');
    }
  }
}

interface Diff {
  /** Serialized entries that are new or changed. */
  set: string[];
  /** Ids that are gone. */
  remove: string[];
}

function diff(before: Map<string, string>, after: Map<string, string>): Diff {
  const set: string[] = [];
  const remove: string[] = [];
  for (const [id, json] of after) if (before.get(id) !== json) set.push(json);
  for (const id of before.keys()) if (!after.has(id)) remove.push(id);
  return { set, remove };
}

function deltaJson(d: Diff): string {
  return `{"set":[${d.set.join(',')}],"remove":${JSON.stringify(d.remove)}}`;
}

function isEmpty(it: Iterable<unknown>): boolean {
  return it[Symbol.iterator]().next().done === true;
}
