// One RTCPeerConnection to one remote peer, negotiated: perfect negotiation, trickle ICE, early
// candidates buffered, an ICE restart on failure if asked. The only code in the browser that
// makes offers and answers: calls (MediaLink adds camera, microphone and shared streams) and
// lobby transfers (data channels alone) both negotiate through it. No DOM.
import type { SignalPayload } from '../../../shared/protocol.js';
import { Emitter } from './emitter.js';

/** Negotiation — what two PeerLinks say to each other through the server: descriptions and candidates. */
export type Negotiation = Exclude<SignalPayload, { kind: 'app' }>;
type Description = Extract<Negotiation, { kind: 'description' }>['description'];
type Candidate = Extract<Negotiation, { kind: 'candidate' }>['candidate'];

export interface PeerLinkOptions {
  /** polite — this side yields on an offer collision. Both ends must agree: calls and lobby links make the peer whose id sorts lower polite. */
  polite: boolean;
  config: RTCConfiguration;
  /** send — a description or candidate for the remote peer, through the signaling server. */
  send(payload: Negotiation): void;
  /** iceRestart — a failed (or long disconnected) connection restarts ICE by itself; without it the owner decides what a broken connection means. */
  iceRestart: boolean;
}

export type PeerLinkEvents = {
  state: (state: RTCPeerConnectionState) => void;
  /** negotiated — signaling returned to stable with a remote description (what depends on it can be (re)applied). */
  negotiated: () => void;
  /** failed — a description from the remote could not be applied: the connection may not work any more. */
  failed: (err: unknown) => void;
};

/**
 * The server's newest ICE servers and transport policy (`welcome`, `ice-servers`: TURN
 * credentials expire): they win over a link's own, new links are made with them and live ones
 * get them at once (used from their next ICE restart on).
 */
let serverIce: Pick<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'> | null = null;
const liveLinks = new Set<PeerLink>();

/** setIceConfiguration — the server's ICE servers and policy, for every connection of this tab. */
export function setIceConfiguration(ice: { iceServers: RTCIceServer[]; iceTransportPolicy: RTCIceTransportPolicy }): void {
  const next = { iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy };
  // A reconnect's welcome without TURN brings nothing new: live connections are left alone.
  if (JSON.stringify(next) === JSON.stringify(serverIce)) return;
  serverIce = next;
  for (const link of liveLinks) {
    try {
      link.pc.setConfiguration({ ...link.pc.getConfiguration(), ...serverIce });
    } catch (err) {
      console.warn(`new ICE servers for ${link.peerId} refused`, err);
    }
  }
}

/** RESTART_AFTER_DISCONNECTED_MS — a `disconnected` connection gets an ICE restart after this long. */
const RESTART_AFTER_DISCONNECTED_MS = 3_000;
const MIN_RESTART_GAP_MS = 4_000;

/**
 * PeerLink — one connection, negotiated with the "perfect negotiation" pattern
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): either side may offer at any
 * time (a first data channel, renegotiation for screen sharing, ICE restarts); on a collision
 * the polite side rolls its offer back and answers, the impolite side ignores the other's offer.
 * Candidates that arrive before their description are kept until it is applied.
 *
 * A subclass may rewrite remote descriptions before they are applied (`remoteSdp`) and prepare
 * its side before an answer is made (`beforeAnswer`): MediaLink attaches its tracks there.
 */
export class PeerLink extends Emitter<PeerLinkEvents> {
  readonly pc: RTCPeerConnection;
  closed = false;
  private makingOffer = false;
  private ignoreOffer = false;
  private readonly pending: RTCIceCandidateInit[] = [];
  private queue: Promise<void> = Promise.resolve();
  private disconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRestart = 0;

  constructor(readonly peerId: string, private readonly options: PeerLinkOptions) {
    super();
    const pc = new RTCPeerConnection({ ...options.config, ...serverIce });
    this.pc = pc;
    liveLinks.add(this);
    // addEventListener, not on… properties: owners and features (file transfer) add their own listeners.
    pc.addEventListener('negotiationneeded', () => void this.offer());
    pc.addEventListener('icecandidate', (e) => {
      // The end-of-candidates marker (null) is not sent: Chromium and Firefox do not need it.
      if (e.candidate && e.candidate.candidate) options.send({ kind: 'candidate', candidate: candidateInit(e.candidate) });
    });
    pc.addEventListener('connectionstatechange', () => this.onConnectionState());
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState === 'stable' && pc.remoteDescription) this.emit('negotiated');
    });
  }

  get polite(): boolean {
    return this.options.polite;
  }

  /** offerNow — starts an offer at once instead of waiting for the negotiationneeded task (a few ms sooner to the first frame). */
  offerNow(): void {
    void this.offer();
  }

  /** receive — handles a description or candidate from the remote peer, strictly in arrival order. */
  receive(payload: Negotiation): void {
    this.queue = this.queue.then(() => this.handle(payload)).catch((err: unknown) => {
      if (this.closed) return;
      console.warn(`signal from ${this.peerId} failed`, err);
      this.emit('failed', err);
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
    liveLinks.delete(this);
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.pc.close();
  }

  /** remoteSdp — the remote's SDP as it will be applied (a subclass may ask for codec options here). */
  protected remoteSdp(sdp: string): string {
    return sdp;
  }

  /** beforeAnswer — runs after a remote offer is applied, before the answer is made. */
  protected async beforeAnswer(): Promise<void> {}

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

  private async handle(payload: Negotiation): Promise<void> {
    if (this.closed) return;
    if (payload.kind === 'description') await this.onDescription(payload.description);
    else await this.onCandidate(payload.candidate);
  }

  private async onDescription(d: Description): Promise<void> {
    const pc = this.pc;
    const collision = d.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    // The polite side's pending offer is rolled back implicitly by setRemoteDescription(offer).
    await pc.setRemoteDescription({ type: d.type, sdp: d.sdp === undefined ? undefined : this.remoteSdp(d.sdp) } as RTCSessionDescriptionInit);
    await this.flushCandidates();
    if (d.type === 'offer') {
      await this.beforeAnswer();
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
    this.options.send({ kind: 'description', description: { type: d.type, sdp: d.sdp } });
  }

  // ---- connectivity ----------------------------------------------------------------------

  private onConnectionState(): void {
    const s = this.pc.connectionState;
    this.emit('state', s);
    if (!this.options.iceRestart) return;
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

function candidateInit(c: RTCIceCandidate): NonNullable<Candidate> {
  return { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment };
}
