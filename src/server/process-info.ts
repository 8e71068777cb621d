// What Linux says about a process (from /proc): is it still running, what is it, who is its parent.
import { readFileSync, readlinkSync } from 'node:fs';

/** ProcessIdentity — enough to tell a process from a later one that reused its PID. */
export interface ProcessIdentity {
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); a reused PID has another. */
  startTime: string;
  /** The command line, arguments joined by NUL as the kernel keeps them. */
  cmdline: string;
  parentPid: number;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * processIdentity — the identity of a running process, or null when there is none (gone, or a
 * zombie: it has exited and only waits for its parent to notice).
 */
export function processIdentity(pid: number): ProcessIdentity | null {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, ppid] = fields;
  if (state === 'Z' || state === 'X') return null;
  return { startTime: fields[19] ?? '', cmdline: (read(`/proc/${pid}/cmdline`) ?? '').replace(/\0$/, ''), parentPid: Number(ppid) };
}

/** isRunning — the process exists and has not exited. */
export function isRunning(pid: number): boolean {
  return processIdentity(pid) !== null;
}

/** workingDirectory — where the process runs (redis-server runs in its data folder), or null. */
export function workingDirectory(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** looksLikeHearth — a Node process running Hearth's entry point (built or from sources). */
export function looksLikeHearth(identity: ProcessIdentity): boolean {
  return identity.cmdline.split('\0').slice(1).some((arg) => /(^|\/)server\/main\.[jt]s$/.test(arg));
}
