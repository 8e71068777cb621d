// The call on the room page: join and rejoin, the roster of peers, tiles, controls, sharing, leave.
import type { Peer, ServerMessageOf, UserRef } from '../../../shared/protocol.js';
import { captureFor } from '../lib/bitrate.js';
import type { LocalMedia } from '../lib/media.js';
import { Mesh, type RemoteStream } from '../lib/mesh.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { loudness, SpeakerDetector } from '../lib/speaker.js';
import { CallControls } from './call-controls.js';
import { CallGrid } from './call-grid.js';
import { DeviceDialog, type DevicePicker } from './devices.js';
import { canShareScreen, LocalShares } from './sharing.js';
import { toast } from '../../shared/ui/toasts.js';

export type Phase = 'idle' | 'joining' | 'in-call' | 'ended';

export interface SessionDeps {
  slug: string;
  signaling: SignalingClient;
  media: LocalMedia;
  picker: DevicePicker;
  call: HTMLElement;
  /** The page's own reactions (pre-join panel, members list, room closed notice). */
  onPhase(phase: Phase, message?: string, code?: string): void;
  onRoster(): void;
}

// A "left" toast waits this long: a quick rejoin (a reconnect) shows neither "left" nor "joined".
const LEFT_TOAST_DELAY_MS = 1_500;
// Someone whose signaling connection broke (not a Leave) keeps their tile and peer connection
// this long, media still flowing browser to browser, while their tab reconnects.
const RECONNECT_GRACE_MS = 20_000;

/** CallSession — everything between Join and Leave. */
export class CallSession {
  readonly mesh: Mesh;
  phase: Phase = 'idle';
  user: UserRef | null = null;
  self: Peer | null = null;
  readonly roster = new Map<string, Peer>();
  private readonly grid: CallGrid;
  private readonly controls: CallControls;
  private readonly speaker: SpeakerDetector;
  private readonly dialog: DeviceDialog;
  private readonly shares: LocalShares;
  private readonly leftToasts = new Map<string, ReturnType<typeof setTimeout>>();
  private lastMedia = '';
  private ticks = 0;
  private selfStream: MediaStream | null = null;
  private mediaReady = false;
  /** Which signaling connection (count of welcomes) the last join went out on. */
  private joinSentFor: number | null = null;
  private welcomes = 0;
  /** Peers whose connection to the server broke: dropped if they are not back in time. */
  private readonly reconnecting = new Map<string, ReturnType<typeof setTimeout>>();
  private selfLevel = 0;

  constructor(private readonly d: SessionDeps) {
    const { signaling, media } = d;
    this.mesh = new Mesh({ send: (to, payload) => void signaling.sendSignal(to, payload) });
    this.grid = new CallGrid(d.call.querySelector<HTMLElement>('#call-grid')!);
    const actions = {
      mic: () => void media.setMuted(media.sendsAudio).catch((e: Error) => toast(e.message, 'error')),
      camera: () => void media.setCameraOff(media.sendsVideo).catch((e: Error) => toast(e.message, 'error')),
      share: () => void this.shares.toggleScreen(),
      film: () => this.shares.toggleFilm(),
      devices: () => this.dialog.open(),
      leave: () => this.leave(),
    };
    this.controls = new CallControls(d.call.querySelector<HTMLElement>('.call-controls')!, actions, { canShare: canShareScreen() });
    this.controls.shortcuts(() => this.phase === 'in-call' && !document.querySelector('dialog[open]'), actions);
    this.dialog = new DeviceDialog(d.picker);
    this.shares = new LocalShares(d.call, this.mesh, this.grid, {
      active: () => this.phase === 'in-call',
      selfUserId: () => this.self?.userId ?? '',
      changed: () => this.onMedia(),
    });
    this.speaker = new SpeakerDetector(() => this.levels(), (key) => this.grid.setSpeaking(key));

    signaling.on('welcome', (m) => this.onWelcome(m));
    signaling.on('peer-joined', (m) => this.onPeerJoined(m.peer));
    signaling.on('peer-updated', (m) => this.onPeerUpdated(m.peer));
    signaling.on('peer-left', (m) => this.onPeerLeft(m.peerId, m.reason));
    signaling.on('signal', (m) => {
      if (this.phase === 'in-call') this.mesh.handleSignal(m.from, m.payload);
    });
    signaling.on('room-closed', () => this.end('The owner deleted this room, so the call has ended.'));
    signaling.onState((s) => {
      if (s === 'closed' && this.phase !== 'idle') this.end('Your session has ended. Sign in again to rejoin.');
    });
    this.mesh.on('stream', (peerId, s) => this.onStream(peerId, s));
    this.mesh.on('stream-ended', (peerId, id) => this.grid.remove(`peer:${peerId}:${id}`));
    this.mesh.on('state', (peerId, s) => {
      if (this.reconnecting.has(peerId) && (s === 'failed' || s === 'closed')) return this.gone(peerId);
      const text = s === 'connected' || s === 'closed' ? null : s === 'disconnected' || s === 'failed' ? 'Reconnecting…' : 'Connecting…';
      this.grid.setStatus(`peer:${peerId}`, text);
    });
    media.on('change', () => this.onMedia());
  }

  /** join — the Join button: opens devices if needed, then enters the room. */
  async join(): Promise<void> {
    if (this.phase !== 'idle') return;
    this.setPhase('joining');
    if (!this.d.media.started) await this.d.media.start();
    if ((this.phase as Phase) !== 'joining') return; // left or ended while the devices opened
    this.mediaReady = true;
    this.requestJoin();
  }

  /** leave — the Leave button: tell the server, release camera and microphone, back to pre-join. */
  leave(): void {
    if (this.phase !== 'in-call' && this.phase !== 'joining') return;
    void this.d.signaling.leave();
    this.teardown();
    this.d.media.stop();
    this.setPhase('idle', 'You left the call. Join again whenever you like.');
  }

  // ---- signaling -------------------------------------------------------------------------

  private onWelcome(m: ServerMessageOf<'welcome'>): void {
    this.welcomes++;
    this.user = m.user;
    this.mesh.setIceServers(m.iceServers as RTCIceServer[]);
    if (this.phase === 'joining') this.requestJoin();
    if (this.phase !== 'in-call') return;
    this.lastMedia = '';
    if (m.peerId === this.self?.peerId) {
      // Resumed: to the others we are the same peer, so every connection (and its media) stays.
      this.requestJoin();
      return;
    }
    // The socket came back with a new peer id: everyone sees us leave and rejoin, so every
    // connection is rebuilt. Tiles stay (marked) until the new connections replace their streams.
    this.mesh.reset();
    this.clearReconnecting();
    for (const key of this.grid.keys()) {
      if (/^peer:[^:]+:/.test(key)) this.grid.remove(key);
      else if (key.startsWith('peer:')) this.grid.setStatus(key, 'Reconnecting…');
    }
    this.requestJoin();
  }

  /**
   * requestJoin — sends `join` once per signaling connection, and only once the devices are
   * settled: before `welcome` the server has not registered this tab yet, and onWelcome retries.
   */
  private requestJoin(): void {
    if (!this.d.signaling.isOpen || !this.d.signaling.peerId || !this.mediaReady || this.joinSentFor === this.welcomes) return;
    this.joinSentFor = this.welcomes;
    void this.d.signaling.join(this.d.slug).then((reply) => {
      if (reply instanceof SignalingError) this.onJoinRefused(reply);
      else this.onJoined(reply);
    });
  }

  private onJoined(m: ServerMessageOf<'joined'>): void {
    if (this.phase !== 'joining' && this.phase !== 'in-call') return;
    this.self = m.self;
    this.mesh.selfPeerId = m.self.peerId;
    if (this.phase === 'joining') {
      this.setPhase('in-call');
      this.speaker.start();
    }
    this.grid.upsert('self', { name: `${m.self.displayName} (you)`, userId: m.self.userId, self: true });
    // The server's idea of our microphone/camera (a new connection starts unmuted, camera on):
    // `media` is sent only when it differs, so the first offer is not queued behind it.
    this.lastMedia = `${m.self.muted}|${m.self.cameraOff}`;
    this.onMedia();
    const present = new Set(m.peers.map((p) => p.peerId));
    // Not there (yet): after a server restart the others are reconnecting too.
    for (const id of this.roster.keys()) if (!present.has(id)) this.holdOrDrop(id);
    for (const p of m.peers) {
      this.roster.set(p.peerId, p);
      this.stopWaiting(p.peerId);
      this.showPeer(p);
      this.mesh.connect(p.peerId); // we are the newcomer: we offer (a live connection is kept)
    }
    this.rosterChanged();
  }

  private onPeerJoined(p: Peer): void {
    if (this.phase !== 'in-call' || p.peerId === this.self?.peerId) return;
    // Back after a broken connection: the peer connection carried on (or is rebuilt by its offer).
    this.stopWaiting(p.peerId);
    // Back under a new peer id (its tab could not resume): the one we were keeping is stale.
    for (const id of [...this.reconnecting.keys()]) if (id !== p.peerId && this.roster.get(id)?.userId === p.userId) this.gone(id);
    // Another tab of someone already here is not news.
    const known = [...this.roster.values()].some((o) => o.userId === p.userId);
    this.roster.set(p.peerId, p);
    this.showPeer(p);
    this.rosterChanged();
    const pending = this.leftToasts.get(p.userId);
    if (pending) {
      clearTimeout(pending);
      this.leftToasts.delete(p.userId);
    } else if (!known && p.userId !== this.self?.userId) {
      toast(`${p.displayName} joined`);
    }
  }

  private onPeerUpdated(p: Peer): void {
    if (!this.roster.has(p.peerId)) return;
    this.roster.set(p.peerId, p);
    this.showPeer(p);
  }

  private onPeerLeft(peerId: string, reason: 'left' | 'timeout' | 'dropped'): void {
    if (!this.roster.has(peerId)) return;
    if (reason === 'dropped') this.holdOrDrop(peerId);
    else this.gone(peerId);
  }

  /** holdOrDrop — a peer's signaling broke: keep a working connection a while, else drop it now. */
  private holdOrDrop(peerId: string): void {
    if (this.reconnecting.has(peerId)) return;
    if (this.mesh.connection(peerId)?.connectionState !== 'connected') return this.gone(peerId);
    this.grid.setStatus(`peer:${peerId}`, 'Reconnecting…');
    this.reconnecting.set(peerId, setTimeout(() => this.gone(peerId), RECONNECT_GRACE_MS));
  }

  /** stopWaiting — `peerId` is back: keep its connection unless it broke meanwhile. */
  private stopWaiting(peerId: string): void {
    this.forgetReconnecting(peerId);
    const state = this.mesh.connection(peerId)?.connectionState;
    if (state === 'connected') this.grid.setStatus(`peer:${peerId}`, null);
    // A dead connection is replaced: the newcomer offers a fresh one. (A merely disconnected
    // one recovers by its own ICE restart.)
    else if (state === 'failed' || state === 'closed') this.mesh.remove(peerId);
  }

  private forgetReconnecting(peerId: string): void {
    clearTimeout(this.reconnecting.get(peerId));
    this.reconnecting.delete(peerId);
  }

  private clearReconnecting(): void {
    for (const t of this.reconnecting.values()) clearTimeout(t);
    this.reconnecting.clear();
  }

  /** gone — `peerId` has left the call: tile and connection go, and (soon) a toast says so. */
  private gone(peerId: string): void {
    const p = this.roster.get(peerId);
    this.forgetReconnecting(peerId);
    if (!p) return;
    this.dropPeer(peerId);
    this.rosterChanged();
    // Someone with two tabs who closes one has not left.
    if (p.userId === this.self?.userId || [...this.roster.values()].some((o) => o.userId === p.userId)) return;
    clearTimeout(this.leftToasts.get(p.userId));
    this.leftToasts.set(p.userId, setTimeout(() => {
      this.leftToasts.delete(p.userId);
      toast(`${p.displayName} left`);
    }, LEFT_TOAST_DELAY_MS));
  }

  /** onJoinRefused — the server said no to a join (or the socket closed first: the next welcome retries). */
  private onJoinRefused(err: SignalingError): void {
    if (err.code === 'disconnected') return;
    if (this.phase === 'joining') return this.setPhase('idle', err.message, err.code);
    if (this.phase !== 'in-call') return;
    if (err.code === 'room-full') {
      // Rejoining after a reconnect, and the seat went to someone else meanwhile.
      this.teardown();
      this.setPhase('idle', err.message, err.code);
      return;
    }
    if (err.code === 'room-not-found') return this.end('This room no longer exists.');
    toast(err.message, 'error');
  }

  // ---- tiles -------------------------------------------------------------------------------

  private showPeer(p: Peer): void {
    const key = `peer:${p.peerId}`;
    const fresh = !this.grid.has(key);
    this.grid.upsert(key, { name: p.displayName, userId: p.userId });
    if (fresh) this.grid.setStatus(key, 'Connecting…');
    this.grid.setMuted(key, p.muted);
    this.grid.setCameraOff(key, p.cameraOff);
    // Shared streams that arrived before we knew whose they were get the name now.
    for (const k of this.grid.keys()) if (k.startsWith(`${key}:`)) this.grid.upsert(k, { name: sharedName(p.displayName, this.grid.kind(k)), userId: p.userId });
  }

  private dropPeer(peerId: string): void {
    this.roster.delete(peerId);
    this.mesh.remove(peerId);
    this.grid.removeWhere((k) => k === `peer:${peerId}` || k.startsWith(`peer:${peerId}:`));
  }

  private onStream(peerId: string, s: RemoteStream): void {
    const owner = this.roster.get(peerId);
    const name = owner?.displayName ?? 'Someone';
    if (s.kind === 'camera') {
      // An offer can outrun peer-joined: make the tile now, its name follows.
      if (!this.grid.has(`peer:${peerId}`)) this.grid.upsert(`peer:${peerId}`, { name, userId: owner?.userId ?? '' });
      this.grid.setStream(`peer:${peerId}`, s.stream);
      return;
    }
    const key = `peer:${peerId}:${s.id}`;
    this.grid.upsert(key, { name: sharedName(name, s.kind), userId: owner?.userId ?? '', kind: s.kind });
    this.grid.setStream(key, s.stream);
  }

  private rosterChanged(): void {
    const people = 1 + this.roster.size;
    this.mesh.setRoomSize(people);
    // Capture no more than the largest copy we send; re-cap once the camera has its new size.
    void this.d.media.setCaptureLimit(captureFor(people)).then(() => this.mesh.recap());
    this.d.onRoster();
  }

  // ---- local media ---------------------------------------------------------------------------

  private onMedia(): void {
    const { media } = this.d;
    void this.mesh.setTrack('audio', media.audio);
    void this.mesh.setTrack('video', media.video);
    this.controls.set({ muted: !media.sendsAudio, cameraOff: !media.sendsVideo, sharing: this.shares.sharing, playing: this.shares.playing });
    if (this.phase !== 'in-call') return;
    // A new stream only when the camera track changed: reassigning srcObject makes the video blink.
    if (this.selfStream?.getVideoTracks()[0] !== (media.video ?? undefined)) {
      this.selfStream = media.video ? new MediaStream([media.video]) : null;
      this.grid.setStream('self', this.selfStream);
    }
    this.grid.setMuted('self', !media.sendsAudio);
    this.grid.setCameraOff('self', !media.sendsVideo);
    const state = `${!media.sendsAudio}|${!media.sendsVideo}`;
    // The server starts every connection unmuted with the camera on; say otherwise once per change.
    if (state !== this.lastMedia && this.d.signaling.sendMedia(!media.sendsAudio, !media.sendsVideo)) this.lastMedia = state;
  }

  /** levels — loudness per tile key, for the active-speaker highlight. */
  private async levels(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    // Our own level costs a stats report; every third sample is enough for our own ring.
    if (this.ticks++ % 3 === 0) this.selfLevel = this.d.media.sendsAudio ? loudness(await this.mesh.localAudioLevel()) : 0;
    out.set('self', this.d.media.sendsAudio ? this.selfLevel : 0);
    for (const [id, lvl] of this.mesh.audioLevels()) out.set(`peer:${id}`, loudness(lvl));
    return out;
  }

  // ---- ending ------------------------------------------------------------------------------

  /** end — the call is over for reasons outside our control (room deleted, session ended). */
  private end(why: string): void {
    this.teardown();
    this.d.media.stop();
    this.setPhase('ended', why);
  }

  private teardown(): void {
    this.mediaReady = false;
    this.joinSentFor = null;
    this.shares.stopAll();
    this.mesh.reset();
    this.speaker.stop();
    this.dialog.close();
    this.grid.clear();
    this.roster.clear();
    this.self = null;
    this.selfStream = null;
    this.lastMedia = '';
    for (const t of this.leftToasts.values()) clearTimeout(t);
    this.leftToasts.clear();
    this.clearReconnecting();
  }

  private setPhase(phase: Phase, message?: string, code?: string): void {
    this.phase = phase;
    if (phase === 'idle' || phase === 'ended') this.joinSentFor = null;
    this.d.call.hidden = phase !== 'in-call';
    this.d.onPhase(phase, message, code);
  }
}

/** sharedName — "Ada (screen)", "Ada (video file)". */
function sharedName(name: string, kind: string | undefined): string {
  return `${name} (${kind === 'file' ? 'video file' : 'screen'})`;
}
