// Full-mesh calling: one MediaLink (RTCPeerConnection) per other person in the room, local tracks
// shared by all of them, extra streams (screen, video file), bitrate caps by room size. No DOM.
import type { SignalPayload } from '../../../shared/protocol.js';
import { applyCap, capFor, type SendKind } from './bitrate.js';
import { Emitter } from '../../shared/lib/emitter.js';
import { MediaLink, type MediaKind } from './media-link.js';

export type { MediaKind } from './media-link.js';
export type ExtraKind = Exclude<SendKind, 'camera'>;

/** RemoteStream — something a remote peer sends: its camera+microphone, or a screen/video file. */
export interface RemoteStream {
  /** 'camera' for the camera+microphone stream; the sender's stream id for extras. */
  id: string;
  kind: SendKind;
  stream: MediaStream;
}

export type MeshEvents = {
  /** connection — a connection to `peerId` was created (also re-created after a reconnect): add data channels here. */
  connection: (peerId: string, pc: RTCPeerConnection) => void;
  state: (peerId: string, state: RTCPeerConnectionState) => void;
  stream: (peerId: string, stream: RemoteStream) => void;
  'stream-ended': (peerId: string, streamId: string) => void;
};

export interface MeshOptions {
  /** send — relays a payload to one peer through the signaling server. */
  send(to: string, payload: SignalPayload): void;
  iceServers?: RTCIceServer[];
}

/** The app name of the messages that say what an extra stream is ('screen' or 'file'). */
const STREAM_APP = 'stream';
interface StreamNote { id: string; kind: ExtraKind; on: boolean }

/**
 * Mesh — owns every connection of this tab.
 *
 * Who offers: the peer that joins offers to everyone already there (`connect`); those wait for
 * the offer (`handleSignal` creates their side). Perfect negotiation makes later offers from
 * either side safe. Polite/impolite rule: **the peer whose peerId sorts lower (plain string
 * comparison) is polite** — it yields on an offer collision. Both ends compute the same answer.
 *
 * Data channels (file transfer): `connection(peerId)` gives the live RTCPeerConnection;
 * `on('connection')` fires whenever one is (re)created. Creating a channel renegotiates by itself;
 * the far side gets it through `pc.addEventListener('datachannel', …)`.
 */
export class Mesh extends Emitter<MeshEvents> {
  selfPeerId = '';
  private iceServers: RTCIceServer[];
  private readonly links = new Map<string, MediaLink>();
  private readonly tracks: Record<MediaKind, MediaStreamTrack | null> = { audio: null, video: null };
  /** The stream our camera/microphone are announced in (its id is the msid remote ends see). */
  private readonly cameraStream = new MediaStream();
  private readonly extras = new Map<string, { stream: MediaStream; kind: ExtraKind }>();
  /** Remote extra streams' kinds, from their `stream` notes: peerId → stream id → kind. */
  private readonly remoteKinds = new Map<string, Map<string, ExtraKind>>();
  private readonly remoteCameras = new Map<string, MediaStream>();
  private people = 1;

  constructor(private readonly opts: MeshOptions) {
    super();
    this.iceServers = opts.iceServers ?? [];
  }

  setIceServers(servers: RTCIceServer[]): void {
    this.iceServers = servers;
  }

  /** connection — the RTCPeerConnection to `peerId`, if there is one. */
  connection(peerId: string): RTCPeerConnection | undefined {
    return this.links.get(peerId)?.pc;
  }

  peerIds(): string[] {
    return [...this.links.keys()];
  }

  /** connect — we are the newcomer: open a connection to `peerId` and offer. */
  connect(peerId: string): void {
    if (this.links.has(peerId)) return;
    const link = this.create(peerId);
    link.openSlots();
    this.syncExtras(link);
    this.applyCaps(link);
    link.offerNow();
  }

  /**
   * warmUp — creates and closes one connection, so the browser sets up its WebRTC machinery
   * while the user looks at the preview rather than after Join (the first connection of a page
   * costs noticeably more).
   */
  static warmUp(): void {
    try {
      new RTCPeerConnection().close();
    } catch {
      // No WebRTC here; joining will say so.
    }
  }

  /** remove — `peerId` left: close its connection and forget it. */
  remove(peerId: string): void {
    this.drop(peerId);
  }

  /** reset — closes every connection (leaving, or rejoining after the signaling socket came back). */
  reset(): void {
    for (const id of [...this.links.keys()]) this.drop(id);
  }

  /** handleSignal — a relayed description, candidate or stream note from `from`. */
  handleSignal(from: string, payload: SignalPayload): void {
    if (from === this.selfPeerId) return;
    if (payload.kind === 'app') {
      if (payload.app === STREAM_APP) this.onStreamNote(from, payload.data as StreamNote);
      return;
    }
    let link = this.links.get(from);
    if (!link) {
      // Only an offer opens a connection from the far side; a stray answer or candidate cannot.
      // (The server relays a peer's messages in order and before its peer-left, so a late
      // offer from someone who already left cannot arrive.)
      if (payload.kind !== 'description' || payload.description.type !== 'offer') return;
      link = this.create(from);
    }
    link.receive(payload);
  }

  // ---- local media -----------------------------------------------------------------------

  /** setTrack — camera or microphone changed (device switch, camera off/on): replaceTrack everywhere. */
  async setTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    const old = this.tracks[kind];
    if (old === track) return;
    this.tracks[kind] = track;
    if (old) this.cameraStream.removeTrack(old);
    if (track) this.cameraStream.addTrack(track);
    await Promise.all([...this.links.values()].map((l) => l.setTrack(kind, track)));
    if (kind === 'video') for (const l of this.links.values()) this.applyCaps(l);
  }

  /** addStream — sends `stream` (screen or video file) to everyone, as its own stream. */
  addStream(stream: MediaStream, kind: ExtraKind): void {
    for (const t of stream.getVideoTracks()) t.contentHint = kind === 'screen' ? 'detail' : 'motion';
    this.extras.set(stream.id, { stream, kind });
    for (const l of this.links.values()) {
      if (this.established(l)) {
        this.syncExtras(l);
        this.applyCaps(l);
      }
    }
  }

  /** removeStream — stops sending the extra stream `id`. */
  removeStream(id: string): void {
    if (!this.extras.delete(id)) return;
    for (const l of this.links.values()) this.syncExtras(l);
  }

  /** extraIds — the ids of our extra streams of `kind`. */
  extraIds(kind: ExtraKind): string[] {
    return [...this.extras].filter(([, e]) => e.kind === kind).map(([id]) => id);
  }

  /** setRoomSize — everyone in the room, you included; re-caps every video sender. */
  setRoomSize(people: number): void {
    this.people = people;
    this.recap();
  }

  /** recap — applies the caps again (e.g. after the camera's capture size changed). */
  recap(): void {
    for (const l of this.links.values()) this.applyCaps(l);
  }

  /** audioLevels — each peer's microphone level (0..1, linear as RTP reports it) from the receivers. */
  audioLevels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, l] of this.links) {
      const sources = l.receiver('audio')?.getSynchronizationSources() ?? [];
      out.set(id, sources[0]?.audioLevel ?? 0);
    }
    return out;
  }

  /** localAudioLevel — our microphone's level (0..1 linear) as WebRTC measures it; 0 without a connection. */
  async localAudioLevel(): Promise<number> {
    for (const l of this.links.values()) {
      const sender = l.sender('audio');
      if (!sender?.track) continue;
      let level = 0;
      (await sender.getStats()).forEach((s: { type: string; kind?: string; audioLevel?: number }) => {
        if (s.type === 'media-source' && s.kind === 'audio') level = s.audioLevel ?? 0;
      });
      return level;
    }
    return 0;
  }

  // ---- internals -------------------------------------------------------------------------

  private create(peerId: string): MediaLink {
    const link = new MediaLink(peerId, this.selfPeerId < peerId, { iceServers: this.iceServers }, {
      send: (payload) => this.opts.send(peerId, payload),
      track: (ev, primary) => this.onTrack(peerId, ev, primary),
      local: () => ({ audio: this.tracks.audio, video: this.tracks.video, stream: this.cameraStream }),
    });
    link.on('state', (s) => this.emit('state', peerId, s));
    link.on('negotiated', () => {
      this.syncExtras(link);
      this.applyCaps(link);
    });
    this.links.set(peerId, link);
    this.emit('connection', peerId, link.pc);
    return link;
  }

  private drop(peerId: string): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    this.remoteKinds.delete(peerId);
    this.remoteCameras.delete(peerId);
    link.close();
  }

  /** established — the first negotiation is done, so extras can be added without racing the first offer. */
  private established(link: MediaLink): boolean {
    return link.pc.remoteDescription !== null && !link.closed;
  }

  /** syncExtras — makes the link send exactly our current extra streams (a note goes first, so the far side knows what each is). */
  private syncExtras(link: MediaLink): void {
    if (link.closed) return;
    for (const [id, { stream, kind }] of this.extras) {
      if (link.extras.has(id)) continue;
      this.note(link.peerId, { id, kind, on: true });
      link.addExtra(stream);
    }
    for (const id of [...link.extras.keys()]) {
      if (this.extras.has(id)) continue;
      this.note(link.peerId, { id, kind: 'screen', on: false });
      link.removeExtra(id);
    }
  }

  private note(peerId: string, n: StreamNote): void {
    this.opts.send(peerId, { kind: 'app', app: STREAM_APP, data: n });
  }

  private applyCaps(link: MediaLink): void {
    const camera = link.sender('video');
    if (camera) void applyCap(camera, capFor('camera', this.people));
    for (const [id, ts] of link.extras) {
      const kind = this.extras.get(id)?.kind ?? 'screen';
      for (const t of ts) void applyCap(t.sender, capFor(kind, this.people));
    }
  }

  private onStreamNote(from: string, n: StreamNote): void {
    if (!n || typeof n.id !== 'string' || (n.kind !== 'screen' && n.kind !== 'file')) return;
    let kinds = this.remoteKinds.get(from);
    if (!kinds) this.remoteKinds.set(from, (kinds = new Map()));
    if (n.on) kinds.set(n.id, n.kind);
    else {
      kinds.delete(n.id);
      this.emit('stream-ended', from, n.id);
    }
  }

  private onTrack(peerId: string, ev: RTCTrackEvent, primary: boolean): void {
    if (primary) {
      let cam = this.remoteCameras.get(peerId);
      if (!cam) this.remoteCameras.set(peerId, (cam = new MediaStream()));
      if (!cam.getTracks().includes(ev.track)) cam.addTrack(ev.track);
      this.emit('stream', peerId, { id: 'camera', kind: 'camera', stream: cam });
      return;
    }
    const stream = ev.streams[0] ?? new MediaStream([ev.track]);
    const kind = this.remoteKinds.get(peerId)?.get(stream.id) ?? 'screen';
    // The sender stopped it: its note usually says so first; these catch the rest.
    ev.track.addEventListener('ended', () => {
      if (stream.getTracks().every((t) => t.readyState === 'ended')) this.emit('stream-ended', peerId, stream.id);
    });
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length === 0) this.emit('stream-ended', peerId, stream.id);
    });
    this.emit('stream', peerId, { id: stream.id, kind, stream });
  }
}
