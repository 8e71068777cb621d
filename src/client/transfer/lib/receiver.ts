// One receiving session on one data channel: reassembles chunks from ≤ 64 KiB messages, has them verified and written, acks or nacks.
import type { Range } from './bitmap.js';
import { chunkLength } from './bitmap.js';
import { ChannelSession } from './channel-session.js';
import { LIMITS, parseChannel } from './messages.js';

/** ReceiverHooks — what a session asks of, and reports to, its transfer. */
export interface ReceiverHooks {
  has(index: number): boolean;
  /** backlog — bytes handed to the disk and not yet written. */
  backlog(): number;
  /**
   * write — verify against `hash` and store; false when the bytes do not match (nothing written).
   * `parts` are the chunk's messages as they arrived (handed on, never copied here).
   */
  write(index: number, hash: string, parts: ArrayBuffer[]): Promise<boolean>;
  received(bytes: number): void;
  /** sync — the sender finished the ranges it was given: answer with a fresh `need`. */
  sync(): void;
  end(sha256: string): void;
  cancelled(reason: 'cancelled' | 'failed'): void;
  closed(): void;
}

// An honest sender keeps a few MiB unacknowledged (its window); one that floods us is cut off
// rather than allowed to queue up the page's memory behind a slow disk.
const MAX_BACKLOG = 32 * 1024 * 1024;
/** Acks are sent per this many chunks, or after this long, whichever comes first. */
const ACK_BATCH = 8;
const ACK_DELAY_MS = 15;

interface Assembly {
  index: number;
  hash: string;
  /** The chunk's messages so far, kept as they came: the disk worker puts them together. */
  parts: ArrayBuffer[];
  length: number;
  got: number;
}

/**
 * ReceiverSession — never trusts the sender's framing: a chunk header must name a chunk of
 * this file, its bytes must add up to exactly that chunk's length in messages of at most
 * 64 KiB, and anything else drops the channel (the transfer then resumes on a new one).
 */
export class ReceiverSession extends ChannelSession {
  private cur: Assembly | null = null;
  private readonly acks: number[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(dc: RTCDataChannel, private readonly geo: { size: number; chunkSize: number; count: number }, private readonly hooks: ReceiverHooks, private readonly tamper: (parts: ArrayBuffer[]) => void = () => {}) {
    super(dc, () => hooks.closed());
  }

  sendNeed(need: { ranges: Range[]; more: boolean }): void {
    this.sendText({ t: 'need', r: need.ranges, more: need.more });
  }

  sendResult(ok: boolean, sha256: string): void {
    this.sendText({ t: 'result', ok, sha256 });
  }

  protected stopped(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.cur = null;
  }

  protected onMessage(data: unknown): void {
    if (data instanceof ArrayBuffer) return this.onBytes(data);
    const m = typeof data === 'string' ? parseChannel(data) : null;
    if (!m) return this.protocolError();
    switch (m.t) {
      case 'c': {
        if (this.cur || m.i >= this.geo.count || this.hooks.backlog() > MAX_BACKLOG) return this.protocolError();
        this.cur = { index: m.i, hash: m.h, parts: [], length: chunkLength(m.i, this.geo.size, this.geo.chunkSize), got: 0 };
        return;
      }
      case 'sync': return this.cur ? this.protocolError() : this.hooks.sync();
      case 'end': return this.cur ? this.protocolError() : this.hooks.end(m.sha256);
      case 'cancel': {
        this.stop(false);
        return this.hooks.cancelled(m.reason ?? 'cancelled');
      }
      case 'ping': return;
      default: return this.protocolError();
    }
  }

  private onBytes(data: ArrayBuffer): void {
    const c = this.cur;
    if (!c || data.byteLength === 0 || data.byteLength > LIMITS.message || c.got + data.byteLength > c.length) return this.protocolError();
    // No copy here: the parts go to the disk worker as they are (transferred, not cloned).
    c.parts.push(data);
    c.got += data.byteLength;
    this.hooks.received(data.byteLength);
    if (c.got < c.length) return;
    this.cur = null;
    if (this.hooks.has(c.index)) {
      // Sent twice (its ack was lost in a drop): already on disk.
      this.ack(c.index);
      return;
    }
    this.tamper(c.parts);
    void this.hooks.write(c.index, c.hash, c.parts).then(
      (ok) => (ok ? this.ack(c.index) : this.sendText({ t: 'nack', i: c.index })),
      () => this.close(), // the disk failed: the transfer reports it
    );
  }

  // Acks go out in batches: every message costs both sides DTLS and SCTP work, and one per
  // chunk in the reverse direction measurably slowed transfers down.
  private ack(i: number): void {
    this.acks.push(i);
    if (this.acks.length >= ACK_BATCH) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ACK_DELAY_MS);
  }

  private flushAcks(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.acks.length) this.sendText({ t: 'ack', i: this.acks.splice(0) });
  }
}
