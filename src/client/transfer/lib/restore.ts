// After a reload: this scope's stored transfers that no other tab holds, and deletion of everything older than a day.
import { opfsDir, type Disk } from './disk.js';
import { claim, type IncomingRecord, type OutgoingRecord, type TransferStore } from './store.js';

/** MAX_AGE_MS — partial (and unsaved finished) files untouched this long are deleted. */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Claimed — a stored record this tab now owns (its Web Lock released by `release`). */
export interface Claimed<R> {
  rec: R;
  release: () => void;
}

/** Held — a record of this scope that another tab (or a page still unloading) owns right now. */
export interface Held {
  kind: 'in' | 'out';
  id: string;
}

/**
 * loadStored — reads both stores, claims (Web Locks) the records of `scope` that are less
 * than a day old, and deletes records and files older than that in any scope (when no other
 * tab holds them). Outgoing records come back in offer order.
 */
export async function loadStored(store: TransferStore, disk: Disk | null, scope: string, skip: (id: string) => boolean, now = Date.now()): Promise<{ incoming: Claimed<IncomingRecord>[]; outgoing: Claimed<OutgoingRecord>[]; held: Held[] }> {
  const [ins, outs] = await Promise.all([store.all('in'), store.all('out')]).catch(() => [[], []] as [IncomingRecord[], OutgoingRecord[]]);
  const held: Held[] = [];
  const sortOut = async <R extends IncomingRecord | OutgoingRecord>(kind: Held['kind'], recs: R[], expire: (rec: R) => Promise<unknown>): Promise<Claimed<R>[]> => {
    const claimed: Claimed<R>[] = [];
    for (const rec of recs) {
      const old = now - rec.updatedAt > MAX_AGE_MS;
      if ((!old && rec.scope !== scope) || skip(rec.id)) continue;
      const release = await claim(`hearth-${kind}:${rec.id}`);
      if (!release) {
        if (!old) held.push({ kind, id: rec.id });
      } else if (!old) {
        claimed.push({ rec, release });
      } else {
        await expire(rec).catch(() => undefined);
        await store.delete(kind, rec.id).catch(() => undefined);
        release();
      }
    }
    return claimed;
  };
  const incoming = await sortOut('in', ins, (rec) => disk?.remove(rec.id) ?? Promise.resolve());
  const outgoing = await sortOut('out', outs.sort((a, b) => a.order - b.order), () => Promise.resolve());
  const keep = new Set(ins.filter((rec) => now - rec.updatedAt <= MAX_AGE_MS).map((rec) => rec.id));
  await removeOrphans((id) => keep.has(id) || skip(id), now);
  return { incoming, outgoing, held };
}

/** removeOrphans — stored files without a record (a crash between the two), once a day old. */
async function removeOrphans(keep: (id: string) => boolean, now: number): Promise<void> {
  try {
    const dir = await opfsDir();
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    for (const name of names) {
      if (keep(name)) continue;
      // A file another tab is writing is locked (getFile fails): it is not an orphan.
      const file = await (await dir.getFileHandle(name)).getFile().catch(() => null);
      if (file && now - file.lastModified > MAX_AGE_MS) await dir.removeEntry(name).catch(() => undefined);
    }
  } catch {
    // No OPFS here: nothing to clean.
  }
}
