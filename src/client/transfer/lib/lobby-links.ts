// Lobby transfers: one data-only RTCPeerConnection per remote tab, negotiated through `transfer-rtc`
// app messages (never the call's description/candidate payloads), with perfect negotiation.
import { parseRtc, randomId, RTC_APP, type RtcSignal } from './messages.js';
import type { ChannelTransport } from './transport.js';

/** LobbyLinksOptions — how to reach the signaling server, and whom to let in. */
export interface LobbyLinksOptions {
  send(to: string, data: RtcSignal): void;
  selfId(): string | null;
  iceServers(): RTCIceServer[];
  /**
   * accepts — may `peerId` set up a connection with us (a transfer between us was accepted)?
   * Asked before answering anyone's offer: building and answering a connection reveals this
   * machine's addresses, so it never happens before the user said yes.
   */
  accepts(peerId: string): boolean;
}

// An idle connection (no open channel) is closed after this long; a new transfer makes a new one.
const IDLE_MS = 30_000;
// A connection that stays `disconnected` this long is given up (channels reopen on a new one).
const DISCONNECTED_MS = 5_000;

interface Link {
  pc: RTCPeerConnection;
  /** Our id for this connection instance, and the far side's: a message for another instance is stale. */
  local: string;
  remote: string | null;
  polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  pending: RTCIceCandidateInit[];
  queue: Promise<void>;
  channels: Set<RTCDataChannel>;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * LobbyLinks — a ChannelTransport over self-made connections. The peer whose id sorts lower is
 * polite (the same rule as the call mesh). Each side tags its messages with its connection
 * instance id: when one side starts over (its connection failed, or the page reloaded), its
 * new offer replaces our old connection instead of confusing it. A connection is only ever
 * made by us (`open`, to send) or for a peer `accepts` lets in.
 */
export class LobbyLinks implements ChannelTransport {
  private readonly links = new Map<string, Link>();
  private readonly listeners = new Set<(peerId: string, dc: RTCDataChannel) => void>();

  constructor(private readonly opts: LobbyLinksOptions) {}

  static readonly app = RTC_APP;

  open(peerId: string, label: string): RTCDataChannel | null {
    const old = this.links.get(peerId);
    // A channel on a broken connection would never open: start a fresh one (the far side
    // replaces its end when our offer names a new connection).
    if (old && ['failed', 'closed', 'disconnected'].includes(old.pc.connectionState)) this.dispose(peerId);
    const link = this.links.get(peerId) ?? this.create(peerId, null);
    try {
      const dc = link.pc.createDataChannel(label, { ordered: true });
      this.track(link, dc);
      return dc;
    } catch {
      this.dispose(peerId);
      return null;
    }
  }

  onChannel(fn: (peerId: string, dc: RTCDataChannel) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  drop(): void {
    for (const id of [...this.links.keys()]) this.dispose(id);
  }

  /** connection — the connection to a peer (tests and the benchmark read its stats). */
  connection(peerId: string): RTCPeerConnection | undefined {
    return this.links.get(peerId)?.pc;
  }

  /** handle — a `transfer-rtc` message relayed from `from`. */
  handle(from: string, data: unknown): void {
    const m = parseRtc(data);
    if (!m) return;
    let link = this.links.get(from);
    if (link?.remote && link.remote !== m.pc) {
      if (m.k !== 'sdp' || m.sdp.type !== 'offer') return; // from a connection that no longer exists
      if (!this.opts.accepts(from)) return;
      this.dispose(from);
      link = undefined;
    }
    if (!link) {
      // Only an offer can start a connection, and only from a peer we have a transfer with.
      if (m.k !== 'sdp' || m.sdp.type !== 'offer' || !this.opts.accepts(from)) return;
      link = this.create(from, m.pc);
    }
    link.remote = m.pc;
    const l = link;
    l.queue = l.queue.then(() => this.apply(from, l, m)).catch(() => {
      // A failed negotiation leaves a connection that cannot work: start over on the next channel.
      if (this.links.get(from) === l) this.dispose(from);
    });
  }

  private create(peerId: string, remote: string | null): Link {
    const pc = new RTCPeerConnection({ iceServers: this.opts.iceServers() });
    const self = this.opts.selfId() ?? '';
    const link: Link = { pc, local: randomId(), remote, polite: self < peerId, makingOffer: false, ignoreOffer: false, pending: [], queue: Promise.resolve(), channels: new Set(), timer: null };
    this.links.set(peerId, link);
    const send = (m: RtcSignal) => this.opts.send(peerId, m);
    pc.addEventListener('negotiationneeded', async () => {
      try {
        link.makingOffer = true;
        await pc.setLocalDescription();
        const d = pc.localDescription;
        if (d && (d.type === 'offer' || d.type === 'answer')) send({ k: 'sdp', pc: link.local, sdp: { type: d.type, sdp: d.sdp } });
      } catch {
        // The connection was closed meanwhile.
      } finally {
        link.makingOffer = false;
      }
    });
    pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate;
      if (c?.candidate) send({ k: 'cand', pc: link.local, cand: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment } });
    });
    pc.addEventListener('datachannel', (e) => {
      this.track(link, e.channel);
      for (const fn of this.listeners) fn(peerId, e.channel);
    });
    pc.addEventListener('connectionstatechange', () => {
      const s = pc.connectionState;
      if (s === 'failed' || s === 'closed') this.dispose(peerId, link);
      else if (s === 'disconnected') this.arm(peerId, link, DISCONNECTED_MS);
      else if (s === 'connected' && link.channels.size) this.disarm(link);
    });
    return link;
  }

  private async apply(peerId: string, link: Link, m: RtcSignal): Promise<void> {
    const pc = link.pc;
    if (m.k === 'cand') {
      if (!pc.remoteDescription) link.pending.push(m.cand);
      else await pc.addIceCandidate(m.cand).catch(() => undefined);
      return;
    }
    const offer = m.sdp.type === 'offer';
    const collision = offer && (link.makingOffer || pc.signalingState !== 'stable');
    link.ignoreOffer = !link.polite && collision;
    if (link.ignoreOffer) return;
    await pc.setRemoteDescription(m.sdp);
    for (const c of link.pending.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
    if (offer) {
      await pc.setLocalDescription();
      const d = pc.localDescription;
      if (d?.type === 'answer') this.opts.send(peerId, { k: 'sdp', pc: link.local, sdp: { type: 'answer', sdp: d.sdp } });
    }
  }

  private track(link: Link, dc: RTCDataChannel): void {
    link.channels.add(dc);
    this.disarm(link);
    dc.addEventListener('close', () => {
      link.channels.delete(dc);
      const id = [...this.links].find(([, l]) => l === link)?.[0];
      if (id && !link.channels.size) this.arm(id, link, IDLE_MS);
    });
  }

  private arm(peerId: string, link: Link, ms: number): void {
    this.disarm(link);
    link.timer = setTimeout(() => {
      const s = link.pc.connectionState;
      if (!link.channels.size || s === 'disconnected' || s === 'failed') this.dispose(peerId, link);
    }, ms);
  }

  private disarm(link: Link): void {
    if (link.timer) clearTimeout(link.timer);
    link.timer = null;
  }

  private dispose(peerId: string, only?: Link): void {
    const link = this.links.get(peerId);
    if (!link || (only && link !== only)) return;
    this.links.delete(peerId);
    this.disarm(link);
    // Closing the connection fires `close` on each of its channels (asynchronously), which is
    // how the transfers on it learn that they must resume.
    link.pc.close();
  }
}
