// Shared files on the signaling side: share, unshare and files-watch, what this instance's tabs hold, and their heartbeat.
import { createHash } from 'node:crypto';
import { ErrorCode, type ClientMessage } from '../../shared/protocol.js';
import { checkShareItem, folderIdText, SHARE_LIMITS, type ShareItem } from '../../shared/shares.js';
import type { Logger } from '../log.js';
import type { RoomStore } from '../store/rooms.js';
import type { Holdings, ShareStore } from '../store/shares.js';
import { HandlerError, type Connection } from './connection.js';
import { FilesFeed } from './files-feed.js';
import { buildSharesSnapshot, viewFor, type FilesView } from './files-view.js';
import type { SignalingHub } from './hub.js';

export interface SharedFilesDeps {
  shares: ShareStore;
  rooms: RoomStore;
  hub: SignalingHub;
  log: Logger;
  /** Holdings are rewritten this often (they lapse after three missed beats, like presence). */
  heartbeatMs: number;
  ready: () => boolean;
}

/** A local tab that holds something: what it holds, with the items themselves (to put lost records back). */
interface Tab {
  conn: Connection;
  held: Map<string, { room: string | null; item: ShareItem }>;
}

type Msg<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

/** Stops awaiting their echo, at most (more means the bus lost some: forget them all). */
const MAX_ECHOES = 1_000;

const withRef = (ref: string | undefined) => (ref === undefined ? {} : { ref });

/** itemIdProblem — the id must name the content: a file's SHA-256, or the SHA-256 of a folder's listing. */
function itemIdProblem(item: ShareItem): string | null {
  const problem = checkShareItem(item);
  if (problem) return problem;
  if (item.kind === 'folder' && createHash('sha256').update(folderIdText(item), 'utf8').digest('hex') !== item.id) {
    return 'The item id does not match its content.';
  }
  return null;
}

/**
 * SharedFiles — one per instance. A share is the person's record (it lasts until they stop
 * sharing it) plus the tab that holds it (for as long as the socket lives). Holdings are kept
 * here, in memory, and written to Redis on every change and every heartbeat, so a Redis that
 * lost its data gets them back, and a dead instance's holdings lapse with its tabs' presence.
 */
export class SharedFiles {
  private readonly tabs = new Map<string, Tab>();
  /** Stops this instance announced and has already applied: their echo from the bus is skipped. */
  private readonly echoes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  readonly feed: FilesFeed;

  constructor(private readonly deps: SharedFilesDeps) {
    this.feed = new FilesFeed({ build: (viewers) => this.snapshot(viewers), ready: deps.ready, log: deps.log });
    // Tabs coming, going and moving between rooms change who holds what where.
    deps.hub.onLobbyChanged(() => this.feed.changed());
    deps.hub.onSharesChanged((userId, stopped, except) => this.onSharesChanged(userId, stopped, except));
  }

  // ---- messages --------------------------------------------------------------------------

  async share(conn: Connection, msg: Msg<'share'>): Promise<void> {
    const { item, room } = msg;
    if (room !== conn.room) {
      throw new HandlerError(ErrorCode.NotInRoom, room ? 'You can share in a room only while you are in it.' : 'You are in a room: share in it, or leave it first.');
    }
    const problem = itemIdProblem(item);
    if (problem) throw new HandlerError(ErrorCode.BadMessage, problem);
    const added = await this.deps.shares.add(conn.userId, item, room);
    if (added === 'full') {
      throw new HandlerError(ErrorCode.TooManyShares, `You share ${SHARE_LIMITS.itemsPerPerson} items already; stop sharing one first.`);
    }
    let tab = this.tabs.get(conn.peerId);
    if (!tab || tab.conn !== conn) this.tabs.set(conn.peerId, (tab = { conn, held: new Map() }));
    const before = tab.held.get(item.id);
    tab.held.set(item.id, { room, item });
    this.startBeating();
    await this.write(tab);
    conn.send({ type: 'shared', id: item.id, ...withRef(msg.ref) });
    // The same share again from the same tab changes nothing anyone sees: no news for the bus.
    if (added === 'added' || !before || before.room !== room) await this.deps.hub.sharesChanged(conn.userId, null);
  }

  async unshare(conn: Connection, msg: Msg<'unshare'>): Promise<void> {
    await this.stopSharing(conn.userId, msg.id, conn.peerId);
    conn.send({ type: 'unshared', id: msg.id, ...withRef(msg.ref) });
  }

  async watch(conn: Connection, msg: Msg<'files-watch'>): Promise<void> {
    await this.feed.watch(conn, msg.ref);
  }

  // ---- for pages and the socket's lifecycle ----------------------------------------------

  /**
   * stopSharing — `userId` stops sharing `id`: the record goes, and every tab of theirs lets it
   * go (those other than `except` hear `unshared`, so they do not share it again on reconnect).
   */
  async stopSharing(userId: string, id: string, except?: string): Promise<void> {
    const removed = await this.deps.shares.remove(userId, id);
    // This instance's tabs let go at once: a share that follows on the same tab must not be
    // undone by this stop's news coming back over the bus.
    this.letGo(userId, id, except);
    // Nothing recorded, nothing listed (tabs elsewhere that still hold it let go at their next beat).
    if (!removed) return;
    const key = `${userId} ${id}`;
    if (this.echoes.size > MAX_ECHOES) this.echoes.clear(); // echoes lost in a bus outage
    this.echoes.set(key, (this.echoes.get(key) ?? 0) + 1);
    try {
      await this.deps.hub.sharesChanged(userId, id, except);
    } catch (err) {
      this.skipEcho(key);
      throw err;
    }
  }

  /** viewOf — what a tab of `userId` in `room` would be sent now (the Shared files page renders it). */
  async viewOf(userId: string, room: string | null): Promise<FilesView> {
    return viewFor(await this.snapshot([userId]), userId, room);
  }

  /** forget — the socket closed: it watches and holds nothing any more (here; see release for Redis). */
  forget(conn: Connection): void {
    this.feed.unwatch(conn);
    if (this.tabs.get(conn.peerId)?.conn !== conn) return;
    this.tabs.delete(conn.peerId);
    if (this.tabs.size === 0) this.stopBeating();
  }

  /** release — the closed socket's holdings go from Redis at once (unless the tab resumed elsewhere, which then owns them). */
  async release(conn: Connection): Promise<void> {
    await this.deps.shares.release(conn.peerId);
  }

  // ---- internals -------------------------------------------------------------------------

  private snapshot(viewers: Iterable<string>) {
    return buildSharesSnapshot(this.deps.rooms, this.deps.shares, viewers);
  }

  /** letGo — this instance's tabs of `userId` stop holding `id`. */
  private letGo(userId: string, id: string, except?: string): void {
    for (const tab of this.tabs.values()) {
      if (tab.conn.userId !== userId || !tab.held.delete(id)) continue;
      if (tab.conn.peerId !== except) tab.conn.send({ type: 'unshared', id });
      void this.write(tab).catch((err: Error) => this.deps.log.debug({ err: err.message }, 'holdings rewrite deferred to the heartbeat'));
    }
  }

  private onSharesChanged(userId: string, stopped: string | null, except?: string): void {
    // Our own stop was applied before it was announced; applying it again could undo a share
    // one of these tabs made since.
    if (stopped && !this.skipEcho(`${userId} ${stopped}`)) this.letGo(userId, stopped, except);
    this.feed.changed();
  }

  /** skipEcho — true (and counted off) when `key` is a stop this instance announced itself. */
  private skipEcho(key: string): boolean {
    const n = this.echoes.get(key);
    if (!n) return false;
    if (n === 1) this.echoes.delete(key);
    else this.echoes.set(key, n - 1);
    return true;
  }

  /** write — the tab's holdings to Redis; items it may no longer hold (stopped elsewhere) are let go. */
  private async write(tab: Tab): Promise<{ fresh: boolean; dropped: string[] }> {
    const holdings: Holdings = new Map([...tab.held].map(([id, h]) => [id, h.room]));
    return this.deps.shares.hold(tab.conn.peerId, tab.conn.userId, holdings);
  }

  private startBeating(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.deps.heartbeatMs);
    this.timer.unref();
  }

  private stopBeating(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * beat — rewrites every local tab's holdings. A tab whose holdings had lapsed (Redis lost its
   * data, or was away longer than the TTL) also puts back its person's records it holds; one
   * that had not, lets go of items whose record is gone (stopped from another instance).
   */
  private async beat(): Promise<void> {
    if (!this.deps.ready()) return;
    let healed = false;
    for (const tab of [...this.tabs.values()]) {
      if (tab.conn.closed) continue;
      try {
        const { fresh, dropped } = await this.write(tab);
        if (dropped.length === 0) continue;
        if (fresh) {
          for (const id of dropped) {
            const h = tab.held.get(id);
            if (h && (await this.deps.shares.add(tab.conn.userId, h.item, h.room)) !== 'full') healed = true;
          }
          await this.write(tab);
        } else {
          // Stopped elsewhere and the news did not reach this tab: it hears it now.
          for (const id of dropped) {
            tab.held.delete(id);
            tab.conn.send({ type: 'unshared', id });
          }
        }
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'shared files heartbeat failed');
        return;
      }
    }
    if (healed) await this.deps.hub.sharesChanged('', null).catch(() => undefined);
  }
}
