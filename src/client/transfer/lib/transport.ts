// What the transfer manager needs from its surroundings: data channels, who is who, and the signaling socket.
import type { TransferSignal } from './messages.js';

/** Person — a signed-in user as the server lists them (identity never comes from a peer's claim). */
export interface Person {
  userId: string;
  displayName: string;
}

/** ChannelTransport — opens data channels to a peer and reports channels peers open to us. */
export interface ChannelTransport {
  /** open — a new ordered, reliable channel to `peerId`; null when there is no way to reach it now. */
  open(peerId: string, label: string): RTCDataChannel | null;
  onChannel(fn: (peerId: string, dc: RTCDataChannel) => void): () => void;
  /** drop — closes the connections (or channels) under the transfers: a test hook for "the network went away". */
  drop(): void;
}

/**
 * Directory — the server's view of who is reachable: a user's tabs (peer ids) change on every
 * reconnect and reload, so transfers are keyed by user id and a stable transfer id instead.
 */
export interface Directory {
  userOf(peerId: string): Person | null;
  peersOf(userId: string): string[];
  onChange(fn: () => void): () => void;
}

/** SignalPort — `{kind:'app', app:'transfer'}` messages through the signaling server. */
export interface SignalPort {
  send(to: string, msg: TransferSignal): boolean;
  on(fn: (from: string, data: unknown) => void): () => void;
}

/**
 * LedgerPost — records a transfer's state in the room's chat (rooms only). The sender reports
 * with `to`; the receiver reports its own check with `from` (the sending peer) and `to: null`:
 * only that can say `verified`.
 */
export type LedgerPost = (entry: { transferId: string; to: string | null; from?: string; name: string; size: number; sha256: string | null; state: 'offered' | 'declined' | 'resumed' | 'verified' | 'failed' | 'cancelled' }) => void;

/** CHANNEL_PREFIX — data channels of file transfers are labelled `hf:<transferId>`. */
export const CHANNEL_PREFIX = 'hf:';
