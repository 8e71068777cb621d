// The page's downloads of shared items: one job per item, its files fetched one after another, each from its swarm.
import type { SharedFile, ShareItem } from '../../../shared/shares.js';
import type { Disk } from '../../transfer/lib/disk.js';
import { SpeedMeter } from '../../transfer/lib/speed.js';
import { claim } from '../../transfer/lib/store.js';
import { FileDownload, Mismatch } from './file-download.js';
import { opfsName, type FileRecord, type ItemRecord, type Library } from './library.js';
import type { Swarm } from './swarm.js';

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

/** DownloadsDeps — what the jobs need from the engine. */
export interface DownloadsDeps {
  disk: Disk | null;
  library(): Library | null;
  /** swarmFor — the swarm of this file (made if needed), following its holders. */
  swarmFor(file: SharedFile): Swarm;
  /** letGo — the job is done with this swarm (a player may still use it). */
  letGo(sha256: string): void;
  /** names — display names of the people who hold anything now, by user id. */
  names(): Map<string, string>;
  changed(): void;
  /** verified — every file of the item is on disk and matches its SHA-256. */
  verified(record: ItemRecord): Promise<void>;
}

interface Job {
  record: ItemRecord;
  state: DownloadState;
  error: string | null;
  current: FileDownload | null;
  /** Bytes of the files already finished. */
  doneBefore: number;
  swarms: Swarm[];
  meter: SpeedMeter;
  cancelled: boolean;
}

const isOver = (state: DownloadState) => state === 'verified' || state === 'failed' || state === 'cancelled';

/**
 * Downloads — every download of this page. A job survives a reload through its ItemRecord (and
 * each file's FileRecord): `resume` carries it on from what was flushed to disk.
 */
export class Downloads {
  private readonly jobs = new Map<string, Job>();
  private disposed = false;

  constructor(private readonly deps: DownloadsDeps) {}

  /** start — a new download of `item` (nothing if one is running or done). */
  start(item: ShareItem, room: string | null): void {
    const old = this.jobs.get(item.id);
    if (old && !['cancelled', 'failed'].includes(old.state)) return;
    const record: ItemRecord = { id: item.id, item, room, state: 'downloading', createdAt: Date.now() };
    void this.deps.library()?.put('items', record);
    this.resume(record);
  }

  /** resume — a download recorded before (after a reload). */
  resume(record: ItemRecord): void {
    const job: Job = { record, state: 'downloading', error: null, current: null, doneBefore: 0, swarms: [], meter: new SpeedMeter(), cancelled: false };
    this.jobs.set(record.id, job);
    this.deps.changed();
    void this.run(job);
  }

  cancel(id: string): void {
    const job = this.jobs.get(id);
    if (!job || job.state === 'verified') return;
    job.cancelled = true;
    job.state = 'cancelled';
    const library = this.deps.library();
    void (async () => {
      await job.current?.stop();
      for (const f of job.record.item.files) {
        if ((await library?.get('files', f.sha256))?.verified) continue;
        await library?.delete('files', f.sha256);
        await this.deps.disk?.remove(opfsName(f.sha256)).catch(() => undefined);
      }
      await library?.delete('items', id);
    })();
    this.letGo(job);
    this.deps.changed();
  }

  item(id: string): ShareItem | null {
    return this.jobs.get(id)?.record.item ?? null;
  }

  /** uses — a running download fetches this file. */
  uses(sha256: string): boolean {
    return [...this.jobs.values()].some((j) => !isOver(j.state) && j.swarms.some((s) => s.sha256 === sha256));
  }

  /** fileInfo — a file of any download, by SHA-256 (a player may play what is downloading). */
  fileInfo(sha256: string): SharedFile | null {
    for (const job of this.jobs.values()) {
      const f = job.record.item.files.find((x) => x.sha256 === sha256);
      if (f) return f;
    }
    return null;
  }

  views(): DownloadView[] {
    const names = this.deps.names();
    return [...this.jobs.values()].map((job) => this.view(job, names));
  }

  dispose(): void {
    this.disposed = true;
    for (const job of this.jobs.values()) void job.current?.stop();
  }

  private async run(job: Job): Promise<void> {
    const { disk } = this.deps;
    if (!disk) return this.fail(job, 'This browser cannot store downloads (no origin-private file system).');
    const library = this.deps.library();
    const files = [...job.record.item.files].sort((a, b) => (a.path < b.path ? -1 : 1));
    try {
      for (const f of files) {
        if (job.cancelled || this.disposed) return;
        const rec: FileRecord = (await library?.get('files', f.sha256)) ?? { sha256: f.sha256, size: f.size, hashes: null, snapshot: null, verified: false };
        if (rec.verified) {
          job.doneBefore += f.size;
          continue;
        }
        // Two tabs must not write one file: the other tab carries this download on.
        const release = await claim(`hearth-share-${f.sha256}`);
        if (!release) return this.fail(job, 'Downloading in another tab.');
        try {
          const swarm = this.deps.swarmFor(f);
          job.swarms.push(swarm);
          const fd = new FileDownload(f, swarm, disk, library, rec, () => this.progress(job));
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
      await library?.put('items', job.record);
      this.letGo(job);
      this.deps.changed();
      await this.deps.verified(job.record);
    } catch (err) {
      if (job.cancelled) return;
      const file = job.current?.file;
      if (err instanceof Mismatch && file) {
        // Every chunk matched a manifest that does not add up to the file: nothing of it can be kept.
        await library?.delete('files', file.sha256);
        await disk.remove(opfsName(file.sha256)).catch(() => undefined);
      }
      this.fail(job, (err as Error).message || 'The download failed.');
    }
  }

  private fail(job: Job, message: string): void {
    job.state = 'failed';
    job.error = message;
    void job.current?.stop();
    this.letGo(job);
    this.deps.changed();
  }

  private letGo(job: Job): void {
    for (const s of job.swarms) this.deps.letGo(s.sha256);
  }

  private progress(job: Job): void {
    job.meter.sample(this.done(job));
    this.deps.changed();
  }

  private done(job: Job): number {
    return job.doneBefore + (job.current?.bytes ?? 0);
  }

  private view(job: Job, names: Map<string, string>): DownloadView {
    const item = job.record.item;
    const total = item.files.reduce((n, f) => n + f.size, 0);
    const done = job.state === 'verified' ? total : this.done(job);
    const speed = isOver(job.state) ? 0 : job.meter.speed();
    const current = job.current ? job.swarms.find((s) => s.sha256 === job.current!.file.sha256) : undefined;
    let state = job.state;
    if (state === 'downloading' && current?.waiting) state = 'paused';
    else if (state === 'downloading' && total > 0 && done >= total) state = 'verifying';
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
}
