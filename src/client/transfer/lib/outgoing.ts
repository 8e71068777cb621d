// One file being sent: its sessions across drops and reconnects, its persisted chunk hashes, and how it ends.
import { formatBytes } from '../../../shared/ledger.js';
import { Bitmap, chunkCount } from './bitmap.js';
import { errorText, type LedgerState, type TransferContext, type TransferStatus } from './model.js';
import { SenderSession, type SenderHooks } from './sender.js';
import type { FileSource } from './source.js';
import type { OutgoingRecord } from './store.js';
import { Transfer } from './transfer.js';
import { CHANNEL_PREFIX } from './transport.js';

// A channel that has not opened by then is abandoned; the next resume makes a new one.
const OPEN_TIMEOUT_MS = 15_000;

// Reading and hashing (hash-wasm) load only when this tab first sends: most lobby visits never do.
const loadSource = () => import('./source.js').then((m) => m.FileSource);

/** OutOffer — files offered together to one person (sent one after another once accepted). */
export interface OutOffer {
  id: string;
  to: { userId: string; displayName: string };
  /** The tabs the offer went to; the first to accept gets it. */
  targets: string[];
  /** The receiving tab (its current peer id: it changes when that tab reconnects or reloads). */
  peer: string | null;
  answered: boolean;
  files: Outgoing[];
  /** Ledger: the room-wide "offered" entry was written for a send to everyone. */
  everyone: boolean;
}

/** Outgoing — a file on its way out. */
export class Outgoing extends Transfer<OutgoingRecord, SenderSession> {
  readonly direction = 'send';
  sha256: string | null = null;
  src: FileSource | null = null;
  sessionAt = 0;
  offer!: OutOffer;
  readonly acked: Bitmap;
  private readonly sentOnce: Bitmap;
  private stalled = false;
  private persistedHashed: number;
  private release: (() => void) | null = null;
  private preparing: Promise<void> | null = null;

  constructor(ctx: TransferContext, rec: OutgoingRecord, private file: File | null, status: TransferStatus, private readonly ledger: (t: Outgoing, state: LedgerState) => void) {
    super(ctx, rec, status);
    const count = chunkCount(rec.size, rec.chunkSize);
    this.acked = new Bitmap(count);
    this.sentOnce = new Bitmap(count);
    this.persistedHashed = rec.hashed;
  }

  /** done — bytes the receiver has verified. */
  get done(): number {
    return this.bytesIn(this.acked);
  }

  get transferId(): string {
    return this.rec.id;
  }

  protected sha256Shown(): string | null {
    return this.sha256;
  }

  protected needsFileAgain(): boolean {
    return this.status === 'needs-file';
  }

  /** hold — this tab owns the transfer (a Web Lock, so another tab of this browser leaves it alone). */
  hold(release: () => void): void {
    this.release = release;
  }

  /** prepare — readies the file for reading and hashing (when offered, again on accept: once). */
  prepare(): Promise<void> {
    this.preparing ??= (async () => {
      if (!this.src && this.file) this.src = await (await loadSource()).create(this.file, this.rec.chunkSize);
    })();
    return this.preparing;
  }

  /**
   * prehash — hashes the file while the offer waits for an answer (the manager runs one at a
   * time); stops when sending starts or the transfer ends, sending hashes the rest.
   */
  async prehash(): Promise<void> {
    if (this.final || this.session) return;
    await this.prepare();
    if (this.final || this.session || !this.src) return;
    await this.src.prehash();
  }

  protected override get hashedAhead(): number {
    return this.src?.hashedBytes ?? 0;
  }

  /** start — opens a channel to the receiving tab and lets the receiver say what it needs. */
  start(peer: string): void {
    if (this.final || !this.src) return;
    this.src.stopPrehash();
    this.closeSession();
    const dc = this.ctx.channels.open(peer, CHANNEL_PREFIX + this.id);
    if (!dc) return this.setStatus('waiting');
    this.sessionPeer = peer;
    this.sessionAt = Date.now();
    const stallAfter = this.ctx.debug.stallSender;
    this.ctx.debug.stallSender = 0;
    const session: SenderSession = new SenderSession(dc, this.src, this.acked, this.hooks(() => this.session === session), this.ctx.tuning, stallAfter || null);
    this.session = session;
    this.setStatus('connecting');
    const timer = setTimeout(() => {
      if (this.session === session && dc.readyState !== 'open') {
        session.close();
        this.onClosed();
      }
    }, OPEN_TIMEOUT_MS);
    dc.addEventListener('open', () => {
      clearTimeout(timer);
      if (this.session !== session) return;
      this.counters.sessions++;
      this.meter.reset();
      if (this.stalled) {
        this.stalled = false;
        this.ledger(this, 'resumed');
      }
      this.setStatus(this.sha256 ? 'verifying' : 'active');
    });
  }

  /** pickAgain — after a reload: the same file (name, size, and the chunks already sent) lets it continue. */
  async pickAgain(file: File): Promise<string | null> {
    if (this.status !== 'needs-file') return null;
    if (file.name !== this.rec.name || file.size !== this.rec.size) return `That is not the file being sent: pick “${this.rec.name}” (${formatBytes(this.rec.size)}).`;
    this.setStatus('checking');
    try {
      const src = await (await loadSource()).create(file, this.rec.chunkSize, this.rec.hashes, this.rec.hashed);
      if (!(await src.verifyKnown())) {
        this.setStatus('needs-file');
        return `“${file.name}” has different contents from the file you were sending. Pick the same file.`;
      }
      this.file = file;
      this.src = src;
      this.setStatus('waiting');
      return null;
    } catch (err) {
      this.setStatus('needs-file');
      return errorText(err);
    }
  }

  /** cancel — stopped here: tell the other side (on the channel and through the server). */
  cancel(): void {
    if (this.final) return;
    this.session?.cancel();
    const to = this.offer.peer ? [this.offer.peer] : this.ctx.peersOf(this.rec.peerUserId);
    for (const p of to) this.ctx.signal(p, { t: 'cancel', ids: [this.id] });
    if (this.status !== 'offered') this.ledger(this, 'cancelled');
    this.settle('cancelled');
  }

  /** remoteCancel — the receiver cancelled (or its browser could not go on). */
  remoteCancel(reason: 'cancelled' | 'failed'): void {
    if (this.final) return;
    this.ledger(this, reason === 'failed' ? 'failed' : 'cancelled');
    this.ctx.notice(`${this.rec.peerName} ${reason === 'failed' ? 'could not receive' : 'cancelled'} “${this.rec.name}”.`, reason === 'failed' ? 'error' : 'info');
    this.settle(reason, reason === 'failed' ? `${this.rec.peerName}’s browser could not store the file.` : null);
  }

  /** fail — this side cannot go on (the file cannot be read): the receiver is told, the partial there is dropped. */
  fail(err: unknown): void {
    if (this.final) return;
    for (const p of this.offer.peer ? [this.offer.peer] : []) this.ctx.signal(p, { t: 'cancel', ids: [this.id], reason: 'failed' });
    this.ledger(this, 'failed');
    this.settle('failed', errorText(err));
  }

  declined(): void {
    if (this.final) return;
    this.ledger(this, 'declined');
    this.settle('declined');
  }

  /** persist — saves the chunk hashes sent so far (needed to check a re-picked file after a reload). */
  async persist(): Promise<void> {
    const store = this.ctx.store;
    if (!store || this.final || this.status === 'offered' || !this.src) return;
    const hashed = this.src.hashedPrefix;
    if (hashed <= this.persistedHashed) return;
    this.persistedHashed = hashed;
    this.rec.hashes = this.src.hashes.slice(0, hashed * 32);
    this.rec.hashed = hashed;
    this.rec.updatedAt = Date.now();
    await store.put('out', this.rec).catch(() => undefined);
  }

  private hooks(current: () => boolean): SenderHooks {
    return {
      progress: () => {
        this.meter.sample(this.done);
        this.ctx.changed(this.id);
      },
      sent: (i, bytes) => {
        this.counters.bytes += bytes;
        if (!this.sentOnce.set(i)) this.counters.resent += bytes;
      },
      rejected: () => {
        this.counters.rejected++;
      },
      ended: (sha) => {
        this.sha256 = sha;
        if (current()) this.setStatus('verifying');
      },
      result: (ok, theirs) => {
        if (!current()) return;
        // The room's ledger hears "verified" (or a mismatch) from the receiver's own report, not from us.
        if (ok && theirs === this.sha256) {
          this.ctx.notice(`“${this.rec.name}” arrived intact at ${this.rec.peerName}.`, 'success');
          this.settle('verified');
        } else {
          // A receiver that says "ok" for another hash contradicts itself: that much we can record.
          if (ok) this.ledger(this, 'failed');
          this.settle('failed', `The copy ${this.rec.peerName} received does not match (their SHA-256 is ${theirs}).`);
        }
      },
      cancelled: (reason) => {
        if (current()) this.remoteCancel(reason);
      },
      failed: (err) => {
        if (current()) this.fail(err);
      },
      closed: () => {
        if (current()) this.onClosed();
      },
    };
  }

  private onClosed(): void {
    this.session = null;
    if (this.final) return;
    this.stalled = true;
    this.setStatus('waiting');
    this.ctx.stalled();
  }

  private settle(status: TransferStatus, error: string | null = null): void {
    if (this.final) return;
    this.closeSession();
    this.status = status;
    this.error = error;
    this.src?.stopPrehash();
    this.src?.dropReadAhead();
    void this.ctx.store?.delete('out', this.id).catch(() => undefined);
    this.release?.();
    this.release = null;
    this.ctx.changed(this.id);
    this.ctx.settled(this.id);
  }
}
