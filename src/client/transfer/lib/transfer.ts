// What a file transfer is in either direction: its record, status, current channel session, counters and speed.
import { chunkLength, type Bitmap } from './bitmap.js';
import type { ChannelSession } from './channel-session.js';
import { FINAL, type Counters, type TransferContext, type TransferInfo, type TransferStatus } from './model.js';
import { SpeedMeter } from './speed.js';
import type { FileRecord } from './store.js';

/** Transfer — one file on its way, in or out; the subclass owns its channel's protocol. */
export abstract class Transfer<R extends FileRecord, S extends ChannelSession> {
  abstract readonly direction: TransferInfo['direction'];
  error: string | null = null;
  session: S | null = null;
  sessionPeer: string | null = null;
  readonly counters: Counters = { bytes: 0, resent: 0, rejected: 0, sessions: 0, stalls: 0 };
  protected readonly meter = new SpeedMeter();

  constructor(protected readonly ctx: TransferContext, readonly rec: R, public status: TransferStatus) {}

  /** id — this tab's key for the transfer (see IncomingRecord: a receiver's own, never the sender's). */
  get id(): string {
    return this.rec.id;
  }

  /** transferId — the id both sides know (the sender's), used on the wire and in the room's ledger. */
  abstract get transferId(): string;

  get final(): boolean {
    return FINAL.has(this.status);
  }

  /** done — bytes verified by the receiver. */
  abstract get done(): number;

  info(): TransferInfo {
    return {
      id: this.id, transferId: this.transferId, direction: this.direction, name: this.rec.name, size: this.rec.size, peerName: this.rec.peerName,
      status: this.status, done: this.done, speed: this.status === 'active' ? this.meter.speed() : 0, hashedAhead: this.hashedAhead,
      sha256: this.sha256Shown(), error: this.error, waitingForFile: this.needsFileAgain(), counters: { ...this.counters },
    };
  }

  /** closeSession — drops the current channel without ending the transfer. */
  closeSession(): void {
    const s = this.session;
    this.session = null;
    s?.close();
  }

  setStatus(s: TransferStatus): void {
    if (this.final) return;
    this.status = s;
    this.ctx.changed(this.id);
  }

  protected abstract sha256Shown(): string | null;
  /** hashedAhead — the sender's bytes hashed before sending (see FileSource.prehash). */
  protected get hashedAhead(): number {
    return 0;
  }
  /** needsFileAgain — the sender must pick the file again (on the receiving side: it was asked to). */
  protected abstract needsFileAgain(): boolean;

  /** bytesIn — the bytes of the chunks set in `chunks` (the last chunk may be short). */
  protected bytesIn(chunks: Bitmap): number {
    const { size, chunkSize } = this.rec;
    const count = chunks.size;
    let bytes = chunks.count * chunkSize;
    if (count && chunks.has(count - 1)) bytes -= chunkSize - chunkLength(count - 1, size, chunkSize);
    return bytes;
  }
}
