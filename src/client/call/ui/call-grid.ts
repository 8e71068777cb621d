// The call's tiles (see hearth.css §13): one per person, one per shared screen or video file.
import { avatar, h, icon } from '../../shared/ui/dom.js';

export interface TileInfo {
  name: string;
  userId: string;
  self?: boolean;
  kind?: 'camera' | 'screen' | 'file';
}

interface Tile {
  el: HTMLDivElement;
  video: HTMLVideoElement;
  name: HTMLSpanElement;
  mutedIcon: SVGSVGElement;
  mutedText: HTMLSpanElement;
  status: HTMLSpanElement;
  placeholder: HTMLDivElement;
  info: TileInfo;
}

/**
 * CallGrid — tiles keyed by the caller's choice ('self', 'peer:<id>', 'peer:<id>:<stream>' …).
 * Names are set with textContent only. A self camera tile is mirrored (CSS) and its video muted,
 * so you never hear yourself.
 */
export class CallGrid {
  private readonly tiles = new Map<string, Tile>();

  constructor(private readonly root: HTMLElement) {}

  /** upsert — creates the tile or updates its name. */
  upsert(key: string, info: TileInfo): void {
    const t = this.tiles.get(key);
    if (t) {
      if (t.info.name !== info.name) {
        t.name.textContent = info.name;
        t.el.setAttribute('aria-label', info.name);
        t.placeholder.replaceChildren(avatar(info.name, 'avatar--xl'));
      }
      if (info.userId) t.el.dataset.userId = info.userId;
      t.info = { ...t.info, name: info.name, userId: info.userId || t.info.userId };
      return;
    }
    const kind = info.kind ?? 'camera';
    const video = h('video', { autoplay: true, playsinline: true });
    // Your own camera must never play back your own voice; the muted attribute and property both.
    if (info.self && kind === 'camera') {
      video.muted = true;
      video.setAttribute('muted', '');
    }
    const mutedIcon = icon('mic-off', 'tile-muted');
    mutedIcon.setAttribute('hidden', '');
    const mutedText = h('span', { class: 'visually-hidden', hidden: true }, 'microphone off, ');
    const name = h('span', { class: 'tile-name' }, info.name);
    const status = h('span', { class: 'tile-status', hidden: true });
    const placeholder = h('div', { class: 'tile-placeholder' }, avatar(info.name, 'avatar--xl'));
    const classes = ['tile', info.self && 'tile--self', kind !== 'camera' && 'tile--screen'].filter(Boolean).join(' ');
    const el = h('div', { class: classes, role: 'group', 'aria-label': info.name, 'data-user-id': info.userId, 'data-key': key, 'data-kind': kind },
      video, placeholder, h('div', { class: 'tile-label' }, mutedIcon, mutedText, name), status);
    this.tiles.set(key, { el, video, name, mutedIcon, mutedText, status, placeholder, info });
    this.place(el, info);
  }

  /** kind — what the tile shows (undefined when there is no such tile). */
  kind(key: string): TileInfo['kind'] {
    return this.tiles.get(key)?.info.kind;
  }

  has(key: string): boolean {
    return this.tiles.has(key);
  }

  keys(): string[] {
    return [...this.tiles.keys()];
  }

  /** setStream — what the tile plays (null clears it). */
  setStream(key: string, stream: MediaStream | null): void {
    const t = this.tiles.get(key);
    if (!t) return;
    if (t.video.srcObject !== stream) t.video.srcObject = stream;
    // play() is refused before any user gesture on some browsers; autoplay retries once allowed.
    if (stream) t.video.play().catch(() => undefined);
  }

  /** setVideoElement — show an element the caller plays itself (a local video file) instead. */
  setVideoElement(key: string, video: HTMLVideoElement): void {
    const t = this.tiles.get(key);
    if (!t || t.video === video) return;
    t.video.replaceWith(video);
    t.video = video;
  }

  setMuted(key: string, muted: boolean): void {
    const t = this.tiles.get(key);
    if (!t) return;
    t.mutedIcon.toggleAttribute('hidden', !muted);
    t.mutedText.hidden = !muted;
  }

  setCameraOff(key: string, off: boolean): void {
    this.tiles.get(key)?.el.classList.toggle('tile--camera-off', off);
  }

  /** setStatus — a small note on the tile ("Connecting…"); null hides it. */
  setStatus(key: string, text: string | null): void {
    const t = this.tiles.get(key);
    if (!t) return;
    t.status.textContent = text ?? '';
    t.status.hidden = text === null;
  }

  setSpeaking(key: string | null): void {
    for (const [k, t] of this.tiles) t.el.classList.toggle('tile--speaking', k === key);
  }

  remove(key: string): void {
    const t = this.tiles.get(key);
    if (!t) return;
    t.video.srcObject = null;
    t.el.remove();
    this.tiles.delete(key);
  }

  /** removeWhere — e.g. every tile of one peer: `k => k.startsWith('peer:abc')`. */
  removeWhere(pred: (key: string) => boolean): void {
    for (const k of this.keys()) if (pred(k)) this.remove(k);
  }

  clear(): void {
    this.removeWhere(() => true);
  }

  /** place — your camera first, then people in arrival order, each shared stream right after its owner. */
  private place(el: HTMLElement, info: TileInfo): void {
    if (info.kind && info.kind !== 'camera') {
      const owner = [...this.root.children].filter((c) => (c as HTMLElement).dataset.userId === info.userId);
      const last = owner[owner.length - 1];
      if (last) {
        last.after(el);
        return;
      }
    }
    if (info.self && info.kind === 'camera') this.root.prepend(el);
    else this.root.append(el);
  }
}
