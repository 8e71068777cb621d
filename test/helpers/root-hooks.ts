// Mocha root hooks: one real redis-server for the whole run, stopped by PID afterwards; temp
// folders removed when the test or suite that made them ends; and a check, at the very end,
// that the run left no process and nothing in its temp folder behind.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  killPid, ownProcesses, removeRunTempRoot, removeTempDirsSince, runTempRoot, startRedis, strayTempEntries, tempMark,
  type OwnProcess, type TestRedis,
} from './processes.js';

// Everything this run (and what it starts: Hearth, redis-server, Chromium, Firefox) writes to the
// temp folder lands in the run folder, so the end-of-run check sees it and nothing is left in /tmp.
process.env.TMPDIR = runTempRoot();
// An interrupted run still cleans up: the 'exit' handler in processes.ts stops what the run
// started and removes the run folder; without these, a signal would end the process without it.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => process.exit(code));
}

let redis: TestRedis | null = null;

/** sharedRedis — the run's redis-server (started in beforeAll). */
export function sharedRedis(): TestRedis {
  if (!redis) throw new Error('the shared redis-server is not running (root hook did not run?)');
  return redis;
}

/** Processes that were already there when the run began (e.g. tsx's esbuild service): not the tests'. */
let preexisting = new Set<string>();
const key = (p: OwnProcess) => `${p.pid} ${p.command}`;

/** Where each suite's before-all hooks ended: the folders a suite makes are newer than its parent's mark. */
const suiteMarks = new WeakMap<Mocha.Suite, number>();
let testMark = 0;

/**
 * scopeTempDirs — gives every suite two hooks: after its own before-all hooks, remember the mark;
 * after its own after-all hooks, remove the folders made since its parent's mark (by its hooks
 * and tests; its children's are gone already, each at its own end).
 */
function scopeTempDirs(suite: Mocha.Suite): void {
  for (const child of suite.suites) {
    child.beforeAll('hearth: note where this suite\'s temp folders begin', () => {
      suiteMarks.set(child, tempMark());
    });
    child.afterAll('hearth: remove this suite\'s temp folders', () => {
      removeTempDirsSince(suiteMarks.get(suite) ?? 0);
    });
    scopeTempDirs(child);
  }
}

/** leftoverProcesses — the run's processes still alive, after giving exiting ones a few seconds. */
async function leftoverProcesses(): Promise<OwnProcess[]> {
  let left: OwnProcess[] = [];
  for (let i = 0; i < 50; i++) {
    left = ownProcesses().filter((p) => !preexisting.has(key(p)));
    if (left.length === 0) break;
    await sleep(100);
  }
  return left;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(15_000);
    preexisting = new Set(ownProcesses().map(key));
    redis = await startRedis();
    const root = this.test!.parent!;
    suiteMarks.set(root, tempMark());
    scopeTempDirs(root);
  },
  beforeEach() {
    testMark = tempMark();
  },
  afterEach() {
    removeTempDirsSince(testMark);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(15_000);
    await redis?.stop();
    redis = null;
    removeTempDirsSince(0);
    const problems: string[] = [];
    const left = await leftoverProcesses();
    if (left.length > 0) {
      problems.push(`processes the tests started are still running (now killed):\n${left.map((p) => `  ${p.pid} (parent ${p.parentPid}): ${p.command}`).join('\n')}`);
      for (const p of left) killPid(p.pid);
    }
    const stray = strayTempEntries();
    if (stray.length > 0) problems.push(`left in the run's temp folder (now removed):\n${stray.map((p) => `  ${p}`).join('\n')}`);
    removeRunTempRoot();
    if (problems.length > 0) throw new Error(`The tests did not clean up after themselves.\n${problems.join('\n')}`);
  },
};
