// Transfer tuning: chunk size and flow-control limits, chosen by measurement (numbers below).

/**
 * Tuning — the knobs of one sending session.
 *
 * Measured with scripts/bench/transfer.ts on the 2-core test box (Chromium 156, two tabs,
 * loopback, receiver on an on-disk profile), 128 MiB per run, hashing and verification on;
 * MiB/s, and CPU seconds per GiB summed over all browser processes (raw data channel: ~20–29
 * MiB/s, 60–73 CPU s/GiB):
 *
 *   chunk    MiB/s (2 runs)   CPU s/GiB    peak receiver heap
 *   64 KiB   23.4 / 22.4      84.7 / 87.9  22–67 MiB
 *   128 KiB  22.8 / 23.1      86.0 / 85.0  37–38 MiB
 *   256 KiB  23.8 / 23.2      82.6 / 84.5  52–57 MiB
 *   512 KiB  21.8 / 22.8      89.0 / 85.0  68–70 MiB
 *   1 MiB    23.3 / 22.6      83.1 / 86.0  67 MiB
 *
 * Before three fixes the curve was steep (64 KiB: ~175 CPU s/GiB, 50–60 % of raw; 256 KiB:
 * ~110): a File.slice() read per chunk (now 4 MiB blocks, see source.ts), an ack message per
 * chunk (now batched, see receiver.ts) and a CSS-animated progress bar. Now it is flat, so the
 * size is chosen for everything else: 256 KiB keeps a bad chunk or a drop cheap to resend and
 * the bitmap fine-grained, with a quarter of 64 KiB's chunk headers and stored hashes
 * (4,096 per GiB: 128 KiB). The window made no measurable difference between 4, 8 and 16 MiB
 * (again at 512 MiB, 2 runs each, as % of raw: 83–90 / 76–84 / 88–96, within the noise: both
 * browsers share 2 saturated cores, so CPU per GiB decides, not the round trip); 4 MiB bounds what a drop
 * can make us resend to one window plus one chunk (4.25 MiB; measured after a drop at 50 % of
 * 50 MiB: 0.5–3.5 MiB).
 */
export interface Tuning {
  /** Bytes per chunk: the unit that is hashed, verified, written, acknowledged and resent. */
  chunkSize: number;
  /** Unacknowledged bytes allowed in flight: bounds the receiver's memory and what a drop loses. */
  windowBytes: number;
  /** Pause sending while the channel buffers more than this (Chromium throws at 16 MiB). */
  highWater: number;
  /** Resume when the buffer drains to this (`bufferedAmountLowThreshold`). */
  lowWater: number;
  /**
   * For this long after a session's first chunk, buffer at most `startHighWater` (and resume at
   * a quarter of it). Measured (raw blast, 64 MiB, loopback): a fresh channel that is handed
   * 4 MiB at once moves ~2 MiB and then nothing for 1.5–2.4 s (a retransmission timeout, the
   * same with the connection's path settled beforehand); buffering ≤ 256 KiB for the first
   * second left a 0.1–0.3 s hiccup, 512 KiB or more the full stall.
   */
  startMs: number;
  startHighWater: number;
  /**
   * Receiver: a session that is alive (pings flow) but brings no bytes this long is dropped and
   * resumed on a new channel. Far above a healthy gap (a 256 KiB chunk over a 1 Mbit/s link
   * takes 2 s; the sender re-reading a 1 GiB file to finish its hash, ~4 s).
   */
  stallMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  chunkSize: 256 * 1024,
  windowBytes: 4 * 1024 * 1024,
  highWater: 4 * 1024 * 1024,
  lowWater: 1024 * 1024,
  startMs: 1_000,
  startHighWater: 128 * 1024,
  stallMs: 15_000,
};

/** MESSAGE_BYTES — binary message size on the wire; a chunk spans several (interoperable limit: 64 KiB). */
export const MESSAGE_BYTES = 64 * 1024;
