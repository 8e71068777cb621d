// One Hearth per DATA_DIR: a lock file names the live owner and its Redis and TURN children, and is known stale after a crash.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processIdentity } from './process-info.js';

/** LockRecord — what the lock file says about the Hearth that holds it. */
export interface LockRecord {
  pid: number;
  /** The owner's start time and command line: a PID reused by another process does not match them. */
  startTime: string;
  cmdline: string;
  /** The managed redis-server child, once started. */
  redisPid: number | null;
  /** The managed turnserver child, once started (absent in locks of Hearths before TURN). */
  turnPid?: number | null;
}

/** DataDirInUseError — a live Hearth holds this DATA_DIR; the message tells the user what to do. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/** DataDirLock — held for the life of the process; release() when Redis is stopped. */
export interface DataDirLock {
  /** What a Hearth that died without cleaning up left behind (its Redis may still run), or null. */
  readonly stale: LockRecord | null;
  /** recordRedis — remember the Redis child, so the next start can find it if this process dies. */
  recordRedis(pid: number | null): void;
  /** recordTurn — remember the turnserver child, likewise. */
  recordTurn(pid: number | null): void;
  /** release — remove the lock file if it is still ours (synchronous: safe in an 'exit' handler). */
  release(): void;
}

/** LOCK_FILE — the lock's name inside DATA_DIR. */
export const LOCK_FILE = 'hearth.lock';

function parse(text: string): LockRecord | null {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid !== 'number' || typeof r.startTime !== 'string' || typeof r.cmdline !== 'string') return null;
    const child = (n: unknown) => (typeof n === 'number' ? n : null);
    const turn = child(r.turnPid);
    return { pid: r.pid, startTime: r.startTime, cmdline: r.cmdline, redisPid: child(r.redisPid), ...(turn === null ? {} : { turnPid: turn }) };
  } catch {
    return null;
  }
}

/** holderIsAlive — the process the record names still runs, and is the same process (not a reused PID). */
function holderIsAlive(record: LockRecord): boolean {
  if (record.pid === process.pid) return false; // a restarted container may hand us our predecessor's PID
  const now = processIdentity(record.pid);
  return now !== null && now.startTime === record.startTime && now.cmdline === record.cmdline;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * acquireDataDirLock — takes DATA_DIR for this process, or throws {@link DataDirInUseError} when
 * a live Hearth holds it. A lock whose holder is gone (kill -9, power cut, OOM) is taken over and
 * returned as `stale`, so the caller can deal with the Redis that holder may have left running.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_FILE);
  const self = processIdentity(process.pid);
  const mine: LockRecord = { pid: process.pid, startTime: self?.startTime ?? '', cmdline: self?.cmdline ?? '', redisPid: null, turnPid: null };
  const tmp = `${file}.${process.pid}.tmp`;
  const write = (record: LockRecord) => writeFileSync(tmp, JSON.stringify(record) + '\n', { mode: 0o600 });

  // link() of a complete file is atomic and fails if the name exists: nobody ever reads half a lock.
  const create = (): boolean => {
    write(mine);
    try {
      linkSync(tmp, file);
      return true;
    } catch (err) {
      if (errno(err) === 'EEXIST') return false;
      throw err;
    } finally {
      unlinkSync(tmp);
    }
  };

  let stale: LockRecord | null = null;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (create()) return lockHandle(file, tmp, mine, stale, write);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      throw err;
    }
    const holder = parse(text);
    if (holder && holderIsAlive(holder)) {
      throw new DataDirInUseError(`Another Hearth (PID ${holder.pid}) is already running with DATA_DIR=${dataDir}. Stop it, or give this one its own DATA_DIR.`);
    }
    // Stale. Two starts may both see it: only one rename succeeds, and if what moved is not what
    // was judged stale, someone else took over in between, so it goes back.
    const aside = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      throw err;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== text) {
      try {
        linkSync(aside, file);
      } catch { /* a third start made a new lock meanwhile: it stands */ }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    stale = holder ?? stale;
  }
  throw new DataDirInUseError(`Could not take ${file}: other Hearths keep starting with DATA_DIR=${dataDir}.`);
}

function lockHandle(file: string, tmp: string, mine: LockRecord, stale: LockRecord | null, write: (r: LockRecord) => void): DataDirLock {
  const ours = () => {
    try {
      return parse(readFileSync(file, 'utf8'))?.pid === mine.pid;
    } catch {
      return false;
    }
  };
  let current = mine;
  const record = (change: Partial<LockRecord>) => {
    if (!ours()) return;
    current = { ...current, ...change };
    write(current);
    renameSync(tmp, file); // atomic replace: a reader sees the old record or the new one
  };
  return {
    stale,
    recordRedis: (pid) => record({ redisPid: pid }),
    recordTurn: (pid) => record({ turnPid: pid }),
    release() {
      if (ours()) unlinkSync(file);
    },
  };
}
