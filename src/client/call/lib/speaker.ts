// Audio levels and the active speaker: a WebAudio meter for the local microphone, and a detector
// that picks the loudest voice with hysteresis so the highlight does not flicker. No DOM.

/** loudness — maps a linear level (RMS or RTP audioLevel, 0..1) to 0..1 on a -60..0 dB scale. */
export function loudness(linear: number): number {
  if (!(linear > 0)) return 0;
  return Math.max(0, Math.min(1, (20 * Math.log10(linear) + 60) / 60));
}

/**
 * MicLevel — the level of one audio track through an AnalyserNode, for the pre-join meter.
 * During a call the level comes from WebRTC's own statistics instead: an AudioContext keeps a
 * real-time thread busy, which a 6-person call on a small machine cannot spare (measured).
 */
export class MicLevel {
  private ctx: AudioContext | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private analyser: AnalyserNode | null = null;
  private buf = new Float32Array(1024);
  private track: MediaStreamTrack | null = null;

  /** attach — measure `track` (null stops measuring). */
  attach(track: MediaStreamTrack | null): void {
    if (track === this.track) return;
    this.track = track;
    this.source?.disconnect();
    this.source = null;
    if (!track) return;
    if (!this.ctx) {
      // 'playback' asks for large buffers: a meter needs no low latency, and fewer wake-ups of
      // the real-time audio thread matter on small machines.
      this.ctx = new AudioContext({ latencyHint: 'playback' });
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = 1024;
    }
    this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.source.connect(this.analyser!);
  }

  /** wake — autoplay rules may start the meter suspended: the page calls this on a click or key press. */
  wake(): void {
    if (this.ctx?.state === 'suspended') void this.ctx.resume();
  }

  /** level — 0..1 (dB scale); 0 when muted or detached. */
  level(): number {
    if (!this.analyser || !this.track || !this.track.enabled || this.track.readyState !== 'live') return 0;
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const x of this.buf) sum += x * x;
    return loudness(Math.sqrt(sum / this.buf.length));
  }

  close(): void {
    this.attach(null);
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
    this.analyser = null;
  }
}

export interface SpeakerOptions {
  intervalMs?: number;
  /** Loudness (0..1 dB scale) that counts as speaking; 0.45 ≈ -33 dB. */
  threshold?: number;
  /** The current speaker keeps the highlight at least this long. */
  holdMs?: number;
}

/**
 * SpeakerDetector — samples levels (keyed by anything, e.g. tile keys) and reports the active
 * speaker: the loudest voice above the threshold. Levels attack fast and decay slowly, and a
 * speaker keeps the highlight for `holdMs`, so short pauses between words do not move it.
 */
export class SpeakerDetector {
  private readonly smooth = new Map<string, number>();
  private current: string | null = null;
  private since = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly o: Required<SpeakerOptions>;

  private busy = false;

  constructor(private readonly sample: () => Map<string, number> | Promise<Map<string, number>>, private readonly onChange: (key: string | null) => void, opts: SpeakerOptions = {}) {
    this.o = { intervalMs: 200, threshold: 0.45, holdMs: 1_000, ...opts };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void Promise.resolve(this.sample()).then((levels) => {
        if (this.timer) this.tick(levels);
      }).finally(() => (this.busy = false));
    }, this.o.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.smooth.clear();
    this.set(null);
  }

  /** tick — feeds one sample of levels (public for tests). */
  tick(levels: Map<string, number>, now = Date.now()): void {
    for (const key of [...this.smooth.keys()]) if (!levels.has(key)) this.smooth.delete(key);
    let best: string | null = null;
    let bestLevel = this.o.threshold;
    for (const [key, level] of levels) {
      const s = Math.max(level, (this.smooth.get(key) ?? 0) * 0.8);
      this.smooth.set(key, s);
      if (s >= bestLevel) {
        best = key;
        bestLevel = s;
      }
    }
    if (best === this.current) {
      if (best) this.since = now;
      return;
    }
    const held = this.current !== null && now - this.since < this.o.holdMs && (this.smooth.get(this.current) ?? 0) >= this.o.threshold * 0.8;
    if (held) return;
    this.since = now;
    this.set(best);
  }

  private set(key: string | null): void {
    if (key === this.current) return;
    this.current = key;
    this.onChange(key);
  }
}
