// Ends sockets when their session ends by itself (idle expiry, SESSION_MAX_DAYS): one timer per session, re-read from Redis.
import type { Config } from '../config.js';
import { sessionStatus } from '../auth/session.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../store/redis.js';

/** How often a live session is re-read at most: a destroyed session whose bus message was lost still ends. */
const RECHECK_MS = 60_000;
/** Read a little after the expected end, so Redis has expired the key by then. */
const SLACK_MS = 250;
/** setTimeout's longest delay is about 24.8 days; SESSION_MAX_DAYS may be longer. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Watched {
  sockets: Set<{ readonly userId: string }>;
  timer: NodeJS.Timeout | null;
}

/**
 * SessionWatch — sign-out reaches sockets through the bus at once; expiry has no event, so
 * each watched session is re-read when it is due to end (and at least every minute) and its
 * sockets are ended when it is gone, belongs to someone else, or is past its lifetime.
 */
export class SessionWatch {
  private readonly sessions = new Map<string, Watched>();
  private stopped = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly end: (sessionId: string) => void,
  ) {}

  /** watch — `socket` lives on session `sessionId` until it is unwatched or the session ends. */
  watch(socket: { readonly sessionId: string; readonly userId: string }, endsAt: number): void {
    let w = this.sessions.get(socket.sessionId);
    if (!w) {
      this.sessions.set(socket.sessionId, (w = { sockets: new Set(), timer: null }));
      this.schedule(socket.sessionId, w, endsAt);
    }
    w.sockets.add(socket);
  }

  unwatch(socket: { readonly sessionId: string }): void {
    const w = this.sessions.get(socket.sessionId);
    if (!w) return;
    w.sockets.delete(socket as never);
    if (w.sockets.size === 0) {
      if (w.timer) clearTimeout(w.timer);
      this.sessions.delete(socket.sessionId);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.sessions.values()) if (w.timer) clearTimeout(w.timer);
    this.sessions.clear();
  }

  private schedule(sid: string, w: Watched, endsAt: number): void {
    if (this.stopped) return;
    const delay = Math.min(Math.max(0, endsAt - Date.now()) + SLACK_MS, RECHECK_MS, MAX_DELAY_MS);
    w.timer = setTimeout(() => void this.check(sid, w), delay);
    w.timer.unref();
  }

  private async check(sid: string, w: Watched): Promise<void> {
    w.timer = null;
    if (this.sessions.get(sid) !== w) return;
    let status;
    try {
      status = await sessionStatus(this.redis, this.config, sid);
    } catch (err) {
      // Redis is unreachable: no verdict either way; look again shortly.
      this.log.debug({ err: (err as Error).message }, 'session check deferred');
      return this.schedule(sid, w, Date.now() + 5_000);
    }
    const owner = [...w.sockets][0]?.userId;
    if (!status || status.endsAt <= Date.now() || status.userId !== owner) {
      this.end(sid);
      return;
    }
    this.schedule(sid, w, status.endsAt);
  }
}
