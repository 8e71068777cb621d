// Child processes for tests: free ports, redis-server per run, always stopped by PID.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pingRedis } from '../../src/server/managed-redis.js';
import { isRunning, processIdentity } from '../../src/server/process-info.js';

const children = new Set<ChildProcess>();
// A failing or interrupted run must not leave servers or folders behind.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (runRoot) {
    for (const p of ownProcesses()) killPid(p.pid);
    removeRunTempRoot();
  }
});

/** freePort — a TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  await once(srv, 'close');
  return port;
}

// ---- Temporary folders ----------------------------------------------------------------------
// Every folder a test makes sits in one folder per run, /tmp/hearth-run-<pid>-XXXXXX/, and is
// removed when the test or suite that made it ends (the root hooks in root-hooks.ts do that).
// The run folder itself goes when the run ends, also when it is interrupted (Ctrl+C, an uncaught
// error: process 'exit'). Nothing is ever removed by a name pattern alone: other runs, and other
// people's scratch folders, live in /tmp too.

/** The system's temp folder, read before a test run points TMPDIR at its run folder. */
const SYSTEM_TMP = os.tmpdir();
const OWNER_FILE = '.owner';
let runRoot: string | null = null;

interface Made {
  seq: number;
  /** 'scope': removed when the test or suite that made it ends; 'run': when the run ends. */
  keep: 'scope' | 'run';
}
const made = new Map<string, Made>();
let seq = 0;

/** runTempRoot — this process's run folder (made on first use); every tempDir() is inside it. */
export function runTempRoot(): string {
  if (!runRoot) {
    sweepDeadRunRoots();
    runRoot = mkdtempSync(path.join(SYSTEM_TMP, `hearth-run-${process.pid}-`));
    // Who owns it, so that a later run can tell a folder whose run was killed (kill -9) from a live one.
    writeFileSync(path.join(runRoot, OWNER_FILE), `${process.pid} ${processIdentity(process.pid)?.startTime ?? ''}\n`);
  }
  return runRoot;
}

/**
 * sweepDeadRunRoots — removes run folders whose owner process is gone (a run killed with kill -9
 * cannot clean up after itself). A folder is removed only when its owner file names a process
 * that no longer exists or is another program now; a live run's folder is never touched.
 */
function sweepDeadRunRoots(): void {
  let names: string[] = [];
  try {
    names = readdirSync(SYSTEM_TMP).filter((n) => /^hearth-run-\d+-[A-Za-z0-9]{6}$/.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(SYSTEM_TMP, name);
    let owner: string;
    try {
      owner = readFileSync(path.join(dir, OWNER_FILE), 'utf8');
    } catch {
      continue; // no owner file: not ours to judge
    }
    const [pid, startTime] = owner.trim().split(' ');
    if (Number(pid) === process.pid) continue;
    const now = processIdentity(Number(pid));
    if (now && now.startTime === startTime) continue; // its run is still going
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * tempDir — a new folder `<prefix>-XXXXXX` in the run folder. It is removed when the test that
 * made it ends (made in a test, or in a beforeEach/afterEach), or when the suite ends (made in
 * before/after); `keep: 'run'` keeps it for the whole run (a cache shared by many suites).
 */
export function tempDir(prefix: string, opts: { keep?: 'scope' | 'run' } = {}): string {
  const dir = mkdtempSync(path.join(runTempRoot(), `${prefix}-`));
  made.set(dir, { seq: ++seq, keep: opts.keep ?? 'scope' });
  return dir;
}

/** tempMark — a point in time for removeTempDirsSince: folders made after it are newer. */
export function tempMark(): number {
  return seq;
}

/** removeTempDirsSince — removes the scoped folders made after `mark` that still exist; returns them. */
export function removeTempDirsSince(mark: number): string[] {
  const gone: string[] = [];
  for (const [dir, m] of made) {
    if (m.seq <= mark || m.keep !== 'scope') continue;
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    made.delete(dir);
    gone.push(dir);
  }
  return gone;
}

/** removeRunTempRoot — removes the run folder and all in it (at the end of the run). */
export function removeRunTempRoot(): void {
  if (!runRoot) return;
  rmSync(runRoot, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
}

/**
 * strayTempEntries — what is in the run folder besides the folders tempDir() made and has not
 * removed yet: files or folders something wrote there (via TMPDIR) and did not remove.
 */
export function strayTempEntries(): string[] {
  if (!runRoot) return [];
  return readdirSync(runRoot).map((n) => path.join(runRoot!, n)).filter((p) => !made.has(p) && !EXPECTED.test(path.basename(p)));
}
/**
 * What may be in the run folder without being a leftover: its owner file, and tsx's compile cache
 * (tsx-<uid>), which a child process running TypeScript (e.g. a Node started with --import tsx)
 * keeps in TMPDIR on purpose. Both go with the run folder.
 */
const EXPECTED = /^(\.owner|tsx-\d+)$/;

// ---- Processes the run started ----------------------------------------------------------------

/** OwnProcess — a live process this run started, directly or further down. */
export interface OwnProcess {
  pid: number;
  parentPid: number;
  command: string;
}

const readProc = (pid: string, file: string): string => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
};

/**
 * ownProcesses — live processes (not zombies) this process started: its descendants, and any
 * process whose environment or command line names the run folder (a Hearth started with its own
 * environment, and the redis-server it runs, keep DATA_DIR there even once re-parented to PID 1).
 */
export function ownProcesses(): OwnProcess[] {
  const all = new Map<number, OwnProcess & { mentionsRun: boolean }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const id = processIdentity(Number(name));
    if (!id) continue;
    const mentionsRun = runRoot !== null && (id.cmdline.includes(runRoot) || readProc(name, 'environ').includes(runRoot));
    all.set(Number(name), { pid: Number(name), parentPid: id.parentPid, command: id.cmdline.split('\0').join(' ').slice(0, 200), mentionsRun });
  }
  const own = (p: OwnProcess & { mentionsRun: boolean }): boolean => {
    for (let q: typeof p | undefined = p, hops = 0; q && hops < 64; q = all.get(q.parentPid), hops++) {
      if (q.mentionsRun || q.parentPid === process.pid) return true;
    }
    return false;
  };
  return [...all.values()].filter(own).map(({ pid, parentPid, command }) => ({ pid, parentPid, command }));
}

/** track — remember a child so it is killed when the test process exits. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** stopChild — SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** running — the process exists and has not exited (a zombie waiting to be reaped counts as gone). */
export function running(pid: number): boolean {
  return isRunning(pid);
}

/** childPid — the PID of `parent`'s child whose command is `command` (e.g. redis-server), or null. */
export function childPid(parent: number, command: string): number | null {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)]).toString();
  } catch { /* ps exits 1 when there are no children */ }
  const line = out.split('\n').map((l) => l.trim().split(/\s+/)).find(([, comm]) => comm === command);
  return line ? Number(line[0]) : null;
}

/** killPid — SIGKILL a process this test started (directly or as a grandchild), if it still runs. */
export function killPid(pid: number | null | undefined): void {
  if (pid && running(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone meanwhile */ }
  }
}

/** TestRedis — a private redis-server on a random loopback port. */
export interface TestRedis {
  port: number;
  url: string;
  child: ChildProcess;
  dir: string;
  stop(): Promise<void>;
  /** kill — stop the server but keep its data directory (start it again with restart()). */
  kill(): Promise<void>;
  /** restart — (stop and) start again on the same port (for outage tests). */
  restart(): Promise<void>;
}

async function spawnRedis(port: number, dir: string, persist: boolean): Promise<ChildProcess> {
  const child = track(spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '',
    '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--dir', dir], { stdio: 'ignore' }));
  const err = await once(child, 'spawn').then(() => null, (e: Error) => e);
  if (err) throw new Error(`redis-server could not be started (${err.message}). Install it: apt-get install redis-server — or run npm test, which does.`);
  const deadline = Date.now() + 5_000;
  while (!(await pingRedis({ port, host: '127.0.0.1' }))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(25);
  }
  return child;
}

/** startRedis — starts redis-server on a free port; `persist` keeps data across restart(). */
export async function startRedis(opts: { persist?: boolean } = {}): Promise<TestRedis> {
  const persist = opts.persist ?? false;
  const port = await freePort();
  const dir = tempDir('redis');
  const r: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    child: await spawnRedis(port, dir, persist),
    async stop() {
      await stopChild(r.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await stopChild(r.child);
    },
    async restart() {
      await stopChild(r.child);
      r.child = await spawnRedis(port, dir, persist);
    },
  };
  return r;
}
