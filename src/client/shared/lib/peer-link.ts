// One RTCPeerConnection to one remote peer: perfect negotiation, trickle ICE, early candidates
// buffered, ICE restart on failure. The Mesh owns one PeerLink per remote peer. No DOM.
import type { SignalPayload } from '../../../shared/protocol.js';

export type MediaKind = 'audio' | 'video';

type Description = Extract<SignalPayload, { kind: 'description' }>['description'];
type Candidate = Extract<SignalPayload, { kind: 'candidate' }>['candidate'];

/** LinkHooks — what a PeerLink tells its owner. */
export interface LinkHooks {
  send(payload: SignalPayload): void;
  state(state: RTCPeerConnectionState): void;
  /** track — a remote track; `primary` when it arrived on the camera/microphone slot. */
  track(ev: RTCTrackEvent, primary: boolean): void;
  /** negotiated — signaling returned to stable with a remote description (caps and extras can be (re)applied). */
  negotiated(): void;
  /** local — the current camera/microphone tracks and the stream they are announced in. */
  local(): { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream };
}

/** RESTART_AFTER_DISCONNECTED_MS — a `disconnected` connection gets an ICE restart after this long. */
export const RESTART_AFTER_DISCONNECTED_MS = 3_000;
const MIN_RESTART_GAP_MS = 4_000;

/**
 * PeerLink — one connection, negotiated with the "perfect negotiation" pattern
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): either side may offer at any
 * time (renegotiation for screen sharing, ICE restarts, data channels); on a collision the
 * polite side rolls its offer back and answers, the impolite side ignores the other's offer.
 *
 * Each connection has two "primary" transceivers, audio then video: the camera and microphone
 * slots. The offering side creates them (sendrecv when it has the track, recvonly when not, so
 * a listener without devices still receives); the answering side adopts the first audio and
 * video transceivers of the first offer and attaches its tracks before answering. Anything
 * else (screen, video file) travels on extra send-only transceivers, one per track.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  closed = false;
  private makingOffer = false;
  private ignoreOffer = false;
  private readonly pending: RTCIceCandidateInit[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly primary: Partial<Record<MediaKind, RTCRtpTransceiver>> = {};
  private readonly attached = new Set<MediaKind>();
  /** Our own extra transceivers, by the local stream id they carry. */
  readonly extras = new Map<string, RTCRtpTransceiver[]>();
  private readonly ownExtras = new Set<RTCRtpTransceiver>();
  private disconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRestart = 0;

  constructor(readonly peerId: string, readonly polite: boolean, config: RTCConfiguration, private readonly hooks: LinkHooks) {
    const pc = new RTCPeerConnection(config);
    this.pc = pc;
    // addEventListener, not on… properties: later features (file transfer) add their own listeners.
    pc.addEventListener('negotiationneeded', () => void this.offer());
    pc.addEventListener('icecandidate', (e) => {
      // The end-of-candidates marker (null) is not sent: Chromium and Firefox do not need it.
      if (e.candidate && e.candidate.candidate) hooks.send({ kind: 'candidate', candidate: candidateInit(e.candidate) });
    });
    pc.addEventListener('track', (e) => hooks.track(e, this.isPrimary(e.transceiver)));
    pc.addEventListener('connectionstatechange', () => this.onConnectionState());
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState === 'stable' && pc.remoteDescription) hooks.negotiated();
    });
  }

  /** openSlots — the offering side creates the camera/microphone transceivers (this starts negotiation). */
  openSlots(): void {
    const { audio, video, stream } = this.hooks.local();
    for (const [kind, track] of [['audio', audio], ['video', video]] as const) {
      this.primary[kind] = this.pc.addTransceiver(track ?? kind, { direction: track ? 'sendrecv' : 'recvonly', streams: [stream] });
      this.attached.add(kind);
    }
  }

  /** offerNow — starts the first offer at once instead of waiting for the negotiationneeded task (a few ms sooner to the first frame). */
  offerNow(): void {
    void this.offer();
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

  /** receive — handles a description or candidate from the remote peer, strictly in arrival order. */
  receive(payload: SignalPayload): void {
    this.queue = this.queue.then(() => this.handle(payload)).catch((err: unknown) => {
      if (!this.closed) console.warn(`signal from ${this.peerId} failed`, err);
    });
  }

  /** restartIce — new ICE credentials on both ends (triggers an offer); at most one per few seconds. */
  restartIce(): void {
    if (this.closed) return;
    const wait = this.lastRestart + MIN_RESTART_GAP_MS - Date.now();
    if (wait > 0) {
      this.setDisconnectTimer(wait);
      return;
    }
    this.lastRestart = Date.now();
    this.pc.restartIce();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.pc.close();
  }

  // ---- negotiation -----------------------------------------------------------------------

  private async offer(): Promise<void> {
    // negotiationneeded after offerNow() finds nothing new to offer, or finds the offer in flight.
    if (this.closed || this.makingOffer || this.pc.signalingState !== 'stable') return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.sendDescription();
    } catch (err) {
      if (!this.closed) console.warn(`offer to ${this.peerId} failed`, err);
    } finally {
      this.makingOffer = false;
    }
  }

  private async handle(payload: SignalPayload): Promise<void> {
    if (this.closed) return;
    if (payload.kind === 'description') await this.onDescription(payload.description);
    else if (payload.kind === 'candidate') await this.onCandidate(payload.candidate);
  }

  private async onDescription(d: Description): Promise<void> {
    const pc = this.pc;
    const collision = d.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    // The polite side's pending offer is rolled back implicitly by setRemoteDescription(offer).
    await pc.setRemoteDescription({ type: d.type, sdp: d.sdp === undefined ? undefined : withOpusDtx(d.sdp) } as RTCSessionDescriptionInit);
    await this.flushCandidates();
    if (d.type === 'offer') {
      await this.adoptSlots();
      await pc.setLocalDescription();
      this.sendDescription();
    }
  }

  private async onCandidate(c: Candidate): Promise<void> {
    if (!c) return;
    // Candidates can outrun the description they belong to; keep them until it is applied.
    if (!this.pc.remoteDescription) {
      this.pending.push(c as RTCIceCandidateInit);
      return;
    }
    try {
      await this.pc.addIceCandidate(c as RTCIceCandidateInit);
    } catch (err) {
      // Candidates of an offer we ignored (glare) are expected to fail.
      if (!this.ignoreOffer) console.warn(`candidate from ${this.peerId} rejected`, err);
    }
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.pending.splice(0)) {
      try {
        await this.pc.addIceCandidate(c);
      } catch {
        // A candidate of a description that was rolled back; harmless.
      }
    }
  }

  private sendDescription(): void {
    const d = this.pc.localDescription;
    if (!d || this.closed) return;
    this.hooks.send({ kind: 'description', description: { type: d.type, sdp: d.sdp } });
  }

  // ---- camera/microphone slots -----------------------------------------------------------

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

  /** adoptSlots — attach our camera/microphone to the slots of the remote's first offer, before answering. */
  private async adoptSlots(): Promise<void> {
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

  // ---- connectivity ----------------------------------------------------------------------

  private onConnectionState(): void {
    const s = this.pc.connectionState;
    this.hooks.state(s);
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = null;
    if (s === 'failed') this.restartIce();
    else if (s === 'disconnected') this.setDisconnectTimer(RESTART_AFTER_DISCONNECTED_MS);
  }

  private setDisconnectTimer(ms: number): void {
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = setTimeout(() => {
      this.disconnectTimer = null;
      const s = this.pc.connectionState;
      if (s === 'disconnected' || s === 'failed') this.restartIce();
    }, ms);
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

function candidateInit(c: RTCIceCandidate): NonNullable<Candidate> {
  return { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment };
}
