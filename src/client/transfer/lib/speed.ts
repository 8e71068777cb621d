// Speed and time left for a progress row, from a short sliding window of samples.

const WINDOW_MS = 3_000;

/** SpeedMeter — bytes per second over the last few seconds (0 while stalled). */
export class SpeedMeter {
  private samples: { t: number; bytes: number }[] = [];

  /** sample — the total bytes done so far, now. */
  sample(bytes: number, now = performance.now()): void {
    this.samples.push({ t: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  speed(now = performance.now()): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last === first) return 0;
    // A stall shows as a falling speed rather than the last good figure forever.
    const span = Math.max(now, last.t) - first.t;
    return span > 0 ? ((last.bytes - first.bytes) * 1000) / span : 0;
  }
}

/** formatDuration — 75 → "1 min 15 s", 3 → "3 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
