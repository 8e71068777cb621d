// Shared files for one page: what is shared (the server's view), what this tab holds and serves, and its downloads.
import type { MyShare, SharedItemView } from '../../../shared/protocol.js';
import { folderIdText, type ShareItem, type SharedFile } from '../../../shared/shares.js';
import { cleanName } from '../../../shared/text.js';
import { Emitter } from '../../shared/lib/emitter.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { Disk, receivedFile } from '../../transfer/lib/disk.js';
import { LobbyLinks } from '../../transfer/lib/lobby-links.js';
import { Downloads, type DownloadView } from './downloads.js';
import type { HeldFile } from './holder.js';
import { Holdings } from './holdings.js';
import { openLibrary, opfsName, type ItemRecord, type Library } from './library.js';
import { CHUNK, prepare, sha256Text } from './manifest.js';
import { Swarm } from './swarm.js';
import { FILES_RTC_APP } from './wire.js';

export type { MyShare, SharedItemView };
export type { DownloadState, DownloadView } from './downloads.js';

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

const CHANGED_MS = 250;

/**
 * FilesEngine — the page's shared files, DOM-free. The server says what exists and who holds it
 * (`files`); this tab announces what it holds (`share`, again after every reconnect), serves
 * chunks of it to whoever opens a channel, and downloads items from every holder at once.
 */
export class FilesEngine extends Emitter<{ changed: () => void; error: (message: string) => void }> {
  private visible: SharedItemView[] = [];
  private own: MyShare[] = [];
  /** Display names of everyone seen holding something (a download still names who sent what after they left). */
  private readonly names = new Map<string, string>();
  private readonly holdings: Holdings;
  private readonly jobs: Downloads;
  private readonly swarms = new Map<string, Swarm>();
  private readonly players = new Set<string>();
  private readonly preparingNow = new Map<object, PreparingView>();
  private readonly links: LobbyLinks;
  private library: Library | null = null;
  private ice: RTCIceServer[] = [];
  private readonly offs: (() => void)[] = [];
  private changeTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(private readonly signaling: SignalingClient, private readonly opts: FilesEngineOptions) {
    super();
    this.holdings = new Holdings(signaling, opts.room, (message) => {
      this.emit('error', message);
      this.changed();
    });
    this.links = new LobbyLinks({
      send: (to, data) => void signaling.sendSignal(to, { kind: 'app', app: FILES_RTC_APP, data }),
      selfPeerId: () => signaling.peerId,
      iceServers: () => this.ice,
      // Sharing is consent: while this tab holds something, anyone the server lets reach it may connect.
      accepts: () => this.holdings.size > 0,
    });
    this.links.onChannel((_peer, dc) => this.holdings.serve(dc));
    this.jobs = new Downloads({
      disk: opts.diskUrl && Disk.available ? new Disk(opts.diskUrl) : null,
      library: () => this.library,
      swarmFor: (file) => this.swarmFor(file),
      letGo: (sha256) => this.letGoSwarm(sha256),
      names: () => this.names,
      changed: () => this.changed(),
      verified: (record) => this.holdDownloaded(record),
    });
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
    this.jobs.dispose();
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
    return this.jobs.views();
  }

  /** itemOf — the announcement of item `id` this tab knows: a download's (listed or not), a held one, a listed one, or one of the person's own. */
  itemOf(id: string): ShareItem | null {
    const known = this.jobs.item(id) ?? this.holdings.item(id) ?? [...this.visible, ...this.own].find((i) => i.id === id);
    return known ? { id: known.id, kind: known.kind, name: known.name, files: known.files, dirs: known.dirs } : null;
  }

  /** holds — this tab serves item `id` now. */
  holds(id: string): boolean {
    return this.holdings.has(id);
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
    this.holdings.release(id);
    const r = await this.signaling.unshare(id);
    if (r instanceof SignalingError) this.emit('error', r.message);
    this.changed();
  }

  // ---- downloading and playing -------------------------------------------------------------

  /** download — starts at once (sharing is consent); a second call for the same item does nothing. */
  download(id: string): void {
    const view = this.visible.find((i) => i.id === id);
    if (view) this.jobs.start({ id: view.id, kind: view.kind, name: view.name, files: view.files, dirs: view.dirs }, this.opts.room);
  }

  cancelDownload(id: string): void {
    this.jobs.cancel(id);
  }

  /** fileOf — a verified local copy: the file this tab shares, or the OPFS copy of a finished download. */
  async fileOf(sha256: string): Promise<File | null> {
    const held = this.holdings.file(sha256);
    if (held) return held.blob;
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
    const file = this.fileInfo(sha256);
    if (!file) throw new Error('Nobody shares this file now.');
    const swarm = this.swarmFor(file);
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
    this.letGoSwarm(sha256);
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

  private async hold(item: ShareItem, files: Map<string, HeldFile>): Promise<void> {
    const done = this.holdings.hold(item, files);
    this.changed();
    await done;
  }

  /** announce — after every (re)connect: watch the list and hold again what this tab holds. */
  private async announce(): Promise<void> {
    const r = await this.signaling.watchFiles();
    if (!(r instanceof SignalingError)) this.onFiles(r.items, r.mine);
    await this.holdings.announceAll();
  }

  private onFiles(items: SharedItemView[], mine: MyShare[]): void {
    this.visible = items;
    this.own = mine;
    for (const i of items) for (const h of i.holders) this.names.set(h.userId, h.displayName);
    // Stopped from another tab (or the Shared files page without JavaScript).
    this.holdings.confirm(new Set(mine.map((m) => m.id)));
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
    for (const item of this.visible) {
      const f = item.files.find((x) => x.sha256 === sha256);
      if (f) return f;
    }
    return this.jobs.fileInfo(sha256);
  }

  private swarmFor(file: SharedFile): Swarm {
    let s = this.swarms.get(file.sha256);
    if (!s) {
      s = new Swarm(file.sha256, file.size, file.manifest, this.links, () => this.changed());
      this.swarms.set(file.sha256, s);
    }
    s.setHolders(this.holdersOf(file.sha256));
    return s;
  }

  /** letGoSwarm — closes a file's swarm once neither a player nor a download uses it. */
  private letGoSwarm(sha256: string): void {
    if (this.players.has(sha256) || this.jobs.uses(sha256)) return;
    this.swarms.get(sha256)?.close();
    this.swarms.delete(sha256);
  }

  private async restore(): Promise<void> {
    this.library = await openLibrary();
    if (!this.library || this.disposed) return;
    for (const rec of await this.library.all('items')) {
      if (rec.room !== this.opts.room) continue;
      if (rec.state === 'downloading') this.jobs.resume(rec);
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

  /** changed — the UI re-renders at most a few times a second. */
  private changed(): void {
    if (this.changeTimer || this.disposed) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.emit('changed');
    }, CHANGED_MS);
  }
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
