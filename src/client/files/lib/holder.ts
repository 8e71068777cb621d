// The holder's side of one shared-files channel: answers a downloader's manifest and chunk requests from a local file.
import { DataChannelSession, SendPacer } from '../../transfer/lib/channel-session.js';
import { DEFAULT_TUNING } from '../../transfer/lib/tuning.js';
import { CHUNK, chunkBytes, chunkCount } from './manifest.js';
import { parseWire, sendParts, type Wire } from './wire.js';

/** HeldFile — a file this tab can serve: its bytes (a picked File or a disk-backed OPFS copy) and its chunk hashes. */
export interface HeldFile {
  blob: File;
  hashes: Uint8Array;
}

// An honest downloader keeps a few chunks in flight; more queued than this is a flood.
const MAX_QUEUE = 64;
// Consecutive requested chunks are read with one File.slice: each read is a round trip to the
// browser process, and a few MiB at once cost about half the CPU per GiB of 1 MiB reads
// (measured for transfers, see transfer/lib/source.ts).
const RUN_CHUNKS = 4;

/** Run — consecutive chunks read together. */
interface Run {
  indices: number[];
  bytes: Promise<ArrayBuffer>;
}

/**
 * HolderSession — serves one file on one channel, in request order, one read ahead.
 * Anything malformed closes the channel: a downloader that lies loses only its own channel.
 */
export class HolderSession extends DataChannelSession<Wire> {
  private readonly queue: number[] = [];
  private running = false;
  private wake: (() => void) | null = null;
  private readonly count: number;
  /** Paced as transfers are: a gentle start, then at most 4 MiB unsent (Chromium fails a send past 16 MiB). */
  private readonly pacer: SendPacer;

  constructor(dc: RTCDataChannel, private readonly file: HeldFile) {
    // Nobody is told when a holder's channel ends: the downloader asks again if it wants more.
    super(dc, () => {});
    this.count = chunkCount(file.blob.size);
    this.pacer = new SendPacer(dc, DEFAULT_TUNING);
    dc.addEventListener('bufferedamountlow', () => this.poke());
  }

  protected stopped(): void {
    this.poke();
  }

  protected onMessage(data: unknown): void {
    const m = typeof data === 'string' ? parseWire(data) : null;
    if (!m) return this.close();
    switch (m.t) {
      case 'manifest': {
        this.sendText({ t: 'manifest', n: this.count });
        try {
          sendParts(this.dc, this.file.hashes as Uint8Array<ArrayBuffer>);
        } catch {
          this.close();
        }
        return;
      }
      case 'get': {
        if (m.i.some((i) => i >= this.count) || this.queue.length + m.i.length > MAX_QUEUE) return this.close();
        this.queue.push(...m.i);
        void this.pump();
        return;
      }
      case 'ping': return;
      default: return this.close();
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let ahead: Run | null = null;
      while (!this.closed && (ahead || this.queue.length)) {
        const run: Run = ahead ?? this.read(this.takeRun());
        // The next run is read while this one is sent.
        ahead = this.queue.length ? this.read(this.takeRun()) : null;
        const bytes = new Uint8Array(await run.bytes);
        let off = 0;
        for (const i of run.indices) {
          const len = chunkBytes(i, this.file.blob.size);
          while (!this.closed && this.pacer.full()) await new Promise<void>((r) => (this.wake = r));
          if (this.closed) return;
          this.sendText({ t: 'c', i });
          sendParts(this.dc, bytes.subarray(off, off + len));
          this.pacer.sent();
          off += len;
        }
      }
    } catch {
      // The file went away under us (moved, deleted) or the channel failed: the downloader asks someone else.
      this.close();
    } finally {
      this.running = false;
    }
  }

  /** takeRun — the requests at the head of the queue that are consecutive chunks (read together). */
  private takeRun(): number[] {
    const run = [this.queue.shift()!];
    while (run.length < RUN_CHUNKS && this.queue[0] === run[run.length - 1]! + 1) run.push(this.queue.shift()!);
    return run;
  }

  private read(indices: number[]): Run {
    const first = indices[0]!;
    const last = indices[indices.length - 1]!;
    const bytes = this.file.blob.slice(first * CHUNK, last * CHUNK + chunkBytes(last, this.file.blob.size)).arrayBuffer();
    bytes.catch(() => undefined);
    return { indices, bytes };
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
