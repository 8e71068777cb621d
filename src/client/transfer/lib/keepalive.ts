// Liveness of a transfer channel: a ping after a quiet second, and a drop after five silent ones.

/** PING_MS / SILENT_MS — a peer that vanishes without closing (page killed, cable pulled) is noticed within seconds. */
const PING_MS = 1_000;
const SILENT_MS = 5_000;

/**
 * Keepalive — SCTP notices a dead peer only after ICE consent fails (~30 s); a transfer
 * should say "Waiting for …" sooner. Background tabs run timers about once a second, which
 * these intervals allow for.
 */
export class Keepalive {
  lastHeard = Date.now();
  private lastSent = Date.now();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(ping: () => void, dead: () => void) {
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastHeard > SILENT_MS) dead();
      else if (now - this.lastSent >= PING_MS) ping();
    }, PING_MS / 2);
  }

  heard(): void {
    this.lastHeard = Date.now();
  }

  sent(): void {
    this.lastSent = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
