// Room transfers ride on the call's own RTCPeerConnections: channels labelled `hf:<id>` beside the media.
import { CHANNEL_PREFIX, type ChannelTransport } from './transport.js';

/**
 * PeerConnectionSource — what the room's call gives file transfer (its Mesh fits). Creating the
 * first data channel on a connection renegotiates it (the call's PeerLink handles that); the far
 * side receives it through the connection's `datachannel` event, so listeners must be on every
 * connection from its creation — hence `on('connection')`. When the call closes a connection,
 * Chromium fires `close` on its channels, and the transfers resume on the next one.
 */
export interface PeerConnectionSource {
  connection(peerId: string): RTCPeerConnection | undefined;
  /** peerIds — the peers with a connection now. */
  peerIds(): string[];
  on(event: 'connection', fn: (peerId: string, pc: RTCPeerConnection) => void): () => void;
}

/** RoomLinks — a ChannelTransport over the mesh's connections. */
export class RoomLinks implements ChannelTransport {
  private readonly listeners = new Set<(peerId: string, dc: RTCDataChannel) => void>();
  private readonly watched = new WeakSet<RTCPeerConnection>();
  private readonly channels = new Set<RTCDataChannel>();
  private readonly offs: (() => void)[] = [];

  constructor(private readonly source: PeerConnectionSource) {
    this.offs.push(source.on('connection', (peerId, pc) => this.watch(peerId, pc)));
    // Connections made before we were mounted.
    for (const id of source.peerIds()) {
      const pc = source.connection(id);
      if (pc) this.watch(id, pc);
    }
  }

  open(peerId: string, label: string): RTCDataChannel | null {
    const pc = this.source.connection(peerId);
    if (!pc || pc.signalingState === 'closed') return null;
    this.watch(peerId, pc);
    const dc = pc.createDataChannel(label, { ordered: true });
    this.track(dc);
    return dc;
  }

  onChannel(fn: (peerId: string, dc: RTCDataChannel) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** drop — closes every transfer channel (the call's connections stay up). */
  drop(): void {
    for (const dc of [...this.channels]) dc.close();
  }

  dispose(): void {
    for (const off of this.offs) off();
  }

  private watch(peerId: string, pc: RTCPeerConnection): void {
    if (this.watched.has(pc)) return;
    this.watched.add(pc);
    pc.addEventListener('datachannel', (e) => {
      // Other features may open channels of their own on the call's connection.
      if (!e.channel.label.startsWith(CHANNEL_PREFIX)) return;
      this.track(e.channel);
      for (const fn of this.listeners) fn(peerId, e.channel);
    });
  }

  private track(dc: RTCDataChannel): void {
    this.channels.add(dc);
    dc.addEventListener('close', () => this.channels.delete(dc));
  }
}
