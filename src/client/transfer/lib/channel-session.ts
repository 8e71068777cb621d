// What both ends of a data channel share (transfers and shared files alike): liveness pings, sending JSON control messages, and the ways a session ends.
import { Keepalive } from './keepalive.js';
import type { ChannelMessage } from './messages.js';
import type { Tuning } from './tuning.js';

/**
 * DataChannelSession — one data channel speaking JSON messages `M` (each with a `t`, `ping`
 * among them) between binary parts. A session ends by `close` (deliberately, the owner is told
 * nothing), `drop` (as a failure would), `die` (the peer went silent) or a protocol error; the
 * last two report `closed` so the owner can carry on over a fresh channel.
 */
export abstract class DataChannelSession<M extends { t: string }> {
  closed = false;
  protected alive: Keepalive | null = null;

  constructor(protected readonly dc: RTCDataChannel, private readonly onClosed: () => void) {
    dc.binaryType = 'arraybuffer';
    dc.addEventListener('message', (e: MessageEvent) => {
      if (this.closed) return;
      this.alive?.heard();
      this.onMessage(e.data);
    });
    dc.addEventListener('close', () => this.stop(true));
    const live = () => {
      if (!this.closed) this.alive = new Keepalive(() => this.sendText({ t: 'ping' } as M), () => this.die());
    };
    if (dc.readyState === 'open') live();
    else dc.addEventListener('open', live, { once: true });
  }

  close(): void {
    this.stop(false);
    this.dc.close();
  }

  /** drop — closes the channel as a failure would (both ends see `close` and resume). */
  drop(): void {
    this.dc.close();
  }

  /** stop — ends the session; `report` says whether the owner should hear about it. */
  stop(report = false): void {
    if (this.closed) return;
    this.closed = true;
    this.alive?.stop();
    this.stopped();
    if (report) this.onClosed();
  }

  protected abstract onMessage(data: unknown): void;

  /** stopped — the subclass lets go of its timers and wakes what waits. */
  protected abstract stopped(): void;

  protected sendText(m: M): void {
    try {
      if (this.dc.readyState === 'open') this.dc.send(JSON.stringify(m));
      this.alive?.sent();
    } catch {
      // The channel is going away; its close event follows.
    }
  }

  /** protocolError — a confused or hostile peer: drop the channel; the owner carries on over a fresh one. */
  protected protocolError(): void {
    this.close();
    this.onClosed();
  }

  /**
   * die — give up on this channel now, and have the owner carry on over a fresh one: the peer went
   * silent, or (the progress watchdog) it answers pings but moves nothing. Its close event may
   * take until SCTP times out; the owner must not wait for it.
   */
  die(): void {
    this.stop(true);
    this.dc.close();
  }
}

/**
 * SendPacer — how much a sending session lets sit in its channel's buffer: little for the first
 * `startMs` after its first send (a fresh channel handed megabytes at once paused for up to 2 s,
 * see Tuning.startMs), then `highWater`. The owner waits for `bufferedamountlow` while `full()`.
 */
export class SendPacer {
  private firstAt: number | null = null;

  constructor(private readonly dc: RTCDataChannel, private readonly tune: Pick<Tuning, 'highWater' | 'lowWater' | 'startMs' | 'startHighWater'>) {
    dc.bufferedAmountLowThreshold = tune.startHighWater / 4;
  }

  /** full — the channel holds all it may for now. */
  full(): boolean {
    return this.dc.bufferedAmount > this.highWater();
  }

  /** sent — something went out (the gentle start is timed from the first). */
  sent(): void {
    this.firstAt ??= performance.now();
  }

  private highWater(): number {
    if (this.firstAt === null || performance.now() - this.firstAt < this.tune.startMs) return this.tune.startHighWater;
    if (this.dc.bufferedAmountLowThreshold !== this.tune.lowWater) this.dc.bufferedAmountLowThreshold = this.tune.lowWater;
    return this.tune.highWater;
  }
}

/** ChannelSession — one data channel carrying one file of a transfer, from either end. */
export abstract class ChannelSession extends DataChannelSession<ChannelMessage> {
  /** cancel — tells the other end and closes the channel. */
  cancel(reason: 'cancelled' | 'failed' = 'cancelled'): void {
    this.sendText({ t: 'cancel', reason });
    this.close();
  }
}
