// Shared files for one page: what is shared (the server's view), what this tab holds and serves, and its downloads.
import type { MyShare, SharedItemView } from '../../../shared/protocol.js';
import { folderIdText, type ShareItem, type SharedFile } from '../../../shared/shares.js';
import { cleanName } from '../../../shared/text.js';
import { Emitter } from '../../shared/lib/emitter.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { Disk, receivedFile } from '../../transfer/lib/disk.js';
import { LobbyLinks } from '../../transfer/lib/lobby-links.js';
import { SpeedMeter } from '../../transfer/lib/speed.js';
import { claim } from '../../transfer/lib/store.js';
import { FileDownload, Mismatch } from './file-download.js';
import { HolderSession, type HeldFile } from './holder.js';
import { openLibrary, opfsName, type FileRecord, type ItemRecord, type Library } from './library.js';
import { CHUNK, prepare, sha256Text } from './manifest.js';
import { Swarm } from './swarm.js';
import { CHANNEL_PREFIX, FILES_RTC_APP } from './wire.js';

export type { MyShare, SharedItemView };
export type DownloadState = 'downloading' | 'paused' | 'verifying' | 'verified' | 'failed' | 'cancelled';

/** DownloadView — one download as its row shows it. */
export interface DownloadView {
  id: string;
  name: string;
  kind: 'file' | 'folder';
  total: number;
  done: number;
  speed: number;
  eta: number | null;
  state: DownloadState;
  error: string | null;
  from: { userId: string; displayName: string; bytes: number }[];
}

/** PreparingView — a file being read to compute its hashes before it is shared. */
export interface PreparingView {
  name: string;
  fraction: number;
}

export interface FilesEngineOptions {
  /** null: the Shared files page (everyone outside rooms); else the room this tab is in. */
  room: string | null;
  selfUserId: string;
  /** The OPFS writer worker's URL (null: this browser cannot download shared files). */
  diskUrl: string | null;
}

/** FolderEntry — a file picked as part of a folder, with its path inside the folder. */
export interface FolderEntry {
  file: File;
  path: string;
}

interface Job {
  record: ItemRecord;
  state: DownloadState;
  error: string | null;
  current: FileDownload | null;
  /** Verified bytes of the files already finished. */
  doneBefore: number;
  swarms: Swarm[];
  meter: SpeedMeter;
  cancelled: boolean;
}

const CHANGED_MS = 250;
// A `share` travels in one WebSocket frame (64 KiB); the rest of the message needs a little room.
const MAX_ITEM_JSON = 60 * 1024;

/**
 * FilesEngine — the page's shared files, DOM-free. The server says what exists and who holds it
 * (`files`); this tab announces what it holds (`share`, again after every reconnect), serves
 * chunks of it to whoever opens a channel, and downloads items from every holder at once.
 */
export class FilesEngine extends Emitter<{ changed: () => void; error: (message: string) => void }> {
  private visible: SharedItemView[] = [];
  private own: MyShare[] = [];
  /** Files this tab can serve, by SHA-256. */
  private readonly held = new Map<string, HeldFile>();
  /** Items this tab announces, by id; `confirmed` once the server listed it as ours. */
  private readonly holding = new Map<string, { item: ShareItem; confirmed: boolean }>();
  private readonly jobs = new Map<string, Job>();
  private readonly swarms = new Map<string, Swarm>();
  private readonly players = new Set<string>();
  private readonly preparingNow = new Map<object, PreparingView>();
  private readonly links: LobbyLinks;
  private readonly disk: Disk | null;
  private library: Library | null = null;
  private ice: RTCIceServer[] = [];
  private readonly offs: (() => void)[] = [];
  private changeTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(private readonly signaling: SignalingClient, private readonly opts: FilesEngineOptions) {
    super();
    this.disk = opts.diskUrl && Disk.available ? new Disk(opts.diskUrl) : null;
    this.links = new LobbyLinks({
      send: (to, data) => void signaling.sendSignal(to, { kind: 'app', app: FILES_RTC_APP, data }),
      selfPeerId: () => signaling.peerId,
      iceServers: () => this.ice,
      // Sharing is consent: while this tab holds something, anyone the server lets reach it may connect.
      accepts: () => this.holding.size > 0,
    });
    this.links.onChannel((_peer, dc) => this.serve(dc));
  }

  start(): void {
    this.offs.push(
      this.signaling.on('welcome', (m) => {
        this.ice = m.iceServers;
        // A room's tab holds its room's shares only once it is back in the room.
        if (this.opts.room === null) void this.announce();
      }),
      this.signaling.on('joined', (m) => {
        if (m.room.slug === this.opts.room) void this.announce();
      }),
      this.signaling.on('files', (m) => this.onFiles(m.items, m.mine)),
      this.signaling.on('signal', (m) => {
        if (m.payload.kind === 'app' && m.payload.app === FILES_RTC_APP) this.links.handle(m.from, m.payload.data);
      }),
    );
    // A room's engine is started once its tab has joined (see room-files.ts).
    if (this.signaling.isOpen) void this.announce();
    void this.restore();
  }

  dispose(): void {
    this.disposed = true;
    for (const off of this.offs.splice(0)) off();
    for (const job of this.jobs.values()) void job.current?.stop();
    for (const s of this.swarms.values()) s.close();
    this.links.drop();
    if (this.changeTimer) clearTimeout(this.changeTimer);
  }

  items(): SharedItemView[] {
    return this.visible;
  }

  mine(): MyShare[] {
    return this.own;
  }

  preparing(): PreparingView[] {
    return [...this.preparingNow.values()];
  }

  downloads(): DownloadView[] {
    return [...this.jobs.values()].map((job) => this.view(job));
  }

  /** itemOf — the announcement of item `id` this tab knows: a download's (listed or not), a listed item, or one of the person's own. */
  itemOf(id: string): ShareItem | null {
    const known = this.jobs.get(id)?.record.item ?? this.holding.get(id)?.item ?? [...this.visible, ...this.own].find((i) => i.id === id);
    return known ? { id: known.id, kind: known.kind, name: known.name, files: known.files, dirs: known.dirs } : null;
  }

  /** holds — this tab serves item `id` now. */
  holds(id: string): boolean {
    return this.holding.has(id);
  }

  // ---- sharing -----------------------------------------------------------------------------

  /** shareFiles — each file becomes one item, hashed first (progress in `preparing()`). */
  async shareFiles(files: File[]): Promise<void> {
    for (const file of files) {
      const name = safeSegment(file.name);
      const prepared = await this.prepareOne(file, name);
      if (!prepared) continue;
      const item: ShareItem = { id: prepared.entry.sha256, kind: 'file', name, files: [{ ...prepared.entry, path: name }], dirs: [] };
      await this.hold(item, new Map([[prepared.entry.sha256, prepared.held]]));
    }
  }

  /** shareFolder — one item for the whole tree (paths relative to the folder; empty folders in `dirs`). */
  async shareFolder(name: string, entries: FolderEntry[], dirs: string[]): Promise<void> {
    const files = new Map<string, HeldFile>();
    const shared: SharedFile[] = [];
    for (const e of entries) {
      const path = safePath(e.path);
      const prepared = await this.prepareOne(e.file, path);
      if (!prepared) return;
      files.set(prepared.entry.sha256, prepared.held);
      shared.push({ ...prepared.entry, path });
    }
    const item: ShareItem = { id: '', kind: 'folder', name: safeSegment(name), files: shared, dirs: dirs.map(safePath) };
    item.id = await sha256Text(folderIdText(item));
    await this.hold(item, files);
  }

  /** shareAgain — one of the person's own Offline items, its file(s) picked again; false when they are not the same content. */
  async shareAgain(id: string, picked: File[] | FolderEntry[]): Promise<boolean> {
    const mine = this.own.find((m) => m.id === id);
    if (!mine) return false;
    const entries: FolderEntry[] = picked.map((p) => (p instanceof File ? { file: p, path: safeSegment(p.name) } : p));
    const files = new Map<string, HeldFile>();
    for (const f of mine.files) {
      const e = entries.find((x) => safePath(x.path) === f.path || (mine.kind === 'file' && entries.length === 1)) ?? null;
      if (!e || e.file.size !== f.size) return false;
      const prepared = await this.prepareOne(e.file, f.path);
      if (!prepared || prepared.entry.sha256 !== f.sha256) return false;
      files.set(f.sha256, prepared.held);
    }
    await this.hold({ id: mine.id, kind: mine.kind, name: mine.name, files: mine.files, dirs: mine.dirs }, files);
    return true;
  }

  async stopSharing(id: string): Promise<void> {
    this.release(id);
    const r = await this.signaling.unshare(id);
    if (r instanceof SignalingError) this.emit('error', r.message);
    this.changed();
  }

  // ---- downloading -------------------------------------------------------------------------

  /** download — starts at once (sharing is consent); a second call for the same item does nothing. */
  download(id: string): void {
    if (this.jobs.has(id) && this.jobs.get(id)!.state !== 'cancelled' && this.jobs.get(id)!.state !== 'failed') return;
    const view = this.visible.find((i) => i.id === id);
    if (!view) return;
    const item: ShareItem = { id: view.id, kind: view.kind, name: view.name, files: view.files, dirs: view.dirs };
    const record: ItemRecord = { id, item, room: this.opts.room, state: 'downloading', createdAt: Date.now() };
    void this.library?.put('items', record);
    this.run(record);
  }

  cancelDownload(id: string): void {
    const job = this.jobs.get(id);
    if (!job || job.state === 'verified') return;
    job.cancelled = true;
    job.state = 'cancelled';
    void (async () => {
      await job.current?.stop();
      for (const f of job.record.item.files) {
        if ((await this.library?.get('files', f.sha256))?.verified) continue;
        await this.library?.delete('files', f.sha256);
        await this.disk?.remove(opfsName(f.sha256)).catch(() => undefined);
      }
      await this.library?.delete('items', id);
    })();
    this.releaseSwarms(job);
    this.changed();
  }

  /** fileOf — a verified local copy: the file this tab shares, or the OPFS copy of a finished download. */
  async fileOf(sha256: string): Promise<File | null> {
    const held = this.held.get(sha256);
    if (held) return held.blob instanceof File ? held.blob : new File([held.blob], sha256);
    const rec = await this.library?.get('files', sha256);
    if (!rec?.verified) return null;
    try {
      return await receivedFile(opfsName(sha256));
    } catch {
      return null;
    }
  }

  /**
   * readRange — bytes [start, end) of a shared file, from a local copy or fetched chunk by chunk
   * from its holders (each checked against the manifest). A player asks for what it plays; the
   * swarm stays open for it until `stopStream`.
   */
  async readRange(sha256: string, start: number, end: number): Promise<Uint8Array> {
    const local = await this.fileOf(sha256);
    if (local) return new Uint8Array(await local.slice(start, end).arrayBuffer());
    const swarm = this.swarmFor(sha256);
    if (!swarm) throw new Error('Nobody shares this file now.');
    this.players.add(sha256);
    end = Math.min(end, swarm.size);
    if (end <= start) return new Uint8Array(0);
    const first = Math.floor(start / CHUNK);
    const last = Math.floor((end - 1) / CHUNK);
    await swarm.manifest();
    const chunks = await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => swarm.fetch(first + k)));
    const out = new Uint8Array(end - start);
    let o = 0;
    chunks.forEach((c, k) => {
      const at = (first + k) * CHUNK;
      const piece = c.subarray(Math.max(0, start - at), Math.min(c.length, end - at));
      out.set(piece, o);
      o += piece.length;
    });
    return out;
  }

  /** streamed — bytes fetched from holders for `sha256` so far (a player's cost). */
  streamed(sha256: string): number {
    const s = this.swarms.get(sha256);
    return s ? [...s.fromUser.values()].reduce((a, b) => a + b, 0) : 0;
  }

  /** stopStream — the player closed: let go of its swarm unless a download still uses it. */
  stopStream(sha256: string): void {
    this.players.delete(sha256);
    if ([...this.jobs.values()].some((j) => j.swarms.some((s) => s.sha256 === sha256) && !isOver(j.state))) return;
    this.swarms.get(sha256)?.close();
    this.swarms.delete(sha256);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async prepareOne(file: File, name: string): Promise<{ entry: Omit<SharedFile, 'path'>; held: HeldFile } | null> {
    const key = {};
    const view = { name, fraction: 0 };
    this.preparingNow.set(key, view);
    this.changed();
    try {
      const p = await prepare(file, (f) => {
        view.fraction = f;
        this.changed();
      }, () => this.disposed);
      return { entry: { size: file.size, type: mimeType(file.type), sha256: p.sha256, manifest: p.manifest }, held: { blob: file, hashes: p.hashes } };
    } catch (err) {
      this.emit('error', `Could not read ${name}: ${(err as Error).message}`);
      return null;
    } finally {
      this.preparingNow.delete(key);
      this.changed();
    }
  }

  /** hold — serve `item` from these files and tell the server. */
  private async hold(item: ShareItem, files: Map<string, HeldFile>): Promise<void> {
    for (const [sha, f] of files) this.held.set(sha, f);
    this.holding.set(item.id, { item, confirmed: false });
    this.changed();
    if (JSON.stringify(item).length > MAX_ITEM_JSON) {
      this.release(item.id);
      this.emit('error', `${item.name} has too many files or too long names to share as one folder; share smaller folders.`);
      return;
    }
    const r = await this.signaling.share(item, this.opts.room);
    if (r instanceof SignalingError && !retryLater(r)) {
      this.release(item.id);
      this.emit('error', r.message);
    } else if (r instanceof SignalingError && r.code === 'not-in-room') {
      this.emit('error', 'Join the call to share in this room; your file is shared as soon as you do.');
    }
  }

  private release(id: string): void {
    const h = this.holding.get(id);
    if (!h) return;
    this.holding.delete(id);
    const still = new Set([...this.holding.values()].flatMap((x) => x.item.files.map((f) => f.sha256)));
    for (const f of h.item.files) if (!still.has(f.sha256)) this.held.delete(f.sha256);
  }

  /** announce — after every (re)connect: watch the list and hold again what this tab holds. */
  private async announce(): Promise<void> {
    const r = await this.signaling.watchFiles();
    if (!(r instanceof SignalingError)) this.onFiles(r.items, r.mine);
    for (const { item } of this.holding.values()) {
      const s = await this.signaling.share(item, this.opts.room);
      if (s instanceof SignalingError && !retryLater(s)) this.release(item.id);
    }
  }

  private onFiles(items: SharedItemView[], mine: MyShare[]): void {
    this.visible = items;
    this.own = mine;
    const ids = new Set(mine.map((m) => m.id));
    for (const [id, h] of this.holding) {
      if (ids.has(id)) h.confirmed = true;
      // Stopped from another tab (or the Shared files page without JavaScript).
      else if (h.confirmed) this.release(id);
    }
    for (const [sha, swarm] of this.swarms) swarm.setHolders(this.holdersOf(sha));
    this.changed();
  }

  /** holdersOf — every tab (but this one) that holds a file with this SHA-256, in any item this tab may see. */
  private holdersOf(sha256: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const item of this.visible) {
      if (!item.files.some((f) => f.sha256 === sha256)) continue;
      for (const h of item.holders) for (const p of h.peers) if (p !== this.signaling.peerId) out.set(p, h.userId);
    }
    return out;
  }

  private fileInfo(sha256: string): SharedFile | null {
    for (const item of [...this.visible, ...[...this.jobs.values()].map((j) => j.record.item)]) {
      const f = item.files.find((x) => x.sha256 === sha256);
      if (f) return f;
    }
    return null;
  }

  private swarmFor(sha256: string): Swarm | null {
    let s = this.swarms.get(sha256);
    if (s) return s;
    const f = this.fileInfo(sha256);
    if (!f) return null;
    s = new Swarm(sha256, f.size, f.manifest, this.links, () => this.changed());
    s.setHolders(this.holdersOf(sha256));
    this.swarms.set(sha256, s);
    return s;
  }

  private serve(dc: RTCDataChannel): void {
    const file = dc.label.startsWith(CHANNEL_PREFIX) ? this.held.get(dc.label.slice(CHANNEL_PREFIX.length)) : undefined;
    if (!file) {
      dc.close();
      return;
    }
    new HolderSession(dc, file);
  }

  private async restore(): Promise<void> {
    this.library = await openLibrary();
    if (!this.library || this.disposed) return;
    for (const rec of await this.library.all('items')) {
      if (rec.room !== this.opts.room) continue;
      if (rec.state === 'downloading') this.run(rec);
      else void this.holdDownloaded(rec);
    }
  }

  /** holdDownloaded — a finished download is shared again from its OPFS copy (no click needed). */
  private async holdDownloaded(rec: ItemRecord): Promise<void> {
    const files = new Map<string, HeldFile>();
    for (const f of rec.item.files) {
      const fr = await this.library?.get('files', f.sha256);
      if (!fr?.verified || !fr.hashes) return;
      try {
        files.set(f.sha256, { blob: await receivedFile(opfsName(f.sha256)), hashes: fr.hashes });
      } catch {
        return; // the browser cleared its storage
      }
    }
    await this.hold(rec.item, files);
  }

  private run(record: ItemRecord): void {
    const job: Job = { record, state: 'downloading', error: null, current: null, doneBefore: 0, swarms: [], meter: new SpeedMeter(), cancelled: false };
    this.jobs.set(record.id, job);
    this.changed();
    void this.runJob(job);
  }

  private async runJob(job: Job): Promise<void> {
    const disk = this.disk;
    if (!disk) return this.failJob(job, 'This browser cannot store downloads (no origin-private file system).');
    const files = [...job.record.item.files].sort((a, b) => (a.path < b.path ? -1 : 1));
    try {
      for (const f of files) {
        if (job.cancelled || this.disposed) return;
        const rec: FileRecord = (await this.library?.get('files', f.sha256)) ?? { sha256: f.sha256, size: f.size, hashes: null, snapshot: null, verified: false };
        if (rec.verified) {
          job.doneBefore += f.size;
          continue;
        }
        // Two tabs must not write one file: the other tab carries this download on.
        const release = await claim(`hearth-share-${f.sha256}`);
        if (!release) return this.failJob(job, 'Downloading in another tab.');
        try {
          const swarm = this.swarmFor(f.sha256) ?? new Swarm(f.sha256, f.size, f.manifest, this.links, () => this.changed());
          this.swarms.set(f.sha256, swarm);
          swarm.setHolders(this.holdersOf(f.sha256));
          job.swarms.push(swarm);
          const fd = new FileDownload(f, swarm, disk, this.library, rec, () => this.progress(job));
          job.current = fd;
          await fd.start();
          await fd.done;
          job.current = null;
          job.doneBefore += f.size;
        } finally {
          release();
        }
      }
      if (job.cancelled) return;
      job.state = 'verified';
      job.record.state = 'verified';
      await this.library?.put('items', job.record);
      this.releaseSwarms(job);
      this.changed();
      await this.holdDownloaded(job.record);
    } catch (err) {
      if (job.cancelled) return;
      const file = job.current?.file;
      if (err instanceof Mismatch && file) {
        // Every chunk matched a manifest that does not add up to the file: nothing of it can be kept.
        await this.library?.delete('files', file.sha256);
        await this.disk?.remove(opfsName(file.sha256)).catch(() => undefined);
      }
      this.failJob(job, err instanceof Mismatch ? err.message : `${(err as Error).message || 'The download failed.'}`);
    }
  }

  private failJob(job: Job, message: string): void {
    job.state = 'failed';
    job.error = message;
    void job.current?.stop();
    this.releaseSwarms(job);
    this.changed();
  }

  private releaseSwarms(job: Job): void {
    for (const s of job.swarms) {
      if (this.players.has(s.sha256)) continue;
      s.close();
      this.swarms.delete(s.sha256);
    }
  }

  private progress(job: Job): void {
    job.meter.sample(this.done(job));
    this.changed();
  }

  private done(job: Job): number {
    return job.doneBefore + (job.current?.bytes ?? 0);
  }

  private view(job: Job): DownloadView {
    const item = job.record.item;
    const total = item.files.reduce((n, f) => n + f.size, 0);
    const done = job.state === 'verified' ? total : this.done(job);
    const speed = isOver(job.state) ? 0 : job.meter.speed();
    const current = job.current ? this.swarms.get(job.current.file.sha256) : undefined;
    const state: DownloadState = job.state === 'downloading' && current?.waiting ? 'paused' : job.state === 'downloading' && total > 0 && done >= total ? 'verifying' : job.state;
    const names = new Map<string, string>();
    for (const i of this.visible) for (const h of i.holders) names.set(h.userId, h.displayName);
    const bytes = new Map<string, number>();
    for (const s of job.swarms) for (const [u, n] of s.fromUser) bytes.set(u, (bytes.get(u) ?? 0) + n);
    return {
      id: job.record.id,
      name: item.name,
      kind: item.kind,
      total,
      done,
      speed,
      eta: speed > 0 ? (total - done) / speed : null,
      state,
      error: job.error,
      from: [...bytes].map(([userId, n]) => ({ userId, displayName: names.get(userId) ?? 'Someone', bytes: n })),
    };
  }

  /** changed — the UI re-renders at most a few times a second. */
  private changed(): void {
    if (this.changeTimer || this.disposed) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.emit('changed');
    }, CHANGED_MS);
  }
}

/** retryLater — a refusal that the next reconnect (or rejoining the room) puts right: keep holding. */
function retryLater(err: SignalingError): boolean {
  return err.code === 'disconnected' || err.code === 'not-in-room' || err.code === 'unavailable';
}

function isOver(state: DownloadState): boolean {
  return state === 'verified' || state === 'failed' || state === 'cancelled';
}

/** safeSegment — a file or folder name as sharing announces it: no separators, no unsafe characters. */
function safeSegment(name: string): string {
  const s = cleanName(name).replace(/[\\/]/g, '_').slice(0, 255);
  return s === '' || s === '.' || s === '..' ? 'file' : s;
}

function safePath(path: string): string {
  return path.split(/[\\/]+/).filter((s) => s !== '').map(safeSegment).join('/') || 'file';
}

function mimeType(type: string): string {
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(type) && type.length <= 100 ? type : '';
}
