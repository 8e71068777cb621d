// A ringtone synthesised with WebAudio (nothing fetched): two tones, 1.5 s on, 3 s off, until stopped.

/** Ringtone — plays only where the browser lets the page make sound; callers show a visual ring regardless. */
export class Ringtone {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** start — true if sound is actually playing (false when autoplay rules keep it silent). */
  async start(): Promise<boolean> {
    if (this.ctx) return this.ctx.state === 'running';
    try {
      this.ctx = new AudioContext();
      if (this.ctx.state !== 'running') await Promise.race([this.ctx.resume(), new Promise((r) => setTimeout(r, 200))]);
    } catch {
      return false;
    }
    if (this.ctx.state !== 'running') return false;
    const burst = () => this.burst();
    burst();
    this.timer = setInterval(burst, 4_500);
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }

  private burst(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const t = ctx.currentTime;
    // Gentle on/off ramps avoid clicks; the 440 + 480 Hz pair is the familiar ring sound.
    for (let i = 0; i < 2; i++) {
      const start = t + i * 0.75;
      gain.gain.setTargetAtTime(0.12, start, 0.02);
      gain.gain.setTargetAtTime(0, start + 0.6, 0.03);
    }
    for (const f of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start(t);
      osc.stop(t + 1.6);
    }
  }
}
