// The transfer manager: offers and answers through the server, channels to transfers, resume after any drop, cleanup. No DOM.
import { Emitter } from '../../shared/lib/emitter.js';
import type { Disk } from './disk.js';
import { Incoming } from './incoming.js';
import { LIMITS, parseSignal, randomId, type FileMeta, type TransferSignal } from './messages.js';
import { type DebugHooks, type LedgerState, type NoticeKind, type TransferContext, type TransferInfo } from './model.js';
import { Outgoing, type OutOffer } from './outgoing.js';
import { loadStored } from './restore.js';
import { claim, type IncomingRecord, type OutgoingRecord, type TransferStore } from './store.js';
import { CHANNEL_PREFIX, type ChannelTransport, type Directory, type LedgerPost, type Person, type SignalPort } from './transport.js';
import { DEFAULT_TUNING, type Tuning } from './tuning.js';
import { displayFileName } from './filename.js';
import { OfferInbox } from './offer-inbox.js';
import { offerName, push, splitOffer } from './offer-split.js';

/** IncomingOffer — what the receiver is asked to accept. */
export interface IncomingOffer {
  /** This tab's own id for the offer (what the page's buttons name). */
  id: string;
  /** The sender's id for it: only sent back, or looked up together with the sender's user id. */
  offerId: string;
  /** The sending tab (peer id) and who it is, per the server. */
  from: string;
  sender: Person;
  files: FileMeta[];
  total: number;
}

export type ManagerEvents = {
  /** change — a transfer's row changed, appeared or went away. */
  change: (id: string) => void;
  offer: (offer: IncomingOffer) => void;
  'offer-closed': (offerId: string, why: 'answered' | 'withdrawn') => void;
  notice: (text: string, kind: NoticeKind) => void;
};

export interface ManagerOptions {
  signal: SignalPort;
  channels: ChannelTransport;
  directory: Directory;
  store: TransferStore | null;
  disk: Disk | null;
  /** 'lobby' or 'room:<slug>': transfers resume only where both sides can signal each other. */
  scope: string;
  selfUserId: string;
  /** Rooms record every transfer in the chat. */
  ledger?: LedgerPost;
  tuning?: Partial<Tuning>;
}

const TICK_MS = 2_000;
// "<Name> withdrew the offer" at most this often per person: offering and withdrawing in a loop must not stack up notices.
const WITHDRAWN_NOTICE_MS = 30_000;
/** How often a receiver records its on-disk bitmap: a reload re-fetches at most this much. */
const PERSIST_MS = 500;

/**
 * TransferManager — owns every transfer of this tab. Peers are untrusted: every signal is
 * validated, and acted on only when the server's directory says its sender is the person
 * the transfer is with. Transfers are keyed by random ids and user ids, never peer ids
 * (those change with every reconnect and reload).
 */
export class TransferManager extends Emitter<ManagerEvents> {
  readonly outgoing = new Map<string, Outgoing>();
  readonly incoming = new Map<string, Incoming>();
  readonly debug: DebugHooks = { corrupt: 0, corruptDisk: 0, stallSender: 0 };
  readonly tuning: Tuning;
  private readonly offersOut = new Map<string, OutOffer>();
  private prehashing: Promise<void> = Promise.resolve();
  private readonly offersIn = new OfferInbox<IncomingOffer>();
  private readonly ctx: TransferContext;
  private readonly offs: (() => void)[] = [];
  private readonly timers: ReturnType<typeof setInterval>[];
  private soon: ReturnType<typeof setTimeout> | null = null;
  private readonly withdrawnNoticeAt = new Map<string, number>();

  constructor(private readonly opts: ManagerOptions) {
    super();
    this.tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.ctx = {
      channels: opts.channels, store: opts.store, disk: opts.disk, tuning: this.tuning, debug: this.debug,
      report: opts.ledger ? (r) => opts.ledger!({ transferId: r.transferId, to: null, from: r.from, name: r.name, size: r.size, sha256: r.sha256, state: r.state }) : undefined,
      changed: (id) => this.emit('change', id),
      notice: (text, kind) => this.emit('notice', text, kind),
      signal: (peer, msg) => void opts.signal.send(peer, msg),
      peersOf: (userId) => opts.directory.peersOf(userId),
      settled: (id) => this.onSettled(id),
      stalled: () => this.tickSoon(),
    };
    this.offs.push(opts.signal.on((from, data) => this.onSignal(from, data)));
    this.offs.push(opts.channels.onChannel((peer, dc) => this.onChannel(peer, dc)));
    this.offs.push(opts.directory.onChange(() => this.tickSoon()));
    this.timers = [
      setInterval(() => this.tick(), TICK_MS),
      setInterval(() => this.persist(), PERSIST_MS),
    ];
  }

  /** canReceive — this browser can store received files (OPFS in a worker). */
  get canReceive(): boolean {
    return !!this.opts.disk;
  }

  /**
   * persist — receivers record what is on disk, senders the chunk hashes sent so far (what a
   * re-picked file is checked against after a reload; chunks sent since the last round are
   * covered by the final whole-file SHA-256).
   */
  persist(): void {
    for (const t of this.incoming.values()) if (t.active) void t.persist();
    for (const o of this.outgoing.values()) if (o.session) void o.persist();
  }

  /** dropConnections — test hook: the connections (lobby) or channels (room) under every transfer go away. */
  dropConnections(): void {
    this.opts.channels.drop();
  }

  /** closeChannels — test hook: closes every transfer's data channel (the connections stay). */
  closeChannels(): void {
    for (const t of [...this.outgoing.values(), ...this.incoming.values()]) t.session?.drop();
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
    for (const off of this.offs) off();
  }

  /** list — every transfer's row (sent ones, then received ones). */
  list(): TransferInfo[] {
    return [...this.outgoing.values(), ...this.incoming.values()].map((t) => t.info());
  }

  info(id: string): TransferInfo | null {
    return (this.outgoing.get(id) ?? this.incoming.get(id))?.info() ?? null;
  }

  /**
   * acceptsConnection — lobby: may `peerId` set up a data connection with this tab? Only a peer
   * whose person we accepted a transfer from (not over yet), or are sending one to (after they
   * accepted). Anyone else's negotiation is ignored: no connection is built, no address revealed.
   */
  acceptsConnection(peerId: string, now = Date.now()): boolean {
    const who = this.opts.directory.userOf(peerId);
    if (!who || who.userId === this.opts.selfUserId) return false;
    for (const t of this.incoming.values()) if (t.rec.peerUserId === who.userId && t.expecting(now)) return true;
    for (const o of this.outgoing.values()) if (o.rec.peerUserId === who.userId && o.offer.answered && !o.final) return true;
    return false;
  }

  // ---- sending -----------------------------------------------------------------------------

  /** send — offers `files` to `to` (all of their reachable tabs; the first to answer gets it). */
  send(files: File[], to: Person, opts: { everyone?: boolean } = {}): string[] {
    const targets = this.opts.directory.peersOf(to.userId);
    if (!targets.length) {
      this.emit('notice', `${to.displayName} cannot be reached right now.`, 'error');
      return [];
    }
    const ids: string[] = [];
    for (const group of splitOffer(files)) {
      const offer: OutOffer = { id: randomId(), to, targets, peer: null, answered: false, files: [], everyone: !!opts.everyone };
      const now = Date.now();
      offer.files = group.map((file, order) => {
        const rec: OutgoingRecord = {
          id: randomId(), offerId: offer.id, order, scope: this.opts.scope, peerUserId: to.userId, peerName: to.displayName,
          name: offerName(file.name), size: file.size, chunkSize: this.tuning.chunkSize, hashes: new Uint8Array(0), hashed: 0, createdAt: now, updatedAt: now,
        };
        const o = new Outgoing(this.ctx, rec, file, 'offered', (t, s) => this.ledger(t, s));
        o.offer = offer;
        this.outgoing.set(rec.id, o);
        ids.push(rec.id);
        if (!offer.everyone) this.ledger(o, 'offered');
        this.emit('change', rec.id);
        return o;
      });
      this.offersOut.set(offer.id, offer);
      // Hash while the person decides: one file at a time, so files are read in order, not all at once.
      for (const o of offer.files) this.prehashing = this.prehashing.then(() => o.prehash().catch(() => undefined));
      const msg: TransferSignal = { t: 'offer', offerId: offer.id, files: offer.files.map((o) => ({ id: o.id, name: o.rec.name, size: o.rec.size, chunkSize: o.rec.chunkSize })) };
      for (const p of targets) this.ctx.signal(p, msg);
    }
    return ids;
  }

  /** sendToEveryone — one offer per person in `people`; the ledger says "to everyone" once per file. */
  sendToEveryone(files: File[], people: Person[]): void {
    for (const f of files) this.opts.ledger?.({ transferId: randomId(), to: null, name: offerName(f.name), size: f.size, sha256: null, state: 'offered' });
    for (const p of people) this.send(files, p, { everyone: true });
  }

  /** pickAgain — the sender's page reloaded: `file` must be the same one. Null on success, else why not. */
  async pickAgain(id: string, file: File): Promise<string | null> {
    const o = this.outgoing.get(id);
    if (!o) return 'That transfer is gone.';
    const err = await o.pickAgain(file);
    if (!err) this.tickSoon();
    return err;
  }

  // ---- receiving ---------------------------------------------------------------------------

  /**
   * accept — records the files (so a reload can resume them) and tells the sender to start.
   * `id` is this tab's id for the offer. Each file gets a random id of ours: the key of its
   * record, its Web Lock and its stored file; the sender's id is kept only as `remoteId`.
   */
  async accept(id: string): Promise<void> {
    const offer = this.offersIn.remove(id);
    if (!offer) return;
    this.emit('offer-closed', id, 'answered');
    if (!this.canReceive) return this.answerDecline(offer);
    // The same file offered twice by one person (two offers, or a resend): one copy.
    if (offer.files.some((f) => this.incomingFrom(offer.sender.userId, f.id))) return this.answerDecline(offer);
    const est = await navigator.storage?.estimate?.().catch(() => null);
    if (est?.quota !== undefined && est.usage !== undefined && est.quota - est.usage < offer.total) {
      this.emit('notice', `Not enough free storage space in this browser for ${offer.files.length > 1 ? 'these files' : '“' + offer.files[0]!.name + '”'}; declined.`, 'error');
      return this.answerDecline(offer);
    }
    const now = Date.now();
    for (const [order, f] of offer.files.entries()) {
      const count = Math.ceil(f.size / f.chunkSize);
      const rec: IncomingRecord = {
        id: randomId(), remoteId: f.id, offerId: offer.offerId, order, scope: this.opts.scope, peerUserId: offer.sender.userId, peerName: offer.sender.displayName,
        name: f.name, size: f.size, chunkSize: f.chunkSize, state: 'receiving', bitmap: new Uint8Array(Math.ceil(count / 8)),
        frontier: 0, hashState: null, sha256: null, createdAt: now, updatedAt: now,
      };
      const release = await claim(`hearth-in:${rec.id}`);
      await this.opts.store?.put('in', rec).catch(() => undefined);
      this.incoming.set(rec.id, new Incoming(this.ctx, rec, order === 0 ? 'connecting' : 'queued', release));
      this.emit('change', rec.id);
    }
    this.ctx.signal(offer.from, { t: 'accept', offerId: offer.offerId });
  }

  /** decline — `id` is this tab's id for the offer. */
  decline(id: string): void {
    const offer = this.offersIn.remove(id);
    if (!offer) return;
    this.emit('offer-closed', id, 'answered');
    this.answerDecline(offer);
  }

  private answerDecline(offer: IncomingOffer): void {
    this.ctx.signal(offer.from, { t: 'decline', offerId: offer.offerId });
  }

  // ---- either side -------------------------------------------------------------------------

  cancel(id: string): void {
    const o = this.outgoing.get(id);
    if (o?.status === 'offered') return this.withdraw(o.offer);
    (o ?? this.incoming.get(id))?.cancel();
  }

  /** remove — takes a finished row away (a received file's stored copy is deleted). */
  async remove(id: string): Promise<void> {
    const o = this.outgoing.get(id);
    if (o) {
      if (!o.final) o.cancel();
      this.outgoing.delete(id);
    }
    const i = this.incoming.get(id);
    if (i) {
      if (!i.final) i.cancel();
      this.incoming.delete(id);
      await i.remove();
    }
    this.emit('change', id);
  }

  // ---- after a reload ----------------------------------------------------------------------

  /**
   * restore — picks up this scope's unfinished (and unsaved finished) transfers from IndexedDB,
   * those no other tab of this browser holds, and deletes what is older than a day.
   */
  async restore(now = Date.now()): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    const known = (id: string): boolean => this.incoming.has(id) || this.outgoing.has(id);
    const stored = await loadStored(store, this.opts.disk, this.opts.scope, known, now);
    for (const { rec, release } of stored.incoming) this.adoptIncoming(rec, release);
    for (const { rec, release } of stored.outgoing) this.adoptOutgoing(rec, release);
    this.tickSoon();
    // Held by a page still unloading after a reload, or by another tab: ours once it lets go.
    for (const { kind, id } of stored.held) {
      void claim(`hearth-${kind}:${id}`, { wait: true }).then(async (release) => {
        const rec = await store.get(kind, id).catch(() => undefined);
        if (!rec || known(id)) return release();
        if (kind === 'in') this.adoptIncoming(rec as IncomingRecord, release);
        else this.adoptOutgoing(rec as OutgoingRecord, release);
        this.tickSoon();
      });
    }
  }

  private adoptIncoming(rec: IncomingRecord, release: () => void): void {
    this.incoming.set(rec.id, new Incoming(this.ctx, rec, 'waiting', release));
    this.emit('change', rec.id);
  }

  private adoptOutgoing(rec: OutgoingRecord, release: () => void): void {
    let offer = this.offersOut.get(rec.offerId);
    if (!offer) this.offersOut.set(rec.offerId, (offer = { id: rec.offerId, to: { userId: rec.peerUserId, displayName: rec.peerName }, targets: [], peer: null, answered: true, files: [], everyone: false }));
    // The File object died with the old page: the user is asked to pick it again.
    const o = new Outgoing(this.ctx, rec, null, 'needs-file', (t, s) => this.ledger(t, s));
    o.offer = offer;
    o.hold(release);
    offer.files.push(o);
    offer.files.sort((a, b) => a.rec.order - b.rec.order);
    this.outgoing.set(rec.id, o);
    this.emit('change', rec.id);
  }

  // ---- signals -----------------------------------------------------------------------------

  private onSignal(from: string, data: unknown): void {
    const m = parseSignal(data);
    const who = this.opts.directory.userOf(from);
    if (!m || !who || who.userId === this.opts.selfUserId) return;
    switch (m.t) {
      case 'offer': return this.onOffer(from, who, m.offerId, m.files);
      case 'accept': return void this.onAccept(from, who, m.offerId);
      case 'decline': return this.onDecline(from, who, m.offerId);
      case 'taken': return this.onTaken(who, m.offerId);
      case 'cancel': return this.onCancel(who, m.ids, m.reason ?? 'cancelled');
      case 'resume': return this.onResume(from, who, m.ids);
      case 'knock': return this.onKnock(from, who, m.ids);
      case 'wait': {
        for (const id of m.ids) {
          const t = this.incomingFrom(who.userId, id);
          if (t && !t.final) {
            t.waitingForFile = true;
            this.emit('change', t.id);
          }
        }
      }
    }
  }

  /**
   * onOffer — an offer goes into the list of offers waiting for an answer (never straight to a
   * connection), within OfferInbox's limits; beyond them it is declined, and the user told once.
   */
  private onOffer(from: string, sender: Person, offerId: string, files: FileMeta[]): void {
    if (this.offersIn.find(sender.userId, offerId) || files.some((f) => this.incomingFrom(sender.userId, f.id))) return;
    const offer: IncomingOffer = { id: randomId(), offerId, from, sender, files: files.map((f) => ({ ...f, name: displayFileName(f.name) })), total: files.reduce((n, f) => n + f.size, 0) };
    const a = this.offersIn.admit(offer);
    if (a.admitted) {
      this.emit('offer', offer);
      return;
    }
    if (a.answer) this.ctx.signal(from, { t: 'decline', offerId });
    if (a.warn) {
      this.emit('notice', a.reason === 'sender'
        ? `${sender.displayName} is offering more files than you can answer: further offers from them are declined until you answer these.`
        : 'Too many offers are waiting for your answer: new ones are declined until you answer some.', 'info');
    }
  }

  /** incomingFrom — the file user `userId` calls `transferId` (ids are theirs: only ever looked up with who they are). */
  private incomingFrom(userId: string, transferId: string): Incoming | undefined {
    for (const t of this.incoming.values()) if (t.rec.peerUserId === userId && t.transferId === transferId) return t;
    return undefined;
  }

  private async onAccept(from: string, who: Person, offerId: string): Promise<void> {
    const offer = this.offersOut.get(offerId);
    if (!offer || offer.to.userId !== who.userId) return;
    if (offer.answered) {
      if (offer.peer !== from) this.ctx.signal(from, { t: 'taken', offerId });
      return;
    }
    offer.answered = true;
    offer.peer = from;
    for (const p of offer.targets) if (p !== from) this.ctx.signal(p, { t: 'taken', offerId });
    for (const o of offer.files) {
      if (o.final) continue;
      o.hold((await claim(`hearth-out:${o.id}`)) ?? (() => {}));
      await this.opts.store?.put('out', o.rec).catch(() => undefined);
      o.setStatus('queued');
    }
    await Promise.all(offer.files.map((o) => o.prepare().catch((err: unknown) => o.fail(err))));
    this.startNext(offer);
  }

  private onDecline(from: string, who: Person, offerId: string): void {
    const offer = this.offersOut.get(offerId);
    if (!offer || offer.to.userId !== who.userId || offer.answered) return;
    offer.answered = true;
    offer.peer = from;
    for (const p of offer.targets) if (p !== from) this.ctx.signal(p, { t: 'taken', offerId });
    const names = offer.files.filter((o) => !o.final).map((o) => `“${o.rec.name}”`);
    for (const o of offer.files) o.declined();
    if (names.length) this.emit('notice', `${who.displayName} declined ${names.join(', ')}.`, 'info');
  }

  private onTaken(who: Person, offerId: string): void {
    const offer = this.offersIn.find(who.userId, offerId);
    if (offer) {
      this.offersIn.remove(offer.id);
      this.emit('offer-closed', offer.id, 'answered');
    }
    // Both tabs accepted and the other won: this one's records go.
    for (const t of [...this.incoming.values()]) {
      if (t.rec.offerId === offerId && t.rec.peerUserId === who.userId && !t.final) {
        this.incoming.delete(t.id);
        void t.remove();
        this.emit('change', t.id);
      }
    }
  }

  private onCancel(who: Person, ids: string[], reason: 'cancelled' | 'failed'): void {
    for (const id of ids) {
      const o = this.outgoing.get(id);
      if (o && o.rec.peerUserId === who.userId) o.remoteCancel(reason);
      this.incomingFrom(who.userId, id)?.remoteCancel(reason);
    }
    for (const offer of this.offersIn.list()) {
      if (offer.sender.userId === who.userId && offer.files.some((f) => ids.includes(f.id))) {
        this.offersIn.remove(offer.id);
        this.emit('offer-closed', offer.id, 'withdrawn');
        const now = Date.now();
        if (now - (this.withdrawnNoticeAt.get(who.userId) ?? -Infinity) < WITHDRAWN_NOTICE_MS) continue;
        this.withdrawnNoticeAt.set(who.userId, now);
        this.emit('notice', `${who.displayName} withdrew the offer.`, 'info');
      }
    }
  }

  /** onResume — the receiving tab (maybe with a new peer id) asks us to continue. */
  private onResume(from: string, who: Person, ids: string[]): void {
    const wait: string[] = [];
    for (const id of ids) {
      const o = this.outgoing.get(id);
      if (!o || o.final || o.rec.peerUserId !== who.userId || !o.offer.answered) continue;
      o.offer.peer = from;
      if (o.status === 'needs-file' || o.status === 'checking') {
        wait.push(id);
        continue;
      }
      if (this.current(o.offer) !== o) continue; // an earlier file of the offer goes first
      // A request that crossed our own fresh channel to the same tab is not a reason to start over.
      if (o.session && !o.session.closed && o.sessionPeer === from && Date.now() - o.sessionAt < 5_000) continue;
      o.start(from);
    }
    if (wait.length) this.ctx.signal(from, { t: 'wait', ids: wait });
  }

  /** onKnock — the sender can go on: answer with what we want resumed. */
  private onKnock(from: string, who: Person, ids: string[]): void {
    const want = ids.filter((id) => {
      const t = this.incomingFrom(who.userId, id);
      if (!t || (t.final && t.status !== 'verified') || t.active) return false;
      t.reopen(); // a verified file: the sender missed our result, let its channel in
      return true;
    });
    if (want.length) this.ctx.signal(from, { t: 'resume', ids: want });
  }

  // ---- channels ----------------------------------------------------------------------------

  private onChannel(peer: string, dc: RTCDataChannel): void {
    if (!dc.label.startsWith(CHANNEL_PREFIX)) return;
    const who = this.opts.directory.userOf(peer);
    const t = who ? this.incomingFrom(who.userId, dc.label.slice(CHANNEL_PREFIX.length)) : undefined;
    if (!t) {
      dc.close();
      return;
    }
    t.attach(peer, dc);
  }

  // ---- housekeeping ------------------------------------------------------------------------

  private current(offer: OutOffer): Outgoing | undefined {
    return offer.files.find((o) => !o.final);
  }

  private startNext(offer: OutOffer): void {
    const cur = this.current(offer);
    if (!cur) {
      this.offersOut.delete(offer.id);
      return;
    }
    if (offer.peer && cur.src && !cur.session && (cur.status === 'queued' || cur.status === 'waiting')) cur.start(offer.peer);
  }

  private onSettled(id: string): void {
    const o = this.outgoing.get(id);
    if (o) this.startNext(o.offer);
  }

  private withdraw(offer: OutOffer): void {
    const ids = offer.files.filter((o) => !o.final).map((o) => o.id);
    for (const p of offer.targets) this.ctx.signal(p, { t: 'cancel', ids });
    for (const o of offer.files) o.cancel();
  }

  private ledger(o: Outgoing, state: LedgerState): void {
    const post = this.opts.ledger;
    if (!post) return;
    const to = o.offer.peer ?? o.offer.targets[0] ?? null;
    post({ transferId: o.id, to, name: o.rec.name, size: o.rec.size, sha256: state === 'verified' || state === 'failed' ? o.sha256 : null, state });
  }

  private tickSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.tick();
    }, 200);
  }

  /**
   * tick — sessions that are alive but move no bytes are dropped (the progress watchdog);
   * stalled receivers ask the sender's tabs to resume; senders that can go on knock.
   */
  private tick(): void {
    const now = Date.now();
    for (const t of this.incoming.values()) t.watchdog(now);
    const asks = new Map<string, string[]>();
    // Offer ids are the senders': one is only the same offer together with the same sender.
    const offerKey = (t: Incoming) => `${t.rec.peerUserId}\n${t.rec.offerId}`;
    const activeOffers = new Set([...this.incoming.values()].filter((t) => t.active).map(offerKey));
    for (const t of this.incoming.values()) {
      if (t.final || t.active || activeOffers.has(offerKey(t))) continue;
      push(asks, t.rec.peerUserId, t.transferId);
    }
    for (const [userId, ids] of asks) for (const p of this.opts.directory.peersOf(userId)) this.ctx.signal(p, { t: 'resume', ids: ids.slice(0, LIMITS.idsPerMessage) });

    const knocks = new Map<string, string[]>();
    for (const o of this.outgoing.values()) {
      if (o.status === 'waiting' && o.src && this.current(o.offer) === o) push(knocks, o.rec.peerUserId, o.id);
    }
    for (const [userId, ids] of knocks) for (const p of this.opts.directory.peersOf(userId)) this.ctx.signal(p, { t: 'knock', ids: ids.slice(0, LIMITS.idsPerMessage) });
  }
}
