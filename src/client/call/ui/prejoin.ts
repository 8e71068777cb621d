// The pre-join panel: your camera preview, the live microphone meter, a status line and Join.
import type { LocalMedia } from '../lib/media.js';
import type { MicLevel } from '../lib/speaker.js';

/** Prejoin — wraps #prejoin (the selects are the DevicePicker's). */
export class Prejoin {
  private readonly panel: HTMLElement;
  private readonly preview: HTMLVideoElement;
  private readonly tile: HTMLElement | null;
  private readonly meter: HTMLMeterElement | null;
  private readonly status: HTMLElement;
  readonly joinButton: HTMLButtonElement;
  private meterTimer: ReturnType<typeof setInterval> | null = null;
  private readonly wake = () => this.level.wake();

  constructor(root: HTMLElement, private readonly media: LocalMedia, private readonly level: MicLevel) {
    this.panel = root.querySelector<HTMLElement>('#prejoin')!;
    this.preview = root.querySelector<HTMLVideoElement>('#preview')!;
    this.tile = root.querySelector<HTMLElement>('#preview-tile');
    this.meter = root.querySelector<HTMLMeterElement>('#mic-level');
    this.status = root.querySelector<HTMLElement>('#prejoin-status')!;
    this.joinButton = root.querySelector<HTMLButtonElement>('#join-button')!;
    media.on('change', () => this.update());
    // Autoplay rules may start the meter suspended; a click or key press wakes it.
    addEventListener('pointerdown', this.wake);
    addEventListener('keydown', this.wake);
  }

  /** dispose — lets go of the page's events and the microphone meter. */
  dispose(): void {
    removeEventListener('pointerdown', this.wake);
    removeEventListener('keydown', this.wake);
    this.hide();
  }

  get visible(): boolean {
    return !this.panel.hidden;
  }

  show(status?: string): void {
    this.panel.hidden = false;
    if (status !== undefined) this.setStatus(status);
    this.update();
  }

  hide(): void {
    this.panel.hidden = true;
    this.preview.srcObject = null;
    this.stopMeter();
    this.level.close(); // the call measures levels from WebRTC statistics (see MicLevel)
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  setBusy(busy: boolean, label = 'Join'): void {
    this.joinButton.disabled = busy;
    this.joinButton.textContent = label;
  }

  /** update — preview and meter follow the current tracks. */
  update(): void {
    if (!this.visible) return;
    const video = this.media.video;
    this.tile?.classList.toggle('tile--camera-off', !video);
    const current = (this.preview.srcObject as MediaStream | null)?.getVideoTracks()[0] ?? null;
    if (current !== video) {
      this.preview.srcObject = video ? new MediaStream([video]) : null;
      if (video) this.preview.play().catch(() => undefined);
    }
    this.level.attach(this.media.audio);
    if (this.media.audio) this.startMeter();
    else this.stopMeter();
  }

  private startMeter(): void {
    if (this.meterTimer || !this.meter) return;
    // Ten updates a second reads as live and costs next to nothing (no animation frame loop).
    this.meterTimer = setInterval(() => {
      if (this.meter) this.meter.value = this.level.level();
    }, 100);
  }

  private stopMeter(): void {
    if (this.meterTimer) clearInterval(this.meterTimer);
    this.meterTimer = null;
    if (this.meter) this.meter.value = 0;
  }
}
