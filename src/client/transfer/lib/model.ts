// Shared shapes of the transfer core: statuses, the row model the UI renders, and the context a transfer works in.
import type { Disk } from './disk.js';
import type { TransferSignal } from './messages.js';
import type { TransferStore } from './store.js';
import type { ChannelTransport } from './transport.js';
import type { Tuning } from './tuning.js';

/**
 * TransferStatus — offered (waiting for Accept) → queued (an earlier file of the offer goes
 * first) → connecting → active ⇄ waiting (the other side or the connection is gone) →
 * verifying → verified. A sender whose page reloaded is `needs-file` until the user picks
 * the file again (then `checking` while its first chunks are compared).
 */
export type TransferStatus =
  | 'offered' | 'queued' | 'connecting' | 'active' | 'waiting' | 'needs-file' | 'checking' | 'verifying'
  | 'verified' | 'declined' | 'cancelled' | 'failed';

export const FINAL: ReadonlySet<TransferStatus> = new Set(['verified', 'declined', 'cancelled', 'failed']);

/** Counters — what tests and the benchmark read: bytes sent, sent again, chunks rejected. */
export interface Counters {
  /** Chunk bytes put on the wire (sender) or that arrived (receiver). */
  bytes: number;
  /** Sender: bytes of chunks sent more than once (after drops and rejections). */
  resent: number;
  /** Chunks whose hash did not match (receiver: detected; sender: asked again). */
  rejected: number;
  /** Data channels this transfer has used (1 + number of resumes). */
  sessions: number;
  /** Receiver: sessions the progress watchdog dropped (alive, but no bytes for `stallMs`). */
  stalls: number;
}

/** TransferInfo — one file's row, as the UI shows it. */
export interface TransferInfo {
  /** This tab's key for the transfer (a receiver's own random id: never one a peer chose). */
  id: string;
  /** The id both sides know: the sender's (on the receiving side only ever looked up with the sender's user id). */
  transferId: string;
  direction: 'send' | 'receive';
  name: string;
  size: number;
  peerName: string;
  status: TransferStatus;
  /** Bytes verified by the receiver (written to its disk and hash-checked). */
  done: number;
  /** Bytes per second, recent. */
  speed: number;
  /** Sender: bytes of the file hashed ahead of sending (while the offer waits); receiver: 0. */
  hashedAhead: number;
  sha256: string | null;
  error: string | null;
  /** The sender must pick the file again (receiver: the sender was asked to). */
  waitingForFile: boolean;
  counters: Counters;
}

export type NoticeKind = 'info' | 'success' | 'error';
export type LedgerState = 'offered' | 'declined' | 'resumed' | 'verified' | 'failed' | 'cancelled';

/** ReceiverReport — what a receiver says about a file in the room's ledger: its own whole-file check. */
interface ReceiverReport {
  transferId: string;
  /** The sending tab's peer id. */
  from: string;
  name: string;
  size: number;
  sha256: string;
  state: 'verified' | 'failed';
}

/** DebugHooks — test-only levers (exposed on window.__hearth.transfers.debug). */
export interface DebugHooks {
  /** Corrupt this many upcoming received chunks before they are checked. */
  corrupt: number;
  /** Damage this many chunks as a faulty disk would (see `damaged` in incoming.ts): only the final SHA-256 can notice. */
  corruptDisk: number;
  /**
   * The next sending session goes quiet after this many chunks: its channel stays open and keeps
   * answering pings, so only the receiver's progress watchdog can notice (then reset to 0).
   */
  stallSender: number;
}

/** TransferContext — what a single transfer may use; the manager provides it. */
export interface TransferContext {
  readonly channels: ChannelTransport;
  readonly store: TransferStore | null;
  readonly disk: Disk | null;
  readonly tuning: Tuning;
  readonly debug: DebugHooks;
  /** Rooms: the receiver records its own check of a file in the room's chat. */
  report?: (entry: ReceiverReport) => void;
  changed(id: string): void;
  notice(text: string, kind: NoticeKind): void;
  signal(peerId: string, msg: TransferSignal): void;
  peersOf(userId: string): string[];
  /** settled — the transfer reached a final status (the next file of its offer may start). */
  settled(id: string): void;
  /** stalled — a channel closed before the end: look for the other side now, not at the next tick. */
  stalled(): void;
}

/** errorText — a user-facing sentence for a failure inside the browser. */
export function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'QuotaExceededError') return 'There is not enough free storage space in this browser for the file.';
  if (e?.name === 'NotReadableError' || e?.name === 'NotFoundError') return 'The file could not be read any more (was it moved, changed or deleted?).';
  if (e?.name === 'FileChangedError') return 'The file changed while it was being sent.';
  return e?.message || 'Something went wrong.';
}
