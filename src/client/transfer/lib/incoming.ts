// One file being received: disk writes through the worker, the persisted bitmap, resume, and the final check from disk.
import { Bitmap, chunkCount } from './bitmap.js';
import { LIMITS, toHex } from './messages.js';
import { errorText, type TransferContext, type TransferStatus } from './model.js';
import { ReceiverSession, type ReceiverHooks } from './receiver.js';
import type { IncomingRecord } from './store.js';
import { Transfer } from './transfer.js';

// A verified file accepts a channel from its sender this long after the sender knocked (it missed
// our result and wants it again); otherwise a finished transfer lets no connection in.
const REOPEN_MS = 30_000;

/** Incoming — a file on its way in, written chunk by chunk into OPFS (never gathered in memory). */
export class Incoming extends Transfer<IncomingRecord, ReceiverSession> {
  readonly direction = 'receive';
  waitingForFile = false;
  readonly bitmap: Bitmap;
  /** When bytes last arrived or landed on disk (the progress watchdog's clock). */
  private lastProgress = Date.now();
  private reopenUntil = 0;
  private readonly count: number;
  private readonly pending = new Set<Promise<unknown>>();
  private pendingBytes = 0;
  private opened: Promise<void> | null = null;
  private dirty = false;
  private persisting: Promise<void> | null = null;

  constructor(ctx: TransferContext, rec: IncomingRecord, status: TransferStatus, private release: (() => void) | null) {
    super(ctx, rec, rec.state === 'verified' ? 'verified' : status);
    this.count = chunkCount(rec.size, rec.chunkSize);
    this.bitmap = new Bitmap(this.count, rec.bitmap);
  }

  /** active — a channel is carrying this transfer right now. */
  get active(): boolean {
    return !!this.session && !this.session.closed;
  }

  get done(): number {
    return this.bytesIn(this.bitmap);
  }

  get transferId(): string {
    return this.rec.remoteId ?? this.rec.id;
  }

  /**
   * expecting — the sender may set up a connection for this file: it is accepted and not over, or
   * verified and the sender knocked for our result within REOPEN_MS (see `reopen`).
   */
  expecting(now = Date.now()): boolean {
    return !this.final || (this.status === 'verified' && now < this.reopenUntil);
  }

  /** reopen — the sender knocked for a verified file (it missed our result): let its channel in for a while. */
  reopen(now = Date.now()): void {
    if (this.status === 'verified') this.reopenUntil = now + REOPEN_MS;
  }

  /**
   * watchdog — a session that is alive (pings keep the keepalive happy) but has brought no bytes
   * for `stallMs` is dropped; both ends then resume on a fresh channel. True when it dropped one.
   */
  watchdog(now = Date.now()): boolean {
    const s = this.session;
    if (this.status !== 'active' || !s || s.closed || now - this.lastProgress <= this.ctx.tuning.stallMs) return false;
    this.counters.stalls++;
    s.die();
    return true;
  }

  protected sha256Shown(): string | null {
    return this.rec.sha256;
  }

  protected needsFileAgain(): boolean {
    return this.waitingForFile && this.status === 'waiting';
  }

  /** attach — the sender opened a channel for this file (first time, or to resume). */
  attach(peer: string, dc: RTCDataChannel): void {
    if (this.final && this.status !== 'verified') {
      dc.close();
      return;
    }
    this.closeSession();
    const session: ReceiverSession = new ReceiverSession(dc, { size: this.rec.size, chunkSize: this.rec.chunkSize, count: this.count }, this.hooks(() => this.session === session), (buf) => this.tamper(buf));
    this.session = session;
    this.sessionPeer = peer;
    this.waitingForFile = false;
    const begin = () => {
      if (this.session !== session) return;
      this.lastProgress = Date.now();
      this.counters.sessions++;
      this.meter.reset();
      if (this.status !== 'verified') this.setStatus('active');
      void this.sendNeed(session).catch((err: unknown) => this.fail(errorText(err)));
    };
    if (dc.readyState === 'open') begin();
    else dc.addEventListener('open', begin, { once: true });
  }

  /** persist — records what is durably on disk (flush first, then the bitmap: never the other way round). */
  persist(): Promise<void> {
    if (!this.dirty || !this.ctx.store || !this.ctx.disk || !this.opened || this.rec.state === 'verified') return Promise.resolve();
    this.persisting ??= (async () => {
      try {
        this.dirty = false;
        const snap = await this.ctx.disk!.flush(this.id);
        Object.assign(this.rec, { bitmap: snap.bitmap, frontier: snap.frontier, hashState: snap.hashState, updatedAt: Date.now() });
        await this.ctx.store!.put('in', this.rec);
      } catch {
        this.dirty = true; // try again on the next round
      } finally {
        this.persisting = null;
      }
    })();
    return this.persisting;
  }

  /** cancel — stopped here: tell the sender, delete the partial file. */
  cancel(): void {
    if (this.final) return;
    this.session?.cancel();
    const to = this.sessionPeer ? [this.sessionPeer] : this.ctx.peersOf(this.rec.peerUserId);
    for (const p of to) this.ctx.signal(p, { t: 'cancel', ids: [this.transferId] });
    void this.end('cancelled');
  }

  remoteCancel(reason: 'cancelled' | 'failed'): void {
    if (this.final && this.status !== 'verified') return;
    if (this.status === 'verified') return; // the file is here and checked: keep it
    this.ctx.notice(`${this.rec.peerName} ${reason === 'failed' ? 'could not go on sending' : 'cancelled'} “${this.rec.name}”.`, reason === 'failed' ? 'error' : 'info');
    void this.end(reason, reason === 'failed' ? `${this.rec.peerName}’s browser could not go on reading the file.` : null);
  }

  /** remove — forget a finished file here (deletes the stored copy). */
  async remove(): Promise<void> {
    this.closeSession();
    await this.settle();
    await this.ctx.disk?.remove(this.id).catch(() => undefined);
    await this.ctx.store?.delete('in', this.id).catch(() => undefined);
    this.release?.();
    this.release = null;
  }

  private hooks(current: () => boolean): ReceiverHooks {
    return {
      has: (i) => this.bitmap.has(i),
      backlog: () => this.pendingBytes,
      write: (i, hash, data) => this.write(i, hash, data),
      received: (bytes) => {
        this.counters.bytes += bytes;
        this.lastProgress = Date.now();
      },
      sync: () => {
        const s = this.session;
        if (current() && s) void this.sendNeed(s).catch((err: unknown) => this.fail(errorText(err)));
      },
      end: (sha) => {
        this.lastProgress = Date.now();
        if (current()) void this.finish(sha).catch((err: unknown) => this.fail(errorText(err)));
      },
      cancelled: (reason) => {
        if (current()) this.remoteCancel(reason);
      },
      closed: () => {
        if (!current()) return;
        this.session = null;
        if (!this.final) this.setStatus('waiting');
        void this.persist();
        this.ctx.stalled();
      },
    };
  }

  private ensureOpen(): Promise<void> {
    const disk = this.ctx.disk;
    if (!disk) return Promise.reject(new Error('This browser cannot store received files.'));
    this.opened ??= disk.open(this.id, this.rec.size, this.rec.chunkSize, { bitmap: this.rec.bitmap, frontier: this.rec.frontier, hashState: this.rec.hashState })
      .catch((err: unknown) => {
        this.opened = null;
        throw err;
      });
    return this.opened;
  }

  private write(i: number, hash: string, parts: ArrayBuffer[]): Promise<boolean> {
    let bytes = 0;
    for (const b of parts) bytes += b.byteLength;
    this.pendingBytes += bytes;
    const faulty = this.ctx.debug.corruptDisk > 0 && bytes > 0;
    if (faulty) this.ctx.debug.corruptDisk--;
    const chunk = faulty ? damaged(parts) : Promise.resolve({ hash, parts });
    const p = chunk.then((c) => this.ctx.disk!.write(this.id, i, c.hash, c.parts)).then((ok) => {
      this.lastProgress = Date.now();
      if (ok) {
        if (this.bitmap.set(i)) this.dirty = true;
        this.meter.sample(this.done);
      } else {
        this.counters.rejected++;
      }
      this.ctx.changed(this.id);
      return ok;
    }, (err: unknown) => {
      this.fail(errorText(err));
      throw err;
    });
    this.pending.add(p);
    void p.catch(() => undefined).finally(() => {
      this.pending.delete(p);
      this.pendingBytes -= bytes;
    });
    return p;
  }

  /** settle — waits for chunks still being checked and written, so `need` and the final check see them. */
  private async settle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async sendNeed(session: ReceiverSession): Promise<void> {
    if (this.rec.state !== 'verified') await this.ensureOpen();
    await this.settle();
    if (this.session === session) session.sendNeed(this.bitmap.missing(LIMITS.ranges));
  }

  private async finish(sha: string): Promise<void> {
    const session = this.session;
    if (this.rec.state === 'verified') {
      // The sender missed our answer (the channel dropped): tell it again.
      session?.sendResult(this.rec.sha256 === sha, this.rec.sha256!);
      return;
    }
    await this.settle();
    if (!this.bitmap.complete) {
      if (session) await this.sendNeed(session);
      return;
    }
    this.setStatus('verifying');
    await this.ensureOpen();
    const ours = await this.ctx.disk!.digest(this.id);
    const ok = ours === sha;
    session?.sendResult(ok, ours);
    if (!ok) {
      this.rec.sha256 = ours;
      this.report('failed', ours);
      await this.end('failed', `The received file does not match: its SHA-256 is ${ours}, the sender’s is ${sha}.`);
      return;
    }
    this.dirty = true;
    await this.persist();
    Object.assign(this.rec, { state: 'verified', sha256: ours, updatedAt: Date.now() });
    await this.ctx.disk!.close(this.id);
    this.opened = null;
    await this.ctx.store?.put('in', this.rec).catch(() => undefined);
    this.status = 'verified';
    this.ctx.changed(this.id);
    this.ctx.notice(`“${this.rec.name}” from ${this.rec.peerName} arrived intact.`, 'success');
    // The room's ledger says "verified" on this check alone, never on the sender's word.
    this.report('verified', ours);
    this.ctx.settled(this.id);
  }

  /** report — records our own whole-file check in the room's ledger (rooms only). */
  private report(state: 'verified' | 'failed', sha256: string): void {
    if (!this.sessionPeer) return;
    this.ctx.report?.({ transferId: this.transferId, from: this.sessionPeer, name: this.rec.name, size: this.rec.size, sha256, state });
  }

  private fail(error: string): void {
    if (this.final) return;
    this.session?.cancel('failed');
    for (const p of this.sessionPeer ? [this.sessionPeer] : []) this.ctx.signal(p, { t: 'cancel', ids: [this.transferId], reason: 'failed' });
    void this.end('failed', error);
  }

  /** end — a final status other than verified: the partial file is deleted. */
  private async end(status: TransferStatus, error: string | null = null): Promise<void> {
    if (this.final) return;
    this.status = status;
    this.error = error;
    this.closeSession();
    this.ctx.changed(this.id);
    this.ctx.settled(this.id);
    await this.remove();
  }

  /** tamper — DebugHooks.corrupt: flips the middle byte of the chunk made of `parts`. */
  private tamper(parts: ArrayBuffer[]): void {
    if (this.ctx.debug.corrupt <= 0 || !parts.length) return;
    this.ctx.debug.corrupt--;
    let at = parts.reduce((n, b) => n + b.byteLength, 0) >> 1;
    for (const b of parts) {
      if (at < b.byteLength) {
        new Uint8Array(b)[at]! ^= 0xff;
        return;
      }
      at -= b.byteLength;
    }
  }
}

/**
 * damaged — DebugHooks.corruptDisk: what a faulty disk would keep of `data` (one bit flipped),
 * with the hash of the damaged bytes, so the chunk check passes and only the final SHA-256 of
 * the whole file, read back from disk, can notice.
 */
async function damaged(parts: ArrayBuffer[]): Promise<{ hash: string; parts: ArrayBuffer[] }> {
  new Uint8Array(parts[0]!)[0]! ^= 1;
  const whole = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    whole.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return { hash: toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', whole))), parts };
}
