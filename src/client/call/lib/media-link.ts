// A call's connection to one other person: a PeerLink that also carries camera, microphone and
// shared streams (screen, video file). The Mesh owns one MediaLink per remote peer. No DOM.
import { PeerLink, type Negotiation } from '../../shared/lib/peer-link.js';

export type MediaKind = 'audio' | 'video';

/** MediaHooks — what a MediaLink needs from, and tells, its Mesh. */
export interface MediaHooks {
  send(payload: Negotiation): void;
  /** track — a remote track; `primary` when it arrived on the camera/microphone slot. */
  track(ev: RTCTrackEvent, primary: boolean): void;
  /** local — the current camera/microphone tracks and the stream they are announced in. */
  local(): { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream };
}

/**
 * MediaLink — each connection has two "primary" transceivers, audio then video: the camera and
 * microphone slots. The offering side creates them (sendrecv when it has the track, recvonly
 * when not, so a listener without devices still receives); the answering side adopts the first
 * audio and video transceivers of the first offer and attaches its tracks before answering.
 * Anything else (screen, video file) travels on extra send-only transceivers, one per track.
 * Broken connections restart ICE: the call keeps its connections through network changes.
 */
export class MediaLink extends PeerLink {
  private readonly primary: Partial<Record<MediaKind, RTCRtpTransceiver>> = {};
  private readonly attached = new Set<MediaKind>();
  /** Our own extra transceivers, by the local stream id they carry. */
  readonly extras = new Map<string, RTCRtpTransceiver[]>();
  private readonly ownExtras = new Set<RTCRtpTransceiver>();

  constructor(peerId: string, polite: boolean, config: RTCConfiguration, private readonly hooks: MediaHooks) {
    super(peerId, { polite, config, send: hooks.send, iceRestart: true });
    this.pc.addEventListener('track', (e) => hooks.track(e, this.isPrimary(e.transceiver)));
  }

  /** openSlots — the offering side creates the camera/microphone transceivers (this starts negotiation). */
  openSlots(): void {
    const { audio, video, stream } = this.hooks.local();
    for (const [kind, track] of [['audio', audio], ['video', video]] as const) {
      this.primary[kind] = this.pc.addTransceiver(track ?? kind, { direction: track ? 'sendrecv' : 'recvonly', streams: [stream] });
      this.attached.add(kind);
    }
  }

  /** sender — the primary sender of `kind` (camera or microphone), once known. */
  sender(kind: MediaKind): RTCRtpSender | null {
    return this.primary[kind]?.sender ?? null;
  }

  /** receiver — the primary receiver of `kind`, once known. */
  receiver(kind: MediaKind): RTCRtpReceiver | null {
    return this.primary[kind]?.receiver ?? null;
  }

  /** setTrack — swaps the camera or microphone track with replaceTrack (no renegotiation unless the slot was receive-only). */
  async setTrack(kind: MediaKind, track: MediaStreamTrack | null): Promise<void> {
    const t = this.primary[kind];
    if (!t || !this.attached.has(kind) || this.closed) return; // adoption attaches the current track later
    await t.sender.replaceTrack(track);
    if (track && (t.direction === 'recvonly' || t.direction === 'inactive')) t.direction = 'sendrecv';
  }

  /** addExtra — sends every track of `stream` on new send-only transceivers. */
  addExtra(stream: MediaStream): void {
    if (this.extras.has(stream.id) || this.closed) return;
    const ts = stream.getTracks().map((track) => this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] }));
    for (const t of ts) this.ownExtras.add(t);
    this.extras.set(stream.id, ts);
  }

  /** removeExtra — stops the extra stream's transceivers (their m-lines can be recycled later). */
  removeExtra(streamId: string): void {
    for (const t of this.extras.get(streamId) ?? []) {
      if (!this.closed && t.currentDirection !== 'stopped') t.stop();
      this.ownExtras.delete(t);
    }
    this.extras.delete(streamId);
  }

  /** remoteSdp — asks our own Opus sender for DTX (see withOpusDtx). */
  protected override remoteSdp(sdp: string): string {
    return withOpusDtx(sdp);
  }

  /** beforeAnswer — attach our camera/microphone to the slots of the remote's first offer. */
  protected override async beforeAnswer(): Promise<void> {
    this.findSlots();
    const local = this.hooks.local();
    const swaps: Promise<void>[] = [];
    for (const kind of ['audio', 'video'] as const) {
      const t = this.primary[kind];
      if (!t || this.attached.has(kind)) continue;
      this.attached.add(kind);
      const track = local[kind];
      if (!track) continue; // stays receive-only
      t.direction = 'sendrecv';
      t.sender.setStreams?.(local.stream);
      swaps.push(t.sender.replaceTrack(track));
    }
    await Promise.all(swaps);
  }

  /** findSlots — on the answering side, the first audio and video transceivers the remote offered. */
  private findSlots(): void {
    for (const t of this.pc.getTransceivers()) {
      if (this.ownExtras.has(t) || t.currentDirection === 'stopped') continue;
      const kind = t.receiver.track.kind as MediaKind;
      if (!this.primary[kind]) this.primary[kind] = t;
    }
  }

  private isPrimary(t: RTCRtpTransceiver): boolean {
    if (!this.primary.audio || !this.primary.video) this.findSlots();
    return t === this.primary.audio || t === this.primary.video;
  }
}

/**
 * withOpusDtx — asks our own Opus sender for DTX (discontinuous transmission): while someone
 * is silent, which is most of the time in a meeting, it sends a packet every 400 ms instead of
 * every 20 ms, and the far ends have nothing to decode. In SDP, `usedtx=1` in the fmtp of the
 * description a sender receives is the far end's request to use DTX, so it is added to the
 * remote description before it is applied (our own descriptions are never edited).
 */
export function withOpusDtx(sdp: string): string {
  const pts = [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((m) => m[1]);
  let out = sdp;
  for (const pt of pts) {
    out = out.replace(new RegExp(`^(a=fmtp:${pt} )(.*)$`, 'gm'), (line, head: string, params: string) =>
      /(^|;)\s*usedtx=/.test(params) ? line : `${head}${params.replace(/\r$/, '')};usedtx=1${params.endsWith('\r') ? '\r' : ''}`);
  }
  return out;
}
