// Offers waiting for the receiver's answer: how many one person (and everyone together) may queue, and which refusals are answered.

/** InboxLimits — what a page lets others queue up for its user's attention. */
export interface InboxLimits {
  /** Offers one person may have waiting; more are declined automatically. */
  perSender: number;
  /** Offers waiting in all; more are declined automatically. */
  total: number;
  /** Automatic declines sent in a burst (each costs this tab a signaling message)… */
  answers: number;
  /** …and how often one more is allowed after that. */
  answerRefillMs: number;
}

/**
 * INBOX_LIMITS — three offers from one person is more than anyone sends by hand (an offer holds
 * up to 64 files); twelve in all still fits on a screen.
 */
const INBOX_LIMITS: InboxLimits = { perSender: 3, total: 12, answers: 10, answerRefillMs: 1_000 };

/** PendingOffer — what the inbox needs to know about an offer. */
export interface PendingOffer {
  /** This tab's own id for the offer. */
  id: string;
  /** The sender's id for it (only ever looked up together with the sender's user id). */
  offerId: string;
  sender: { userId: string; displayName: string };
}

/**
 * Admission — an offer goes in the list, or is refused: `answer` says whether to tell the sender
 * (from a budget: a peer flooding offers must not make this tab flood its own socket, which the
 * server would cut off), `warn` whether to tell the user (once per flood, not once per offer).
 */
export type Admission =
  | { admitted: true }
  | { admitted: false; reason: 'sender' | 'total'; answer: boolean; warn: boolean };

/** OfferInbox — the offers waiting for an answer, in arrival order, with the limits above. */
export class OfferInbox<O extends PendingOffer> {
  private readonly offers = new Map<string, O>();
  /** Senders (and `total`) already warned about since they last fell below their limit. */
  private readonly warned = new Set<string>();
  private warnedTotal = false;
  private tokens: number;
  private refilledAt: number | null = null;

  constructor(private readonly limits: InboxLimits = INBOX_LIMITS) {
    this.tokens = limits.answers;
  }

  get size(): number {
    return this.offers.size;
  }

  /** admit — adds `offer` unless its sender or the list is full. */
  admit(offer: O, now = Date.now()): Admission {
    const userId = offer.sender.userId;
    let reason: 'sender' | 'total' | null = null;
    let warn = false;
    if (this.fromSender(userId) >= this.limits.perSender) {
      reason = 'sender';
      warn = !this.warned.has(userId);
      this.warned.add(userId);
    } else if (this.offers.size >= this.limits.total) {
      reason = 'total';
      warn = !this.warnedTotal;
      this.warnedTotal = true;
    }
    if (!reason) {
      this.offers.set(offer.id, offer);
      return { admitted: true };
    }
    return { admitted: false, reason, answer: this.spend(now), warn };
  }

  get(id: string): O | undefined {
    return this.offers.get(id);
  }

  /** find — the offer `offerId` from user `userId` (two people may use the same offer id). */
  find(userId: string, offerId: string): O | undefined {
    for (const o of this.offers.values()) if (o.sender.userId === userId && o.offerId === offerId) return o;
    return undefined;
  }

  /** remove — takes an answered or withdrawn offer out; its sender may be warned again after a new flood. */
  remove(id: string): O | undefined {
    const o = this.offers.get(id);
    if (!o) return undefined;
    this.offers.delete(id);
    if (this.fromSender(o.sender.userId) < this.limits.perSender) this.warned.delete(o.sender.userId);
    if (this.offers.size < this.limits.total) this.warnedTotal = false;
    return o;
  }

  list(): O[] {
    return [...this.offers.values()];
  }

  private fromSender(userId: string): number {
    let n = 0;
    for (const o of this.offers.values()) if (o.sender.userId === userId) n++;
    return n;
  }

  /** spend — takes one answer from the budget (a token bucket); false when it is empty. */
  private spend(now: number): boolean {
    if (this.refilledAt === null) this.refilledAt = now;
    const earned = Math.floor((now - this.refilledAt) / this.limits.answerRefillMs);
    if (earned > 0) {
      this.tokens = Math.min(this.limits.answers, this.tokens + earned);
      this.refilledAt += earned * this.limits.answerRefillMs;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
