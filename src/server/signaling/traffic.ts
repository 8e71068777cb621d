// What this instance's signaling carries, counted for /metrics and the Status page: messages by type, and file transfers the ledger reports as under way.
import { CLIENT_MESSAGE_TYPES, type ClientMessage, type TransferState } from '../../shared/protocol.js';

type ClientMessageType = ClientMessage['type'];

/** A transfer is over once its ledger says one of these; `offered` and `resumed` mean it is still under way. */
const FINAL: ReadonlySet<TransferState> = new Set(['declined', 'verified', 'failed', 'cancelled']);

/** How long a transfer counts as in progress after its last report (a closed tab or an offer nobody answers never reports again). */
export const TRANSFER_EXPIRY_MS = 60 * 60_000;

/** How many transfers one instance keeps track of; beyond that the least recently reported is forgotten. */
export const MAX_TRACKED_TRANSFERS = 10_000;

/** How many seconds the messages-per-second figure averages over. */
const RATE_WINDOW_S = 10;

/**
 * SignalingTraffic — the per-instance counts. Fed by each connection after a frame validates
 * (its type is then one of the protocol's, never raw input) and after a ledger report was accepted.
 */
export class SignalingTraffic {
  private readonly counts = new Map<ClientMessageType, number>(CLIENT_MESSAGE_TYPES.map((t) => [t, 0]));
  private total = 0;
  /** Transfer id → when it was last reported not final; in report order (oldest first). */
  private readonly transfers = new Map<string, number>();
  /** Messages per whole second, for the last {@link RATE_WINDOW_S} seconds (a ring indexed by second). */
  private readonly perSecond = new Array<number>(RATE_WINDOW_S + 1).fill(0);
  private readonly secondOf = new Array<number>(RATE_WINDOW_S + 1).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  /** received — one frame that validated as a message of `type`. */
  received(type: ClientMessageType): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    this.total++;
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.perSecond.length;
    if (this.secondOf[slot] !== second) {
      this.secondOf[slot] = second;
      this.perSecond[slot] = 0;
    }
    this.perSecond[slot]!++;
  }

  /** handled — a message its handler accepted; ledger reports move the transfers in progress. */
  handled(msg: ClientMessage): void {
    if (msg.type !== 'ledger') return;
    // "To everyone" is a summary line: each receiver's copy travels under its own id, which
    // only ever reports its end, so the summary would never end here.
    if (msg.to === null && !msg.from) return;
    this.transfers.delete(msg.transferId);
    if (FINAL.has(msg.state)) return;
    this.transfers.set(msg.transferId, this.now());
    if (this.transfers.size > MAX_TRACKED_TRANSFERS) this.transfers.delete(this.transfers.keys().next().value!);
  }

  /** messages — counts by type since this instance started (every type, zero included). */
  messages(): ReadonlyMap<ClientMessageType, number> {
    return this.counts;
  }

  /** messagesTotal — every validated message since this instance started. */
  messagesTotal(): number {
    return this.total;
  }

  /** messagesPerSecond — the average over the last {@link RATE_WINDOW_S} whole seconds. */
  messagesPerSecond(): number {
    const current = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < this.perSecond.length; i++) {
      const second = this.secondOf[i]!;
      if (second < current && second >= current - RATE_WINDOW_S) sum += this.perSecond[i]!;
    }
    return sum / RATE_WINDOW_S;
  }

  /** transfersInProgress — transfers whose latest report is not final, heard of within {@link TRANSFER_EXPIRY_MS}. */
  transfersInProgress(): number {
    const oldest = this.now() - TRANSFER_EXPIRY_MS;
    for (const [id, at] of this.transfers) {
      if (at > oldest) break;
      this.transfers.delete(id);
    }
    return this.transfers.size;
  }
}
