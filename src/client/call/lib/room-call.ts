// The call in one room, without the page: joining and rejoining after every reconnect, the roster,
// the grace a dropped peer gets, the mesh and what this tab tells the others. It says what changed
// through typed events; the call's view and the room island listen. No DOM.
import { comeBackIn, REMOVED_TITLE } from '../../../shared/moderation.js';
import type { Peer, ServerMessageOf } from '../../../shared/protocol.js';
import { Emitter } from '../../shared/lib/emitter.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { captureFor } from './bitrate.js';
import type { LocalMedia } from './media.js';
import { Mesh, type RemoteStream } from './mesh.js';

/** Phase — before joining (or after leaving), Join pressed, in the call, or over for good (room deleted, session ended, removed from the room). */
export type Phase = 'idle' | 'joining' | 'in-call' | 'ended';

/** PhaseChange — the new phase, and why, when the call went back to idle or ended. */
export interface PhaseChange {
  phase: Phase;
  message?: string;
  /**
   * The server's error code when a join was refused (room-full: the page offers to wait for a
   * seat), or `banned` when the call ended because this person was removed from the room.
   */
  code?: SignalingError['code'];
  /** Removed from the room: how many minutes until they may join again (when the server said). */
  minutes?: number;
}

/** LinkStatus — how the connection to a peer is doing, when it is not simply working. */
export type LinkStatus = 'connecting' | 'reconnecting' | null;

export type RoomCallEvents = {
  'phase-changed': (change: PhaseChange) => void;
  /** roster-changed — someone came, went, or came back under a new peer id: `roster` is everyone else (peers kept through a reconnect included). */
  'roster-changed': (roster: readonly Peer[]) => void;
  /** peer-changed — a peer appeared, or its name, microphone or camera changed. */
  'peer-changed': (peer: Peer) => void;
  /** peer-removed — a peer has left the call: everything it showed goes. */
  'peer-removed': (peerId: string) => void;
  'peer-status': (peerId: string, status: LinkStatus) => void;
  /** stream — what a peer sends: its camera and microphone, or a shared screen or video file (the peer may not be in the roster yet). */
  stream: (peerId: string, stream: RemoteStream) => void;
  'stream-ended': (peerId: string, streamId: string) => void;
  /** rebuilding — this tab came back under a new peer id: every connection is being made again. */
  rebuilding: () => void;
  /** arrived / departed — a person (not another tab of someone here) joined or left. A quick return (a reconnect) says neither. */
  arrived: (name: string) => void;
  departed: (name: string) => void;
  /** problem — something the person should hear about (a rejoin refused for a reason the call cannot handle). */
  problem: (message: string) => void;
};

export interface RoomCallOptions {
  slug: string;
  signaling: SignalingClient;
  media: LocalMedia;
}

// "Left" waits this long: a quick rejoin (a reconnect) shows neither "left" nor "joined".
const DEPARTED_DELAY_MS = 1_500;
// Someone whose signaling connection broke (not a Leave) keeps their peer connection this long,
// media still flowing browser to browser, while their tab reconnects.
const RECONNECT_GRACE_MS = 20_000;

/**
 * RoomCall — everything between Join and Leave. `join` is sent once per signaling connection,
 * after `welcome` (before it the server has not registered this tab) and once the devices are
 * settled; a reconnect brings a new `welcome`, and the call joins again: as the same peer
 * (connections and media carry on) or as a new one (every connection is rebuilt).
 */
export class RoomCall extends Emitter<RoomCallEvents> {
  readonly mesh: Mesh;
  phase: Phase = 'idle';
  /** This tab as the room knows it (null outside the call). */
  self: Peer | null = null;
  private readonly peers = new Map<string, Peer>();
  /** Peers whose connection to the server broke: dropped if they are not back in time. */
  private readonly reconnecting = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly departures = new Map<string, ReturnType<typeof setTimeout>>();
  /** The devices are open and the person still wants to be in the call: (re)join on every welcome. */
  private wantIn = false;
  /** A join went out on the current signaling connection (each welcome starts a new one). */
  private joinSent = false;
  /** The microphone/camera state the server has for this tab ("muted|cameraOff"). */
  private lastMedia = '';

  constructor(private readonly o: RoomCallOptions) {
    super();
    const { signaling, media } = o;
    this.mesh = new Mesh({ send: (to, payload) => void signaling.sendSignal(to, payload) });
    signaling.on('welcome', (m) => this.onWelcome(m));
    signaling.on('peer-joined', (m) => this.onPeerJoined(m.peer));
    signaling.on('peer-updated', (m) => this.onPeerUpdated(m.peer));
    signaling.on('peer-left', (m) => this.onPeerLeft(m.peerId, m.reason));
    signaling.on('signal', (m) => {
      if (this.phase === 'in-call') this.mesh.handleSignal(m.from, m.payload);
    });
    signaling.on('room-closed', () => this.end({ phase: 'ended', message: 'The owner deleted this room, so the call has ended.' }));
    // Removed by the room's owner or an admin: this tab is out of the call (the server has taken
    // it out already), and it does not offer to join again until the removal lapses.
    signaling.on('removed', (m) => {
      if (m.room === o.slug && this.phase !== 'ended') this.end({ phase: 'ended', message: comeBackIn(m.minutes), code: 'banned', minutes: m.minutes });
    });
    signaling.onState((s) => {
      if (s === 'closed' && this.phase !== 'idle' && this.phase !== 'ended') this.end({ phase: 'ended', message: 'Your session has ended. Sign in again to rejoin.' });
    });
    this.mesh.on('stream', (peerId, s) => this.emit('stream', peerId, s));
    this.mesh.on('stream-ended', (peerId, id) => this.emit('stream-ended', peerId, id));
    this.mesh.on('state', (peerId, s) => {
      if (this.reconnecting.has(peerId) && (s === 'failed' || s === 'closed')) return this.gone(peerId);
      this.emit('peer-status', peerId, s === 'connected' || s === 'closed' ? null : s === 'disconnected' || s === 'failed' ? 'reconnecting' : 'connecting');
    });
    media.on('change', () => this.sendMedia());
  }

  /** roster — the others in the call, by peer id (peers kept through a reconnect included). */
  get roster(): ReadonlyMap<string, Peer> {
    return this.peers;
  }

  /** join — the Join button: opens the devices if needed, then enters the room. */
  async join(): Promise<void> {
    if (this.phase !== 'idle') return;
    this.setPhase({ phase: 'joining' });
    if (!this.o.media.started) await this.o.media.start();
    if ((this.phase as Phase) !== 'joining') return; // left or ended while the devices opened
    this.wantIn = true;
    this.requestJoin();
  }

  /** leave — the Leave button: tell the server, release camera and microphone, back to pre-join. */
  leave(): void {
    if (this.phase !== 'in-call' && this.phase !== 'joining') return;
    void this.o.signaling.leave();
    this.teardown();
    this.o.media.stop();
    this.setPhase({ phase: 'idle', message: 'You left the call. Join again whenever you like.' });
  }

  // ---- joining -----------------------------------------------------------------------------

  private onWelcome(m: ServerMessageOf<'welcome'>): void {
    this.joinSent = false;
    this.mesh.setIceServers(m.iceServers);
    if (this.phase === 'joining') this.requestJoin();
    if (this.phase !== 'in-call') return;
    this.lastMedia = '';
    if (m.peerId !== this.self?.peerId) {
      // The socket came back with a new peer id: everyone sees us leave and rejoin, so every
      // connection is rebuilt. The page keeps what it shows (marked) until new streams replace it.
      this.mesh.reset();
      this.clearReconnecting();
      this.emit('rebuilding');
    }
    // Resumed (the same peer id): to the others we are the same peer, so every connection and its media stays.
    this.requestJoin();
  }

  private requestJoin(): void {
    const { signaling } = this.o;
    if (!this.wantIn || this.joinSent || !signaling.isOpen || !signaling.peerId) return;
    this.joinSent = true;
    void signaling.join(this.o.slug).then((reply) => {
      if (reply instanceof SignalingError) this.onJoinRefused(reply);
      else this.onJoined(reply);
    });
  }

  /** onJoinRefused — the server said no (or the socket closed first: the next welcome joins again). */
  private onJoinRefused(err: SignalingError): void {
    if (err.code === 'disconnected') return;
    if (this.phase === 'joining') return this.setPhase({ phase: 'idle', message: err.message, code: err.code });
    if (this.phase !== 'in-call') return;
    if (err.code === 'room-full') {
      // Rejoining after a reconnect, and the seat went to someone else meanwhile.
      this.teardown();
      this.setPhase({ phase: 'idle', message: err.message, code: err.code });
      return;
    }
    if (err.code === 'room-not-found') return this.end({ phase: 'ended', message: 'This room no longer exists.' });
    // Removed while this tab was reconnecting: the `removed` it would have heard went elsewhere.
    if (err.code === 'banned') return this.end({ phase: 'ended', message: err.message.replace(`${REMOVED_TITLE}. `, ''), code: 'banned' });
    this.emit('problem', err.message);
  }

  private onJoined(m: ServerMessageOf<'joined'>): void {
    if (this.phase !== 'joining' && this.phase !== 'in-call') return;
    this.self = m.self;
    this.mesh.selfPeerId = m.self.peerId;
    // The server's idea of our microphone/camera (a new connection starts unmuted, camera on):
    // `media` is sent only when it differs, so the first offer is not queued behind it.
    this.lastMedia = `${m.self.muted}|${m.self.cameraOff}`;
    if (this.phase === 'joining') this.setPhase({ phase: 'in-call' });
    this.sendMedia();
    const present = new Set(m.peers.map((p) => p.peerId));
    // Not there (yet): after a server restart the others are reconnecting too.
    for (const id of this.peers.keys()) if (!present.has(id)) this.holdOrDrop(id);
    for (const p of m.peers) {
      this.peers.set(p.peerId, p);
      this.stopWaiting(p.peerId);
      this.emit('peer-changed', p);
      this.mesh.connect(p.peerId); // we are the newcomer: we offer (a live connection is kept)
    }
    this.rosterChanged();
  }

  // ---- the others --------------------------------------------------------------------------

  private onPeerJoined(p: Peer): void {
    if (this.phase !== 'in-call' || p.peerId === this.self?.peerId) return;
    // Back after a broken connection: the peer connection carried on (or is rebuilt by its offer).
    this.stopWaiting(p.peerId);
    // Back under a new peer id (its tab could not resume): the one we were keeping is stale.
    for (const id of [...this.reconnecting.keys()]) if (id !== p.peerId && this.peers.get(id)?.userId === p.userId) this.gone(id);
    // Another tab of someone already here is not news.
    const known = [...this.peers.values()].some((o) => o.userId === p.userId);
    this.peers.set(p.peerId, p);
    this.emit('peer-changed', p);
    this.rosterChanged();
    const departing = this.departures.get(p.userId);
    if (departing) {
      clearTimeout(departing);
      this.departures.delete(p.userId);
    } else if (!known && p.userId !== this.self?.userId) {
      this.emit('arrived', p.displayName);
    }
  }

  private onPeerUpdated(p: Peer): void {
    if (!this.peers.has(p.peerId)) return;
    this.peers.set(p.peerId, p);
    this.emit('peer-changed', p);
  }

  private onPeerLeft(peerId: string, reason: 'left' | 'timeout' | 'dropped'): void {
    if (!this.peers.has(peerId)) return;
    if (reason === 'dropped') this.holdOrDrop(peerId);
    else this.gone(peerId);
  }

  /** holdOrDrop — a peer's signaling broke: keep a working connection a while, else drop it now. */
  private holdOrDrop(peerId: string): void {
    if (this.reconnecting.has(peerId)) return;
    if (this.mesh.connection(peerId)?.connectionState !== 'connected') return this.gone(peerId);
    this.emit('peer-status', peerId, 'reconnecting');
    this.reconnecting.set(peerId, setTimeout(() => this.gone(peerId), RECONNECT_GRACE_MS));
  }

  /** stopWaiting — `peerId` is back: keep its connection unless it broke meanwhile. */
  private stopWaiting(peerId: string): void {
    this.forgetReconnecting(peerId);
    const state = this.mesh.connection(peerId)?.connectionState;
    if (state === 'connected') this.emit('peer-status', peerId, null);
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

  /** gone — `peerId` has left the call: its connection goes, and (soon) `departed` says so. */
  private gone(peerId: string): void {
    const p = this.peers.get(peerId);
    this.forgetReconnecting(peerId);
    if (!p) return;
    this.peers.delete(peerId);
    this.mesh.remove(peerId);
    this.emit('peer-removed', peerId);
    this.rosterChanged();
    // Someone with two tabs who closes one has not left.
    if (p.userId === this.self?.userId || [...this.peers.values()].some((o) => o.userId === p.userId)) return;
    clearTimeout(this.departures.get(p.userId));
    this.departures.set(p.userId, setTimeout(() => {
      this.departures.delete(p.userId);
      this.emit('departed', p.displayName);
    }, DEPARTED_DELAY_MS));
  }

  private rosterChanged(): void {
    const people = 1 + this.peers.size;
    this.mesh.setRoomSize(people);
    // Capture no more than the largest copy we send; re-cap once the camera has its new size.
    void this.o.media.setCaptureLimit(captureFor(people)).then(() => this.mesh.recap());
    this.emit('roster-changed', [...this.peers.values()]);
  }

  // ---- this tab's media --------------------------------------------------------------------

  /** sendMedia — the mesh sends the current tracks; the others hear of mute and camera changes. */
  private sendMedia(): void {
    const { media, signaling } = this.o;
    void this.mesh.setTrack('audio', media.audio);
    void this.mesh.setTrack('video', media.video);
    if (this.phase !== 'in-call' || !this.self) return;
    const state = `${!media.sendsAudio}|${!media.sendsVideo}`;
    // The server starts every connection unmuted with the camera on; say otherwise once per change.
    if (state !== this.lastMedia && signaling.sendMedia(!media.sendsAudio, !media.sendsVideo)) this.lastMedia = state;
  }

  // ---- ending ------------------------------------------------------------------------------

  /** end — the call is over for reasons outside our control (room deleted, session ended, removed from the room). */
  private end(change: PhaseChange & { phase: 'ended' }): void {
    this.teardown();
    this.o.media.stop();
    this.setPhase(change);
  }

  private teardown(): void {
    this.wantIn = false;
    this.joinSent = false;
    this.mesh.reset();
    this.self = null;
    this.lastMedia = '';
    for (const t of this.departures.values()) clearTimeout(t);
    this.departures.clear();
    this.clearReconnecting();
    if (this.peers.size) {
      this.peers.clear();
      this.emit('roster-changed', []);
    }
  }

  private setPhase(change: PhaseChange): void {
    this.phase = change.phase;
    if (change.phase === 'idle' || change.phase === 'ended') this.joinSent = false;
    this.emit('phase-changed', change);
  }
}
