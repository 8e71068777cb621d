// What one tab shares: the items it announces, the files behind them, and serving those files to whoever asks.
import type { ShareItem } from '../../../shared/shares.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { HolderSession, type HeldFile } from './holder.js';
import { CHANNEL_PREFIX } from './wire.js';

// A `share` travels in one WebSocket frame (64 KiB); the rest of the message needs a little room.
const MAX_ITEM_JSON = 60 * 1024;

/** retryLater — a refusal that the next reconnect (or rejoining the room) puts right: keep holding. */
function retryLater(err: SignalingError): boolean {
  return err.code === 'disconnected' || err.code === 'not-in-room' || err.code === 'unavailable';
}

/**
 * Holdings — the server forgets a tab's holdings when its socket closes, so they are announced
 * again after every reconnect (`announceAll`). An item stopped from another tab (or without
 * JavaScript) disappears from the person's own list: once the server had listed it as theirs,
 * that is how this tab learns to let go (`confirm`).
 */
export class Holdings {
  private readonly files = new Map<string, HeldFile>();
  private readonly items = new Map<string, { item: ShareItem; confirmed: boolean }>();

  constructor(private readonly signaling: SignalingClient, private readonly room: string | null, private readonly report: (message: string) => void) {}

  get size(): number {
    return this.items.size;
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  item(id: string): ShareItem | null {
    return this.items.get(id)?.item ?? null;
  }

  /** file — a file this tab can serve, by SHA-256. */
  file(sha256: string): HeldFile | null {
    return this.files.get(sha256) ?? null;
  }

  /** hold — serve `item` from these files (by SHA-256) and tell the server. */
  async hold(item: ShareItem, files: Map<string, HeldFile>): Promise<void> {
    if (JSON.stringify(item).length > MAX_ITEM_JSON) {
      this.report(`${item.name} has too many files or too long names to share as one folder; share smaller folders.`);
      return;
    }
    for (const [sha, f] of files) this.files.set(sha, f);
    this.items.set(item.id, { item, confirmed: false });
    const r = await this.signaling.share(item, this.room);
    if (!(r instanceof SignalingError)) return;
    if (!retryLater(r)) {
      this.release(item.id);
      this.report(r.message);
    } else if (r.code === 'not-in-room') {
      this.report('Join the call to share in this room; your file is shared as soon as you do.');
    }
  }

  release(id: string): void {
    const h = this.items.get(id);
    if (!h) return;
    this.items.delete(id);
    const still = new Set([...this.items.values()].flatMap((x) => x.item.files.map((f) => f.sha256)));
    for (const f of h.item.files) if (!still.has(f.sha256)) this.files.delete(f.sha256);
  }

  /** announceAll — after a (re)connect: hold again everything this tab holds. */
  async announceAll(): Promise<void> {
    for (const { item } of [...this.items.values()]) {
      const r = await this.signaling.share(item, this.room);
      if (r instanceof SignalingError && !retryLater(r)) this.release(item.id);
    }
  }

  /** confirm — the person's own items as the server lists them now. */
  confirm(mine: Set<string>): void {
    for (const [id, h] of this.items) {
      if (mine.has(id)) h.confirmed = true;
      else if (h.confirmed) this.release(id);
    }
  }

  /** serve — a channel a downloader opened to us: labelled `sf:<sha256>`, for a file we hold. */
  serve(dc: RTCDataChannel): void {
    const file = dc.label.startsWith(CHANNEL_PREFIX) ? this.files.get(dc.label.slice(CHANNEL_PREFIX.length)) : undefined;
    if (!file) {
      dc.close();
      return;
    }
    new HolderSession(dc, file);
  }
}
