// The admin action log: who did what, when, as names (never account ids), the last 1,000 entries in one Redis list.
import type { RedisClient } from './redis.js';

/** ADMIN_LOG_MAX — entries kept; older ones fall off as new ones arrive. */
export const ADMIN_LOG_MAX = 1000;

const LOG_KEY = 'admin:log';

/** AdminAction — what an admin (or `npm run admin`) did. */
export type AdminAction =
  | 'registration-changed'
  | 'invite-created'
  | 'invite-revoked'
  | 'disabled'
  | 'enabled'
  | 'made-admin'
  | 'removed-admin'
  | 'reset-link-created'
  | 'room-deleted';

const ACTIONS: ReadonlySet<string> = new Set<AdminAction>([
  'registration-changed', 'invite-created', 'invite-revoked', 'disabled', 'enabled', 'made-admin', 'removed-admin', 'reset-link-created', 'room-deleted',
]);

/** LogEntry — one action. `actor` and `target` are names as they were at the time ("Ben Okafor (ben)", a room's name). */
export interface LogEntry {
  at: number;
  actor: string;
  action: AdminAction;
  target: string;
}

/** personLabel — how the log names a person: "Display Name (username)". */
export const personLabel = (u: { displayName: string; username: string }): string => `${u.displayName} (${u.username})`;

function parse(raw: string): LogEntry | null {
  try {
    const e = JSON.parse(raw) as Partial<LogEntry>;
    if (typeof e.at !== 'number' || typeof e.actor !== 'string' || typeof e.target !== 'string' || !ACTIONS.has(e.action as string)) return null;
    return { at: e.at, actor: e.actor, action: e.action as AdminAction, target: e.target };
  } catch {
    return null;
  }
}

/** AdminLog — append and read the log. */
export class AdminLog {
  constructor(private readonly redis: RedisClient) {}

  /** append — adds an entry and drops the oldest beyond ADMIN_LOG_MAX, in one transaction. */
  async append(entry: Omit<LogEntry, 'at'> & { at?: number }): Promise<void> {
    const line = JSON.stringify({ at: entry.at ?? Date.now(), actor: entry.actor, action: entry.action, target: entry.target });
    await this.redis.multi().lPush(LOG_KEY, line).lTrim(LOG_KEY, 0, ADMIN_LOG_MAX - 1).exec();
  }

  /** latest — the newest `n` entries, newest first. */
  async latest(n: number): Promise<LogEntry[]> {
    const raw = await this.redis.lRange(LOG_KEY, 0, n - 1);
    return raw.map(parse).filter((e): e is LogEntry => e !== null);
  }

  /** size — how many entries are kept. */
  async size(): Promise<number> {
    return this.redis.lLen(LOG_KEY);
  }
}
