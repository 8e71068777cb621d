// The call's tiles: one per person, one per shared screen or video file.
import { avatar, h, icon } from '../../shared/ui/dom.js';

/** SELF — the owner of this tab's own tiles; CAMERA — a person's main stream (camera and microphone). */
export const SELF = 'self';
export const CAMERA = 'camera';

/** TileId — whose tile (SELF or a peer id) and which of their streams (CAMERA, or a shared stream's id). */
export interface TileId {
  owner: string;
  stream?: string;
}

export interface TileInfo {
  name: string;
  userId: string;
  self?: boolean;
  kind?: 'camera' | 'screen' | 'file';
}

interface Tile {
  owner: string;
  stream: string;
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
 * CallGrid — tiles by TileId. Names are set with textContent only. A self camera tile is
 * mirrored (CSS) and its video muted, so you never hear yourself.
 */
export class CallGrid {
  private readonly tiles = new Map<string, Tile>();

  constructor(private readonly root: HTMLElement) {}

  /** upsert — creates the tile or updates its name. */
  upsert(id: TileId, info: TileInfo): void {
    const key = keyOf(id);
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
    this.tiles.set(key, { owner: id.owner, stream: id.stream ?? CAMERA, el, video, name, mutedIcon, mutedText, status, placeholder, info });
    this.place(el, info);
  }

  /** kind — what the tile shows (undefined when there is no such tile). */
  kind(id: TileId): TileInfo['kind'] {
    return this.tiles.get(keyOf(id))?.info.kind;
  }

  has(id: TileId): boolean {
    return this.tiles.has(keyOf(id));
  }

  /** ids — every tile's id, in the order they were made. */
  ids(): Required<TileId>[] {
    return [...this.tiles.values()].map((t) => ({ owner: t.owner, stream: t.stream }));
  }

  /** setStream — what the tile plays (null clears it). */
  setStream(id: TileId, stream: MediaStream | null): void {
    const t = this.tiles.get(keyOf(id));
    if (!t) return;
    if (t.video.srcObject !== stream) t.video.srcObject = stream;
    // play() is refused before any user gesture on some browsers; autoplay retries once allowed.
    if (stream) t.video.play().catch(() => undefined);
  }

  /** setVideoElement — show an element the caller plays itself (a local video file) instead. */
  setVideoElement(id: TileId, video: HTMLVideoElement): void {
    const t = this.tiles.get(keyOf(id));
    if (!t || t.video === video) return;
    t.video.replaceWith(video);
    t.video = video;
  }

  setMuted(id: TileId, muted: boolean): void {
    const t = this.tiles.get(keyOf(id));
    if (!t) return;
    t.mutedIcon.toggleAttribute('hidden', !muted);
    t.mutedText.hidden = !muted;
  }

  setCameraOff(id: TileId, off: boolean): void {
    this.tiles.get(keyOf(id))?.el.classList.toggle('tile--camera-off', off);
  }

  /** setStatus — a small note on the tile ("Connecting…"); null hides it. */
  setStatus(id: TileId, text: string | null): void {
    const t = this.tiles.get(keyOf(id));
    if (!t) return;
    t.status.textContent = text ?? '';
    t.status.hidden = text === null;
  }

  /** setSpeaking — highlights `owner`'s camera tile (null: nobody's). */
  setSpeaking(owner: string | null): void {
    for (const t of this.tiles.values()) t.el.classList.toggle('tile--speaking', t.owner === owner && t.stream === CAMERA);
  }

  remove(id: TileId): void {
    const key = keyOf(id);
    const t = this.tiles.get(key);
    if (!t) return;
    t.video.srcObject = null;
    t.el.remove();
    this.tiles.delete(key);
  }

  /** removeWhere — e.g. every tile of one peer: `(t) => t.owner === peerId`. */
  removeWhere(pred: (id: Required<TileId>) => boolean): void {
    for (const id of this.ids()) if (pred(id)) this.remove(id);
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

/** keyOf — the tile's key, also its data-key: 'self', 'self:<stream>', 'peer:<id>', 'peer:<id>:<stream>'. */
function keyOf({ owner, stream = CAMERA }: TileId): string {
  const who = owner === SELF ? SELF : `peer:${owner}`;
  return stream === CAMERA ? who : `${who}:${stream}`;
}
