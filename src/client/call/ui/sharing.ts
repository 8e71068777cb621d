// Sharing into the call besides the camera: the screen (getDisplayMedia) and a local video file
// played through captureStream(), so everyone watches it stream from this browser, no upload.
import type { Mesh } from '../lib/mesh.js';
import { SELF, type CallGrid, type TileId } from './call-grid.js';
import { h } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';

/** canShareScreen — phones and some browsers have no getDisplayMedia: the button is left out. */
export const canShareScreen = (): boolean => typeof navigator.mediaDevices?.getDisplayMedia === 'function';

/**
 * openScreen — asks the browser for a screen, window or tab; null when the user cancels.
 * `onEnded` runs when sharing stops from the browser's own UI ("Stop sharing").
 */
async function openScreen(onEnded: () => void): Promise<MediaStream | null> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
  } catch (err) {
    if ((err as Error).name === 'NotAllowedError' || (err as Error).name === 'AbortError') return null; // cancelled
    throw new Error(`Your screen could not be shared (${(err as Error).name || 'unknown error'}).`);
  }
  stream.getVideoTracks()[0]?.addEventListener('ended', onEnded, { once: true });
  return stream;
}

type CapturingVideo = HTMLVideoElement & { captureStream(): MediaStream };

const SCREEN_TILE: TileId = { owner: SELF, stream: 'screen' };
const FILM_TILE: TileId = { owner: SELF, stream: 'file' };

/**
 * FilmSource — what FilmShare plays: a URL the `<video>` can load (a local file's object URL, or a
 * shared file's stream URL that fetches from its holders), its name, and what to let go when it stops.
 */
export interface FilmSource {
  url: string;
  name: string;
  release(): void;
}

/**
 * FilmShare — "Play a video file": a labelled file input (opened by the toolbar button), a
 * `<video>` that plays the file or a shared one (the presenter watches and hears it in their own
 * tile), and the stream captured from it for the others.
 */
export class FilmShare {
  readonly input: HTMLInputElement;
  video: HTMLVideoElement | null = null;
  stream: MediaStream | null = null;
  private source: FilmSource | null = null;

  constructor(container: HTMLElement, private readonly onStart: (stream: MediaStream, video: HTMLVideoElement, name: string) => void, private readonly onStop: () => void, private readonly onError: (msg: string) => void) {
    this.input = h('input', { type: 'file', accept: 'video/*', class: 'visually-hidden', id: 'film-file', 'aria-label': 'Video file to play', tabindex: -1 });
    this.input.addEventListener('change', () => {
      const file = this.input.files?.[0];
      this.input.value = '';
      if (!file) return;
      const url = URL.createObjectURL(file);
      void this.play({ url, name: file.name, release: () => URL.revokeObjectURL(url) }, 'Try an MP4 (H.264) or WebM file.');
    });
    container.append(this.input);
  }

  get playing(): boolean {
    return this.stream !== null;
  }

  /** pick — opens the file picker (must run inside a click or key press). */
  pick(): void {
    this.input.click();
  }

  stop(): void {
    if (!this.video) return;
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    this.stream?.getTracks().forEach((t) => t.stop());
    this.source?.release();
    const wasPlaying = this.stream !== null;
    this.video = null;
    this.stream = null;
    this.source = null;
    if (wasPlaying) this.onStop();
  }

  /** play — plays `source` (instead of what played before) and captures it; `hint` follows the error when it cannot play. */
  async play(source: FilmSource, hint = ''): Promise<void> {
    this.stop();
    const video = h('video', { playsinline: true, class: 'film-video' }) as CapturingVideo;
    video.src = source.url;
    this.video = video;
    this.source = source;
    try {
      await video.play().catch(async (err: Error) => {
        // Autoplay with sound can be refused once the click is long past: play muted rather than not at all.
        if (err.name !== 'NotAllowedError') throw err;
        video.muted = true;
        await video.play();
      });
      if (this.video !== video) return;
      const stream = video.captureStream();
      if (stream.getVideoTracks().length === 0) await new Promise((r) => stream.addEventListener('addtrack', r, { once: true }));
      if (this.video !== video) return;
      this.stream = stream;
      video.addEventListener('ended', () => this.stop(), { once: true });
      this.onStart(stream, video, source.name);
    } catch {
      // Stopped meanwhile (another source, or the call ended): nothing to say.
      if (this.video !== video) return;
      this.stop();
      this.onError(`“${source.name}” cannot be played in this browser.${hint ? ` ${hint}` : ''}`);
    }
  }
}

/**
 * LocalShares — what this tab shares besides its camera: a screen and a video file, each sent
 * as its own stream and shown as its own tile ("Your screen", "Your video file").
 */
export class LocalShares {
  private screen: MediaStream | null = null;
  private readonly film: FilmShare;

  constructor(call: HTMLElement, private readonly mesh: Mesh, private readonly grid: CallGrid, private readonly o: { active(): boolean; selfUserId(): string; changed(): void }) {
    this.film = new FilmShare(call, (s, v) => this.onFilm(s, v), () => this.onFilmStopped(), (m) => toast(m, 'error'));
  }

  get sharing(): boolean {
    return this.screen !== null;
  }

  get playing(): boolean {
    return this.film.playing;
  }

  async toggleScreen(): Promise<void> {
    if (this.screen) return this.stopScreen();
    let stream: MediaStream | null;
    try {
      stream = await openScreen(() => this.stopScreen());
    } catch (err) {
      toast((err as Error).message, 'error');
      return;
    }
    if (!stream) return;
    if (!this.o.active() || this.screen) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    this.screen = stream;
    this.mesh.addStream(stream, 'screen');
    this.grid.upsert(SCREEN_TILE, { name: 'Your screen', userId: this.o.selfUserId(), self: true, kind: 'screen' });
    this.grid.setStream(SCREEN_TILE, stream);
    this.o.changed();
  }

  /** playShared — plays a shared video to the room (instead of any video file playing); released when it stops. */
  playShared(source: FilmSource): void {
    if (!this.o.active()) return source.release();
    void this.film.play(source);
  }

  /** toggleFilm — opens the file picker, or stops the file that is playing. */
  toggleFilm(): void {
    if (this.film.playing) this.film.stop();
    else this.film.pick();
  }

  stopAll(): void {
    this.stopScreen();
    this.film.stop();
  }

  private stopScreen(): void {
    const s = this.screen;
    if (!s) return;
    this.screen = null;
    s.getTracks().forEach((t) => t.stop());
    this.mesh.removeStream(s.id);
    this.grid.remove(SCREEN_TILE);
    this.o.changed();
  }

  private onFilm(stream: MediaStream, video: HTMLVideoElement): void {
    if (!this.o.active()) return this.film.stop();
    this.mesh.addStream(stream, 'file');
    this.grid.upsert(FILM_TILE, { name: 'Your video file', userId: this.o.selfUserId(), self: true, kind: 'file' });
    this.grid.setVideoElement(FILM_TILE, video);
    this.o.changed();
  }

  private onFilmStopped(): void {
    this.grid.remove(FILM_TILE);
    for (const id of this.mesh.extraIds('file')) this.mesh.removeStream(id);
    this.o.changed();
  }
}
