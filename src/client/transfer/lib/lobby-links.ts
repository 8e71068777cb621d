// Lobby transfers: one data-only PeerLink per remote tab, negotiated through `transfer-rtc` app
// messages (kept apart from a call's own negotiation), let in only for accepted transfers.
import { PeerLink } from '../../shared/lib/peer-link.js';
import { parseRtc, randomId, rtcData } from './messages.js';
import type { ChannelTransport } from './transport.js';

/** LobbyLinksOptions — how to reach the signaling server, and whom to let in. */
export interface LobbyLinksOptions {
  /** send — a `transfer-rtc` message to `to`. */
  send(to: string, data: unknown): void;
  selfPeerId(): string | null;
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
  peer: PeerLink;
  /** Our id for this connection instance, and the far side's: a message for another instance is stale. */
  local: string;
  remote: string | null;
  channels: Set<RTCDataChannel>;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * LobbyLinks — a ChannelTransport over connections of its own. Each side tags its messages with
 * its connection instance id: when one side starts over (its connection failed, or the page
 * reloaded), its new offer replaces our old connection instead of confusing it. A connection is
 * only ever made by us (`open`, to send) or for a peer `accepts` lets in. A broken connection is
 * not repaired (no ICE restart): it is closed, its channels' transfers resume on a new one.
 */
export class LobbyLinks implements ChannelTransport {
  private readonly links = new Map<string, Link>();
  private readonly listeners = new Set<(peerId: string, dc: RTCDataChannel) => void>();

  constructor(private readonly opts: LobbyLinksOptions) {}

  open(peerId: string, label: string): RTCDataChannel | null {
    const old = this.links.get(peerId);
    // A channel on a broken connection would never open: start a fresh one (the far side
    // replaces its end when our offer names a new connection).
    if (old && ['failed', 'closed', 'disconnected'].includes(old.peer.pc.connectionState)) this.dispose(peerId);
    const link = this.links.get(peerId) ?? this.create(peerId, null);
    try {
      const dc = link.peer.pc.createDataChannel(label, { ordered: true });
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

  /** handle — a `transfer-rtc` message relayed from `from`. */
  handle(from: string, data: unknown): void {
    const m = parseRtc(data);
    if (!m) return;
    const offer = m.payload.kind === 'description' && m.payload.description.type === 'offer';
    let link = this.links.get(from);
    if (link?.remote && link.remote !== m.pc) {
      if (!offer) return; // from a connection that no longer exists
      if (!this.opts.accepts(from)) return;
      this.dispose(from);
      link = undefined;
    }
    if (!link) {
      // Only an offer can start a connection, and only from a peer we have a transfer with.
      if (!offer || !this.opts.accepts(from)) return;
      link = this.create(from, m.pc);
    }
    link.remote = m.pc;
    link.peer.receive(m.payload);
  }

  private create(peerId: string, remote: string | null): Link {
    const local = randomId();
    const peer = new PeerLink(peerId, {
      polite: (this.opts.selfPeerId() ?? '') < peerId,
      config: { iceServers: this.opts.iceServers() },
      send: (payload) => this.opts.send(peerId, rtcData(local, payload)),
      iceRestart: false,
    });
    const link: Link = { peer, local, remote, channels: new Set(), timer: null };
    this.links.set(peerId, link);
    peer.pc.addEventListener('datachannel', (e) => {
      this.track(link, e.channel);
      for (const fn of this.listeners) fn(peerId, e.channel);
    });
    peer.on('state', (s) => {
      if (s === 'failed' || s === 'closed') this.dispose(peerId, link);
      else if (s === 'disconnected') this.arm(peerId, link, DISCONNECTED_MS);
      else if (s === 'connected' && link.channels.size) this.disarm(link);
    });
    // A failed negotiation leaves a connection that cannot work: start over on the next channel.
    peer.on('failed', () => this.dispose(peerId, link));
    return link;
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
      const s = link.peer.pc.connectionState;
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
    link.peer.close();
  }
}
