// One sending session on one data channel: sends the chunks the receiver says it lacks, paced, and ends with the file's SHA-256.
import { validRanges, type Bitmap, type Range } from './bitmap.js';
import { ChannelSession, SendPacer } from './channel-session.js';
import { parseChannel, type ChannelMessage } from './messages.js';
import type { FileSource } from './source.js';
import { MESSAGE_BYTES, type Tuning } from './tuning.js';

/** SenderHooks — what a session reports to its transfer. */
export interface SenderHooks {
  /** progress — chunks were acknowledged (verified and written by the receiver). */
  progress(): void;
  sent(index: number, bytes: number): void;
  rejected(index: number): void;
  /** ended — the whole-file hash went out; the receiver's result follows. */
  ended(sha256: string): void;
  result(ok: boolean, sha256: string): void;
  cancelled(reason: 'cancelled' | 'failed'): void;
  /** failed — reading the file failed here (it changed, or is gone). */
  failed(err: Error): void;
  /** closed — the channel is gone before the end. */
  closed(): void;
}

/**
 * SenderSession — the sender waits for `need` (the receiver is the authority on what it
 * has), sends those chunks as a JSON header plus ≤ 64 KiB binary messages, and keeps at most
 * `windowBytes` unacknowledged and `highWater` buffered. A `nack` puts a chunk back first.
 */
export class SenderSession extends ChannelSession {
  private ranges: Range[] = [];
  private readonly retry: number[] = [];
  private readonly inflight = new Map<number, number>();
  private inflightBytes = 0;
  private more = false;
  private running = false;
  private wake: (() => void) | null = null;
  private readonly count: number;
  private sentHere = 0;
  private readonly pacer: SendPacer;

  /** `stallAfter` (tests only, DebugHooks.stallSender): stop sending after that many chunks, channel and pings kept up. */
  constructor(dc: RTCDataChannel, private readonly src: FileSource, private readonly acked: Bitmap, private readonly hooks: SenderHooks, private readonly tune: Tuning, private readonly stallAfter: number | null = null) {
    super(dc, () => hooks.closed());
    this.count = src.count;
    this.pacer = new SendPacer(dc, tune);
    dc.addEventListener('bufferedamountlow', () => this.poke());
  }

  protected stopped(): void {
    this.poke();
  }

  protected onMessage(data: unknown): void {
    const m = typeof data === 'string' ? parseChannel(data) : null;
    if (!m) return this.protocolError();
    switch (m.t) {
      case 'need': return this.onNeed(m);
      case 'ack': {
        let grew = false;
        for (const i of m.i) if (this.land(i)) grew = this.acked.set(i) || grew;
        if (grew) this.hooks.progress();
        return this.poke();
      }
      case 'nack': {
        if (!this.land(m.i)) return;
        this.src.distrust(m.i);
        this.retry.push(m.i);
        this.hooks.rejected(m.i);
        return this.poke();
      }
      case 'ping': return;
      case 'result': return this.hooks.result(m.ok, m.sha256);
      case 'cancel': {
        this.stop(false);
        return this.hooks.cancelled(m.reason ?? 'cancelled');
      }
      default: return this.protocolError();
    }
  }

  /** land — chunk `i` is answered for; false if it was not in flight (an answer from before a `need`). */
  private land(i: number): boolean {
    const bytes = this.inflight.get(i);
    if (bytes === undefined) return false;
    this.inflight.delete(i);
    this.inflightBytes -= bytes;
    return true;
  }

  private onNeed(m: Extract<ChannelMessage, { t: 'need' }>): void {
    if (!validRanges(m.r, this.count)) return this.protocolError();
    // Everything the receiver does not ask for (up to where its list stops) it has verified.
    let at = 0;
    let grew = false;
    for (const [a, b] of m.r) {
      for (let i = at; i < a; i++) grew = this.acked.set(i) || grew;
      at = b;
    }
    if (!m.more) for (let i = at; i < this.count; i++) grew = this.acked.set(i) || grew;
    if (grew) this.hooks.progress();
    this.ranges = m.r.map(([a, b]) => [a, b]);
    this.retry.length = 0;
    this.inflight.clear();
    this.inflightBytes = 0;
    this.more = m.more;
    this.src.dropReadAhead();
    void this.pump();
  }

  /** peek — the `k`-th next chunk to send, without taking it (resent chunks first). */
  private peek(k = 0): number | null {
    if (k < this.retry.length) return this.retry[k]!;
    let skip = k - this.retry.length;
    for (const [a, b] of this.ranges) {
      if (skip < b - a) return a + skip;
      skip -= b - a;
    }
    return null;
  }

  private take(): void {
    if (this.retry.length) {
      this.retry.shift();
      return;
    }
    const r = this.ranges[0]!;
    if (++r[0] >= r[1]) this.ranges.shift();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed) {
        const i = this.peek();
        if (i === null) {
          if (this.inflight.size) {
            await this.sleep();
            continue;
          }
          if (this.more) {
            this.more = false;
            this.sendText({ t: 'sync' });
            return;
          }
          const sha256 = await this.src.finish();
          if (this.closed) return;
          this.sendText({ t: 'end', sha256 });
          this.hooks.ended(sha256);
          return;
        }
        if (this.inflightBytes >= this.tune.windowBytes || this.pacer.full() || (this.stallAfter !== null && this.sentHere >= this.stallAfter)) {
          await this.sleep();
          continue;
        }
        this.take();
        for (let k = 0; k < 4; k++) {
          const n = this.peek(k);
          if (n !== null) this.src.prefetch(n);
        }
        const { data, hash } = await this.src.chunk(i);
        if (this.closed) return;
        try {
          this.send(i, hash, data);
        } catch {
          // The channel closed under us (or its queue overflowed): resume on a new one.
          this.die();
          return;
        }
      }
    } catch (err) {
      // Reading or hashing the file failed: that is the end of this transfer.
      if (this.closed) return;
      this.close();
      this.hooks.failed(err as Error);
    } finally {
      this.running = false;
    }
  }

  private send(i: number, hash: string, data: Uint8Array<ArrayBuffer>): void {
    this.dc.send(JSON.stringify({ t: 'c', i, h: hash }));
    for (let off = 0; off < data.byteLength; off += MESSAGE_BYTES) this.dc.send(data.subarray(off, off + MESSAGE_BYTES));
    this.alive?.sent();
    this.pacer.sent();
    this.sentHere++;
    this.inflight.set(i, data.byteLength);
    this.inflightBytes += data.byteLength;
    this.hooks.sent(i, data.byteLength);
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
