// Camera and microphone: getUserMedia with graceful fallback and plain-language reasons, device
// lists, and the local tracks' lifecycle (mute, camera off, switching devices). No DOM.
import { Emitter } from '../../shared/lib/emitter.js';

/** CaptureLimit — the most the camera has to deliver: the largest copy the mesh sends (see bitrate.ts). */
export interface CaptureLimit {
  height: number;
  frameRate: number;
}

/**
 * cameraConstraints — up to 720p at 30 fps, or less in a bigger room: one capture feeds every
 * copy we send, so capturing at the sent size spares each encoder its own downscaling and keeps
 * a 6-person mesh affordable.
 */
function cameraConstraints(limit: CaptureLimit | null = null): MediaTrackConstraints {
  const height = limit?.height ?? 720;
  const fps = limit?.frameRate ?? 30;
  return { width: { ideal: Math.round((height * 16) / 9) }, height: { ideal: height }, frameRate: { ideal: fps, max: fps } };
}
const MIC_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

type Device = 'camera' | 'microphone' | 'camera and microphone';

/** explain — a sentence for a getUserMedia failure, naming the device. */
function explain(err: unknown, device: Device): string {
  const name = (err as { name?: string } | null)?.name ?? '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Hearth may not use your ${device}: access is blocked. Allow it in the site settings (the icon left of the address), then reload.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found.`;
    case 'NotReadableError':
    case 'AbortError':
      return `Your ${device} could not be started: another app may be using it.`;
    default:
      return `Your ${device} could not be used${name ? ` (${name})` : ''}.`;
  }
}

export interface Devices {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

/** listDevices — cameras and microphones (labels are empty until permission is granted). */
export async function listDevices(): Promise<Devices> {
  const all = await navigator.mediaDevices?.enumerateDevices?.().catch(() => []) ?? [];
  return { cameras: all.filter((d) => d.kind === 'videoinput'), microphones: all.filter((d) => d.kind === 'audioinput') };
}

function gum(c: MediaStreamConstraints): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) return Promise.reject(Object.assign(new Error('no mediaDevices'), { name: 'SecurityError' }));
  return navigator.mediaDevices.getUserMedia(c);
}

const withDevice = (base: MediaTrackConstraints, id: string | null, exact: boolean): MediaTrackConstraints =>
  id ? { ...base, deviceId: exact ? { exact: id } : { ideal: id } } : base;

/** openTrack — one camera or microphone track of a chosen (or the remembered) device. */
async function openTrack(kind: 'video' | 'audio', id: string | null, exact = false, limit: CaptureLimit | null = null): Promise<MediaStreamTrack> {
  const c = withDevice(kind === 'video' ? cameraConstraints(limit) : MIC_CONSTRAINTS, id, exact);
  const s = await gum(kind === 'video' ? { video: c } : { audio: c });
  return s.getTracks()[0]!;
}

interface Acquired {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  /** problem — what went wrong and what the user can still do; null when both work. */
  problem: string | null;
}

/**
 * acquire — camera and microphone, falling back to microphone only, then camera only, then
 * nothing. Never throws: joining to listen and watch is always possible.
 */
async function acquire(cameraId: string | null, micId: string | null, limit: CaptureLimit | null = null): Promise<Acquired> {
  const { cameras, microphones } = await listDevices();
  // enumerateDevices lists hardware even before permission; skip what is not there at all.
  const wantVideo = cameras.length > 0;
  const wantAudio = microphones.length > 0;
  const video = withDevice(cameraConstraints(limit), cameraId, false);
  const audio = withDevice(MIC_CONSTRAINTS, micId, false);
  const tracks = (s: MediaStream) => ({ audio: s.getAudioTracks()[0] ?? null, video: s.getVideoTracks()[0] ?? null });
  const none = 'No camera or microphone was found. You can still join to listen and watch.';

  if (!wantVideo && !wantAudio) return { audio: null, video: null, problem: none };
  let both: unknown = null;
  if (wantVideo && wantAudio) {
    try {
      return { ...tracks(await gum({ video, audio })), problem: null };
    } catch (err) {
      both = err;
    }
  }
  let micErr: unknown = wantAudio ? null : Object.assign(new Error(), { name: 'NotFoundError' });
  if (wantAudio) {
    try {
      const got = tracks(await gum({ audio }));
      const why = wantVideo ? explain(both, 'camera') : 'No camera was found.';
      return { ...got, problem: `${why} You can join with your microphone only.` };
    } catch (err) {
      micErr = err;
    }
  }
  let camErr: unknown = wantVideo ? null : Object.assign(new Error(), { name: 'NotFoundError' });
  if (wantVideo) {
    try {
      const got = tracks(await gum({ video }));
      return { ...got, problem: `${explain(micErr, 'microphone')} You can join with your camera only; others will not hear you.` };
    } catch (err) {
      camErr = err;
    }
  }
  const same = (micErr as Error | null)?.name === (camErr as Error | null)?.name;
  const why = same ? explain(micErr, 'camera and microphone') : `${explain(camErr, 'camera')} ${explain(micErr, 'microphone')}`;
  return { audio: null, video: null, problem: `${why} You can still join to listen and watch.` };
}

const PREF_CAMERA = 'hearth:camera';
const PREF_MIC = 'hearth:microphone';

function pref(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function savePref(key: string, value: string | undefined): void {
  try {
    if (value) localStorage.setItem(key, value);
  } catch {
    // Private mode: the choice just isn't remembered.
  }
}

/**
 * LocalMedia — this tab's camera and microphone. `change` fires whenever a track or a flag
 * changes; owners read `audio`, `video`, `muted`, `cameraOff`, `problem`.
 * Muting disables the track (silence, instant, no renegotiation); turning the camera off stops
 * it (the camera light goes out) and turning it on opens it again.
 */
export class LocalMedia extends Emitter<{ change: () => void }> {
  audio: MediaStreamTrack | null = null;
  video: MediaStreamTrack | null = null;
  problem: string | null = null;
  muted = false;
  cameraOff = false;
  private starting: Promise<void> | null = null;
  private limit: CaptureLimit | null = null;

  /** start — opens camera and microphone (once; again after stop()). */
  start(): Promise<void> {
    if (!this.starting) {
      this.starting = acquire(pref(PREF_CAMERA), pref(PREF_MIC), this.limit).then((got) => {
        this.problem = got.problem;
        this.setTrack('audio', got.audio);
        this.setTrack('video', got.video);
        this.cameraOff = false;
        this.emit('change');
      });
    }
    return this.starting;
  }

  get started(): boolean {
    return this.starting !== null;
  }

  /** sendsAudio / sendsVideo — what others actually get (for the `media` message). */
  get sendsAudio(): boolean {
    return !!this.audio && !this.muted;
  }

  get sendsVideo(): boolean {
    return !!this.video && !this.cameraOff;
  }

  /** setMuted — unmuting without a microphone tries to open one; throws a human message when that fails. */
  async setMuted(muted: boolean): Promise<void> {
    if (!muted && !this.audio) {
      try {
        this.setTrack('audio', await openTrack('audio', pref(PREF_MIC)));
      } catch (err) {
        throw new Error(explain(err, 'microphone'));
      }
    }
    this.muted = muted;
    if (this.audio) this.audio.enabled = !muted;
    this.emit('change');
  }

  /** setCameraOff — off stops the camera; on opens it again (a human message is thrown on failure). */
  async setCameraOff(off: boolean): Promise<void> {
    if (off) {
      this.setTrack('video', null);
    } else if (!this.video) {
      try {
        this.setTrack('video', await openTrack('video', pref(PREF_CAMERA), false, this.limit));
      } catch (err) {
        throw new Error(explain(err, 'camera'));
      }
    }
    this.cameraOff = off;
    this.emit('change');
  }

  /** useDevice — switch to the chosen camera or microphone (remembered for next time). */
  async useDevice(kind: 'video' | 'audio', deviceId: string): Promise<void> {
    savePref(kind === 'video' ? PREF_CAMERA : PREF_MIC, deviceId);
    if (kind === 'video' && this.cameraOff) return; // used when the camera is turned on again
    const old = this[kind];
    let track: MediaStreamTrack;
    try {
      track = await openTrack(kind, deviceId, true, this.limit);
    } catch (err) {
      // Some cameras cannot be opened twice: free the old one and try once more.
      if (!old || (err as Error).name !== 'NotReadableError') throw new Error(explain(err, kind === 'video' ? 'camera' : 'microphone'));
      old.stop();
      track = await openTrack(kind, deviceId, true, this.limit).catch((e: unknown) => {
        throw new Error(explain(e, kind === 'video' ? 'camera' : 'microphone'));
      });
    }
    if (kind === 'audio') track.enabled = !this.muted;
    this.setTrack(kind, track);
    this.emit('change');
  }

  /** setCaptureLimit — the camera delivers at most this (null: up to 720p30); resolves once applied. */
  async setCaptureLimit(limit: CaptureLimit | null): Promise<void> {
    const now = cameraConstraints(this.limit);
    const next = cameraConstraints(limit);
    this.limit = limit;
    // Reconfiguring a camera is not free: only when the size or rate really changes.
    if (JSON.stringify(now) === JSON.stringify(next)) return;
    try {
      await this.video?.applyConstraints(cameraConstraints(limit));
    } catch {
      // A camera that cannot change mode keeps its size; the senders scale it down instead.
    }
  }

  /** deviceId — the device a track is using now. */
  deviceId(kind: 'video' | 'audio'): string | undefined {
    return this[kind]?.getSettings().deviceId;
  }

  /** stop — releases camera and microphone (leaving the call). */
  stop(): void {
    this.setTrack('audio', null);
    this.setTrack('video', null);
    this.starting = null;
    this.limit = null;
    this.emit('change');
  }

  private setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): void {
    const old = this[kind];
    if (old === track) return;
    old?.stop();
    this[kind] = track;
    if (!track) return;
    if (kind === 'audio') track.enabled = !this.muted;
    // Unplugged, or revoked in the browser's UI: carry on without it.
    track.addEventListener('ended', () => {
      if (this[kind] !== track) return;
      this[kind] = null;
      this.emit('change');
    });
  }
}
