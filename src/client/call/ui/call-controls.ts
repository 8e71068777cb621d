// The call's control bar: real buttons whose accessible names follow their state, keyboard
// shortcuts (M, V, S, P) and arrow-key movement inside the toolbar.
import { h, icon, isTyping, setIcon } from '../../shared/ui/dom.js';

export interface ControlActions {
  mic(): void;
  camera(): void;
  share(): void;
  film(): void;
  devices(): void;
  leave(): void;
}

export interface ControlState {
  muted: boolean;
  cameraOff: boolean;
  sharing: boolean;
  playing: boolean;
}

interface Toggle {
  btn: HTMLButtonElement;
  svg: SVGSVGElement;
  key?: string;
}

/** Shortcut keys (documented on the page in room.pug's "Keyboard shortcuts"). Leave has none on purpose: a stray key must never end a call. */
const SHORTCUTS = { mic: 'M', camera: 'V', share: 'S', film: 'P' } as const;

/**
 * CallControls — fills `.call-controls[role=toolbar]`. "Off" states (muted, camera off) are
 * shown with data-off, "on" states (sharing, playing) with data-on; aria-pressed is not used
 * because the names already say what a press will do.
 */
export class CallControls {
  private readonly mic: Toggle;
  private readonly camera: Toggle;
  private readonly share: Toggle | null;
  private readonly film: Toggle;
  private readonly buttons: HTMLButtonElement[];

  constructor(toolbar: HTMLElement, actions: ControlActions, opts: { canShare: boolean }) {
    this.mic = this.button('mic', SHORTCUTS.mic, actions.mic);
    this.camera = this.button('video', SHORTCUTS.camera, actions.camera);
    this.share = opts.canShare ? this.button('monitor-up', SHORTCUTS.share, actions.share) : null;
    this.film = this.button('film', SHORTCUTS.film, actions.film);
    const devices = this.button('settings', undefined, actions.devices);
    label(devices, 'Camera and microphone settings');
    const leave = this.button('phone-off', undefined, actions.leave);
    leave.btn.classList.add('btn-round--hangup');
    label(leave, 'Leave');
    this.buttons = [this.mic, this.camera, this.share, this.film, devices, leave].filter((t): t is Toggle => t !== null).map((t) => t.btn);
    toolbar.replaceChildren(...this.buttons);
    this.rove(0);
    toolbar.addEventListener('keydown', (e) => this.onArrow(e));
    this.set({ muted: false, cameraOff: false, sharing: false, playing: false });
  }

  /** set — updates names, icons and looks to the current state. */
  set(s: ControlState): void {
    toggle(this.mic, s.muted ? 'Unmute microphone' : 'Mute microphone', s.muted ? 'mic-off' : 'mic', 'off', s.muted);
    toggle(this.camera, s.cameraOff ? 'Turn on camera' : 'Turn off camera', s.cameraOff ? 'video-off' : 'video', 'off', s.cameraOff);
    if (this.share) toggle(this.share, s.sharing ? 'Stop sharing' : 'Share screen', s.sharing ? 'monitor-x' : 'monitor-up', 'on', s.sharing);
    toggle(this.film, s.playing ? 'Stop the video file' : 'Play a video file', s.playing ? 'x' : 'film', 'on', s.playing);
  }

  /** shortcuts — listens on the document while `active()` (the call is showing). */
  shortcuts(active: () => boolean, actions: ControlActions): () => void {
    const byKey: Record<string, () => void> = { m: actions.mic, v: actions.camera, p: actions.film };
    if (this.share) byKey.s = actions.share;
    const onKey = (e: KeyboardEvent) => {
      if (!active() || e.repeat || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const fn = byKey[e.key.toLowerCase()];
      if (!fn) return;
      e.preventDefault();
      fn();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }

  private button(iconName: string, key: string | undefined, onClick: () => void): Toggle {
    const svg = icon(iconName);
    const btn = h('button', { type: 'button', class: 'btn-round', 'aria-keyshortcuts': key }, svg);
    btn.addEventListener('click', () => onClick());
    return { btn, svg, key };
  }

  /** Roving tabindex: the toolbar is one Tab stop; arrows, Home and End move inside it. */
  private rove(index: number): void {
    this.buttons.forEach((b, i) => (b.tabIndex = i === index ? 0 : -1));
  }

  private onArrow(e: KeyboardEvent): void {
    const i = this.buttons.indexOf(e.target as HTMLButtonElement);
    if (i < 0) return;
    const n = this.buttons.length;
    const next = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: n - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const j = (next + n) % n;
    this.rove(j);
    this.buttons[j]!.focus();
  }
}

function label(t: Toggle, name: string): void {
  t.btn.setAttribute('aria-label', name);
  t.btn.title = t.key ? `${name} (${t.key})` : name;
}

function toggle(t: Toggle, name: string, iconName: string, flag: 'on' | 'off', active: boolean): void {
  label(t, name);
  setIcon(t.svg, iconName);
  t.btn.toggleAttribute(`data-${flag}`, active);
}
