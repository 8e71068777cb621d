// The files feed: sockets that watch the shared files get `files` when what they may see changes, coalesced to a few a second.
import type { ServerMessage } from '../../shared/protocol.js';
import type { Logger } from '../log.js';
import { itemsIn, mineOf, type SharesSnapshot } from './files-view.js';

/** FilesWatcher — what the feed needs of a socket. */
export interface FilesWatcher {
  readonly peerId: string;
  readonly userId: string;
  /** The socket's room now (room items are shown only in their room). */
  readonly room: string | null;
  send(msg: ServerMessage): void;
  sendRaw(text: string): void;
}

export interface FilesFeedOptions {
  /** Reads the held items, and the records of `viewers`. */
  build: (viewers: Iterable<string>) => Promise<SharesSnapshot>;
  /** False while the database is unreachable: the feed waits for the next change. */
  ready: () => boolean;
  log: Logger;
  /** Wait after a first change, so a burst is one push (default 200 ms). */
  windowMs?: number;
  /** Least time between two pushes (default 500 ms: at most two a second). */
  gapMs?: number;
}

interface Watch {
  peer: FilesWatcher;
  /** The last `files` text sent (without ref): an unchanged view is not sent again. */
  last: string;
  at: number;
}

/**
 * filesTexts — the `files` text for each watcher, each scope's items and each person's records
 * serialized once however many tabs share them (a busy list is the bulk of every message).
 */
function filesTexts(snapshot: SharesSnapshot, peers: readonly FilesWatcher[]): string[] {
  const items = new Map<string, string>();
  const mine = new Map<string, string>();
  return peers.map((p) => {
    const scope = p.room ?? '';
    let i = items.get(scope);
    if (i === undefined) items.set(scope, (i = JSON.stringify(itemsIn(snapshot, p.room))));
    let m = mine.get(p.userId);
    if (m === undefined) mine.set(p.userId, (m = JSON.stringify(mineOf(snapshot, p.userId))));
    return `{"type":"files","items":${i},"mine":${m}}`;
  });
}

/** FilesFeed — one per instance; one snapshot per window, then each watcher gets its view if it changed. */
export class FilesFeed {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private lastEnd = -Infinity;
  private readonly windowMs: number;
  private readonly gapMs: number;

  constructor(private readonly opts: FilesFeedOptions) {
    this.windowMs = opts.windowMs ?? 200;
    this.gapMs = opts.gapMs ?? 500;
  }

  /** changed — something shown may have changed (here or on another instance). */
  changed(): void {
    if (this.watches.size === 0) return;
    this.dirty = true;
    this.schedule();
  }

  /** watch — `peer` gets its view now (answering `ref`) and after every change. */
  async watch(peer: FilesWatcher, ref?: string): Promise<void> {
    const current = this.watches.get(peer.peerId);
    let text: string;
    // Asked again right after a build that already showed it everything: answer from that.
    if (current?.peer === peer && !this.dirty && performance.now() - current.at < this.gapMs) {
      text = current.last;
    } else {
      text = filesTexts(await this.opts.build([peer.userId]), [peer])[0]!;
    }
    this.watches.set(peer.peerId, { peer, last: text, at: performance.now() });
    peer.sendRaw(ref === undefined ? text : `${text.slice(0, -1)},"ref":${JSON.stringify(ref)}}`);
  }

  /** unwatch — the socket closed (a newer socket of the same tab keeps its own watch). */
  unwatch(peer: FilesWatcher): void {
    if (this.watches.get(peer.peerId)?.peer === peer) this.watches.delete(peer.peerId);
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    const delay = Math.max(this.windowMs, this.lastEnd + this.gapMs - performance.now());
    this.timer = setTimeout(() => void this.flush(), delay);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (!this.opts.ready()) return; // the next change after the outage pushes again
    this.dirty = false;
    this.running = this.push().catch((err: Error) => this.opts.log.warn({ err: err.message }, 'could not push shared files'));
    await this.running;
    this.running = null;
    this.lastEnd = performance.now();
    if (this.dirty) this.schedule();
  }

  private async push(): Promise<void> {
    const watches = [...this.watches.values()];
    if (watches.length === 0) return;
    const snapshot = await this.opts.build(watches.map((w) => w.peer.userId));
    const texts = filesTexts(snapshot, watches.map((w) => w.peer));
    const now = performance.now();
    for (const [k, w] of watches.entries()) {
      if (this.watches.get(w.peer.peerId) !== w) continue; // closed meanwhile
      const text = texts[k]!;
      w.at = now;
      if (text === w.last) continue;
      w.last = text;
      w.peer.sendRaw(text);
    }
  }
}
