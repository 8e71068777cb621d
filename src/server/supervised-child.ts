// Keeps one managed child process (redis-server, turnserver) running: restarted with backoff when it dies, stopped with SIGTERM then SIGKILL.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';

const STOP_GRACE_MS = 1_500;

/** SupervisedChild — the running child, whichever restart it is on. */
export interface SupervisedChild {
  pid(): number | undefined;
  /** stop — SIGTERM, SIGKILL if it takes longer than `graceMs`; no restart after. */
  stop(graceMs?: number): Promise<void>;
  /** abandon — last resort when Hearth must exit now: signal the child and do not wait (synchronous). */
  abandon(signal: NodeJS.Signals): void;
}

/** waitUntil — polls `cond` every 50 ms; false if it still fails after `ms`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/**
 * superviseChild — runs `launch` (which resolves once its child answers, or throws; the first
 * failure is the caller's) and launches again, waiting 0.25 s doubling to 5 s between tries,
 * whenever the child exits unless it was told to stop.
 */
export async function superviseChild(name: string, launch: () => Promise<ChildProcess>, log: Logger): Promise<SupervisedChild> {
  let stopping = false;
  const watch = (c: ChildProcess): ChildProcess => {
    c.on('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, `the managed ${name} stopped unexpectedly; restarting it`);
      void relaunch();
    });
    return c;
  };
  const relaunch = async () => {
    for (let attempt = 0; !stopping; attempt++) {
      await sleep(Math.min(250 * 2 ** attempt, 5_000));
      if (stopping) return;
      try {
        child = watch(await launch());
        log.info({ pid: child.pid }, `managed ${name} restarted`);
        return;
      } catch (err) {
        log.error({ err: (err as Error).message }, `restarting ${name} failed`);
      }
    }
  };
  let child = watch(await launch());
  return {
    pid: () => child.pid,
    async stop(graceMs = STOP_GRACE_MS) {
      stopping = true;
      const c = child;
      if (exited(c)) return;
      const gone = once(c, 'exit');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
    abandon(signal) {
      stopping = true;
      if (!exited(child)) child.kill(signal);
    },
  };
}
