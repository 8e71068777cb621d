// One shared file downloaded into OPFS from its swarm: chunks verified against the manifest, progress kept across reloads, the whole file checked at the end.
import { Bitmap } from '../../transfer/lib/bitmap.js';
import type { Disk } from '../../transfer/lib/disk.js';
import { toHex } from '../../transfer/lib/messages.js';
import type { SharedFile } from '../../../shared/shares.js';
import type { FileRecord, Library } from './library.js';
import { opfsName } from './library.js';
import { chunkBytes, chunkCount } from './manifest.js';
import type { Background, Swarm } from './swarm.js';

// Stop handing out chunks while this much waits for the disk (memory stays bounded whatever the file size).
const MAX_BACKLOG = 24 * 1024 * 1024;
// What is on disk is recorded this often: a reload fetches again at most what arrived since.
const SAVE_EVERY_MS = 100;

/** Mismatch — the whole file's SHA-256 is not the announced one (every chunk matched a lying manifest). */
export class Mismatch extends Error {
  override name = 'Mismatch';
}

/**
 * FileDownload — the Background of one swarm. Chunks are handed out in file order from a
 * cursor (holders then serve neighbouring chunks), written by the OPFS worker only if they
 * match the manifest; what is on disk is persisted every couple of seconds, so a reload
 * resumes from the last flushed chunk rather than from the start.
 */
export class FileDownload implements Background {
  readonly bitmap: Bitmap;
  private cursor = 0;
  private backlog = 0;
  private hashes: Uint8Array | null = null;
  private saving: Promise<void> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private finishing: Promise<void> | null = null;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  readonly done: Promise<void>;
  private stopped = false;

  constructor(readonly file: SharedFile, private readonly swarm: Swarm, private readonly disk: Disk, private readonly library: Library | null, private readonly record: FileRecord, private readonly progress: () => void) {
    this.bitmap = new Bitmap(chunkCount(file.size), record.snapshot?.bitmap);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  /** bytes — verified bytes on disk. */
  get bytes(): number {
    let n = this.bitmap.count * 1024 * 1024;
    // The last chunk is usually short.
    const last = this.bitmap.size - 1;
    if (last >= 0 && this.bitmap.has(last)) n -= 1024 * 1024 - chunkBytes(last, this.file.size);
    return n;
  }

  async start(): Promise<void> {
    await this.disk.open(opfsName(this.file.sha256), this.file.size, 1024 * 1024, this.record.snapshot);
    // An empty file has no chunks and nothing to ask anyone for.
    if (this.file.size === 0) this.record.hashes = new Uint8Array(0);
    if (this.record.hashes) this.swarm.setManifest(this.record.hashes);
    this.hashes = await this.swarm.manifest();
    if (this.stopped) return;
    if (!this.record.hashes) {
      this.record.hashes = this.hashes;
      await this.save(true);
    }
    if (this.bitmap.complete) return void this.finish();
    this.swarm.setBackground(this);
  }

  next(): number | null {
    if (this.backlog > MAX_BACKLOG || this.stopped) return null;
    while (this.cursor < this.bitmap.size && this.bitmap.has(this.cursor)) this.cursor++;
    if (this.cursor >= this.bitmap.size) return null;
    return this.cursor++;
  }

  async deliver(index: number, parts: ArrayBuffer[]): Promise<boolean> {
    if (this.stopped || this.bitmap.has(index)) return true;
    const len = chunkBytes(index, this.file.size);
    this.backlog += len;
    try {
      const ok = await this.disk.write(opfsName(this.file.sha256), index, toHex(this.hashes!.subarray(index * 32, index * 32 + 32)), parts);
      if (!ok) return false;
      this.bitmap.set(index);
      this.progress();
      this.requestSave();
      if (this.bitmap.complete) void this.finish();
      return true;
    } catch (err) {
      this.fail(err as Error);
      return true;
    } finally {
      this.backlog -= len;
    }
  }

  /** stop — let go of the disk (paused for good, or cancelled); progress stays saved. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.swarm.setBackground(null);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await this.saving;
    await this.save(true).catch(() => undefined);
    this.stopped = true;
    await this.disk.close(opfsName(this.file.sha256)).catch(() => undefined);
    this.rejectDone(new DOMException('The download stopped.', 'AbortError'));
  }

  /** requestSave — at most one save at a time, at most one per SAVE_EVERY_MS. */
  private requestSave(): void {
    if (this.saveTimer || this.stopped) return;
    this.saveTimer = setTimeout(() => {
      this.saving = (this.saving ?? Promise.resolve()).then(() => {
        this.saveTimer = null;
        return this.save();
      }).catch(() => undefined);
    }, SAVE_EVERY_MS);
  }

  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      try {
        this.swarm.setBackground(null);
        if (this.saveTimer) clearTimeout(this.saveTimer);
        await this.saving;
        const sha = await this.disk.digest(opfsName(this.file.sha256));
        await this.disk.close(opfsName(this.file.sha256));
        if (sha !== this.file.sha256) throw new Mismatch('The file does not match its announced SHA-256.');
        this.record.verified = true;
        this.record.snapshot = null;
        await this.library?.put('files', this.record);
        this.stopped = true;
        this.resolveDone();
      } catch (err) {
        this.fail(err as Error);
      }
    })();
    return this.finishing;
  }

  private fail(err: Error): void {
    this.stopped = true;
    this.swarm.setBackground(null);
    this.rejectDone(err);
  }

  private async save(force = false): Promise<void> {
    if (!this.library || (this.stopped && !force)) return;
    try {
      this.record.snapshot = await this.disk.flush(opfsName(this.file.sha256));
    } catch {
      return; // closed meanwhile
    }
    await this.library.put('files', this.record);
  }
}
