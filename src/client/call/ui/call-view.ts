// The call as the page shows it: a tile per person and per shared stream, the control bar and its
// shortcuts, sharing a screen or a video file, the device dialog, the active speaker. It follows
// a RoomCall's events and acts on it; it holds no call state of its own.
import type { Peer } from '../../../shared/protocol.js';
import type { LocalMedia } from '../lib/media.js';
import type { RemoteStream } from '../lib/mesh.js';
import type { LinkStatus, PhaseChange, RoomCall } from '../lib/room-call.js';
import { loudness, SpeakerDetector } from '../lib/speaker.js';
import { toast } from '../../shared/ui/toasts.js';
import { CallControls } from './call-controls.js';
import { CallGrid, CAMERA, SELF } from './call-grid.js';
import { DeviceDialog, type DevicePicker } from './devices.js';
import { canShareScreen, type FilmSource, LocalShares } from './sharing.js';

const STATUS_TEXT: Record<NonNullable<LinkStatus>, string> = { connecting: 'Connecting…', reconnecting: 'Reconnecting…' };

/** CallView — renders a RoomCall into section#call (its grid and control bar). */
export class CallView {
  private readonly grid: CallGrid;
  private readonly controls: CallControls;
  private readonly shares: LocalShares;
  private readonly dialog: DeviceDialog;
  private readonly speaker: SpeakerDetector;
  private selfStream: MediaStream | null = null;
  private ticks = 0;
  private selfLevel = 0;
  private readonly stopShortcuts: () => void;

  constructor(private readonly root: HTMLElement, private readonly call: RoomCall, private readonly media: LocalMedia, picker: DevicePicker) {
    this.grid = new CallGrid(root.querySelector<HTMLElement>('#call-grid')!);
    const actions = {
      mic: () => void media.setMuted(media.sendsAudio).catch((e: Error) => toast(e.message, 'error')),
      camera: () => void media.setCameraOff(media.sendsVideo).catch((e: Error) => toast(e.message, 'error')),
      share: () => void this.shares.toggleScreen(),
      film: () => this.shares.toggleFilm(),
      devices: () => this.dialog.open(),
      leave: () => call.leave(),
    };
    this.controls = new CallControls(root.querySelector<HTMLElement>('.call-controls')!, actions, { canShare: canShareScreen() });
    this.stopShortcuts = this.controls.shortcuts(() => call.phase === 'in-call' && !document.querySelector('dialog[open]'), actions);
    this.dialog = new DeviceDialog(picker);
    this.shares = new LocalShares(root, call.mesh, this.grid, {
      active: () => call.phase === 'in-call',
      selfUserId: () => call.self?.userId ?? '',
      changed: () => this.showSelf(),
    });
    this.speaker = new SpeakerDetector(() => this.levels(), (owner) => this.grid.setSpeaking(owner));

    call.on('phase-changed', (c) => this.onPhase(c));
    call.on('peer-changed', (p) => this.showPeer(p));
    call.on('peer-removed', (peerId) => this.grid.removeWhere((t) => t.owner === peerId));
    call.on('peer-status', (peerId, s) => this.grid.setStatus({ owner: peerId }, s && STATUS_TEXT[s]));
    call.on('stream', (peerId, s) => this.onStream(peerId, s));
    call.on('stream-ended', (peerId, streamId) => this.grid.remove({ owner: peerId, stream: streamId }));
    call.on('rebuilding', () => {
      // Until the new connections bring them again, shared streams go and people show as reconnecting.
      for (const t of this.grid.ids()) {
        if (t.owner === SELF) continue;
        if (t.stream === CAMERA) this.grid.setStatus(t, STATUS_TEXT.reconnecting);
        else this.grid.remove(t);
      }
    });
    call.on('arrived', (name) => toast(`${name} joined`));
    call.on('departed', (name) => toast(`${name} left`));
    call.on('problem', (message) => toast(message, 'error'));
    media.on('change', () => this.showSelf());
  }

  /** playShared — plays a shared video to the room as the video file (the Stop the video file button stops it). */
  playShared(source: FilmSource): void {
    this.shares.playShared(source);
  }

  /** dispose — stops listening to the keyboard (the page is unmounting; leave the call first). */
  dispose(): void {
    this.stopShortcuts();
    this.speaker.stop();
  }

  private onPhase({ phase }: PhaseChange): void {
    this.root.hidden = phase !== 'in-call';
    if (phase === 'in-call') {
      this.root.querySelector<HTMLButtonElement>('.call-controls button')?.focus();
      const self = this.call.self!;
      this.grid.upsert({ owner: SELF }, { name: `${self.displayName} (you)`, userId: self.userId, self: true });
      this.speaker.start();
      this.showSelf();
    } else if (phase === 'idle' || phase === 'ended') {
      this.shares.stopAll();
      this.speaker.stop();
      this.dialog.close();
      this.grid.clear();
      this.selfStream = null;
    }
  }

  /** showSelf — the control bar and this tab's own tile follow the camera, microphone and shares. */
  private showSelf(): void {
    const { media } = this;
    this.controls.set({ muted: !media.sendsAudio, cameraOff: !media.sendsVideo, sharing: this.shares.sharing, playing: this.shares.playing });
    if (this.call.phase !== 'in-call') return;
    // A new stream only when the camera track changed: reassigning srcObject makes the video blink.
    if (this.selfStream?.getVideoTracks()[0] !== (media.video ?? undefined)) {
      this.selfStream = media.video ? new MediaStream([media.video]) : null;
      this.grid.setStream({ owner: SELF }, this.selfStream);
    }
    this.grid.setMuted({ owner: SELF }, !media.sendsAudio);
    this.grid.setCameraOff({ owner: SELF }, !media.sendsVideo);
  }

  private showPeer(p: Peer): void {
    const tile = { owner: p.peerId };
    const fresh = !this.grid.has(tile);
    this.grid.upsert(tile, { name: p.displayName, userId: p.userId });
    if (fresh) this.grid.setStatus(tile, STATUS_TEXT.connecting);
    this.grid.setMuted(tile, p.muted);
    this.grid.setCameraOff(tile, p.cameraOff);
    // Shared streams that arrived before we knew whose they were get the name now.
    for (const t of this.grid.ids()) {
      if (t.owner === p.peerId && t.stream !== CAMERA) this.grid.upsert(t, { name: sharedName(p.displayName, this.grid.kind(t)), userId: p.userId });
    }
  }

  private onStream(peerId: string, s: RemoteStream): void {
    const owner = this.call.roster.get(peerId);
    const name = owner?.displayName ?? 'Someone';
    if (s.kind === 'camera') {
      // An offer can outrun peer-joined: make the tile now, its name follows.
      if (!this.grid.has({ owner: peerId })) this.grid.upsert({ owner: peerId }, { name, userId: owner?.userId ?? '' });
      this.grid.setStream({ owner: peerId }, s.stream);
      return;
    }
    const tile = { owner: peerId, stream: s.id };
    this.grid.upsert(tile, { name: sharedName(name, s.kind), userId: owner?.userId ?? '', kind: s.kind });
    this.grid.setStream(tile, s.stream);
  }

  /** levels — loudness per tile owner, for the active-speaker highlight. */
  private async levels(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    // Our own level costs a stats report; every third sample is enough for our own ring.
    if (this.ticks++ % 3 === 0) this.selfLevel = this.media.sendsAudio ? loudness(await this.call.mesh.localAudioLevel()) : 0;
    out.set(SELF, this.media.sendsAudio ? this.selfLevel : 0);
    for (const [id, lvl] of this.call.mesh.audioLevels()) out.set(id, loudness(lvl));
    return out;
  }
}

/** sharedName — "Ada (screen)", "Ada (video file)". */
function sharedName(name: string, kind: string | undefined): string {
  return `${name} (${kind === 'file' ? 'video file' : 'screen'})`;
}
