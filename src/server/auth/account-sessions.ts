// An account's sessions as one thing: registered at sign-in, listed per device, ended one by one or all at once (sockets included, on every instance).
import type { RedisStore } from 'connect-redis';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../log.js';
import { clientAddress, deviceAddress } from '../net/address.js';
import type { SignalingHub } from '../signaling/hub.js';
import { MAX_SESSIONS_PER_USER, UserSessionIndex, type DeviceSession } from '../store/user-sessions.js';
import type { RedisClient } from '../store/redis.js';
import type { UserStore } from '../store/users.js';

declare module 'express-session' {
  interface SessionData {
    /** This session's handle in the account's device list (see UserSessionIndex). */
    deviceId?: string;
    /** When this session last recorded itself as seen (ms); rewritten at most once a minute. */
    seenAt?: number;
  }
}

/** How often a busy session rewrites its "last seen" (and the account's). */
const SEEN_EVERY_MS = 60_000;

export interface AccountSessionsDeps {
  redis: RedisClient;
  store: RedisStore;
  hub: SignalingHub;
  users: UserStore;
  log: Logger;
}

/** ListedSession — a device as the Account page shows it. */
export interface ListedSession extends Omit<DeviceSession, 'sid'> {
  current: boolean;
}

/** AccountSessions — every session of an account, and ending them everywhere at once. */
export class AccountSessions {
  private readonly index: UserSessionIndex;

  constructor(private readonly deps: AccountSessionsDeps) {
    this.index = new UserSessionIndex(deps.redis);
  }

  /** signedIn — records the session `req` just got for `userId` (call after it is saved); ends the least recently used one beyond the cap. */
  async signedIn(req: Request, userId: string): Promise<void> {
    const now = Date.now();
    req.session.deviceId = await this.index.add(userId, {
      sid: req.sessionID, userAgent: String(req.headers['user-agent'] ?? ''), address: deviceAddress(clientAddress(req)), signedInAt: now, lastSeenAt: now,
    });
    req.session.seenAt = now;
    const all = await this.index.list(userId);
    for (const old of all.filter((d) => d.sid !== req.sessionID).slice(MAX_SESSIONS_PER_USER - 1)) {
      await this.endDevice(userId, old.deviceId);
    }
  }

  /** seen — middleware (after the user is loaded): keeps "last seen" of the device and the account, and indexes sessions older than the index. */
  seen(): RequestHandler {
    return async (req, res, next) => {
      const user = res.locals.user;
      const s = req.session;
      if (!user || !s?.userId) return next();
      const now = Date.now();
      if (s.deviceId && s.seenAt && now - s.seenAt < SEEN_EVERY_MS) return next();
      try {
        if (s.deviceId) await this.index.touch(user.id, s.deviceId, deviceAddress(clientAddress(req)), now);
        else await this.signedIn(req, user.id);
        s.seenAt = now;
        await this.deps.users.touch(user.id, now);
        next();
      } catch (err) {
        next(err);
      }
    };
  }

  /** list — the account's signed-in devices, most recently used first; `currentSid` is marked. */
  async list(userId: string, currentSid: string): Promise<ListedSession[]> {
    return (await this.index.list(userId)).map(({ sid, ...d }) => ({ ...d, current: sid === currentSid }));
  }

  /** sessionIdOf — the session behind a device id of this account (null if it is not theirs or is gone). */
  async sessionIdOf(userId: string, deviceId: string): Promise<string | null> {
    return (await this.index.get(userId, deviceId))?.sid ?? null;
  }

  /** endDevice — signs one device out: its session is destroyed and its sockets close with 4401 on every instance. */
  async endDevice(userId: string, deviceId: string): Promise<boolean> {
    const d = await this.index.get(userId, deviceId);
    if (!d) return false;
    await this.destroy(d.sid);
    await this.index.remove(userId, deviceId);
    return true;
  }

  /**
   * endAll — signs the account out everywhere (except the session `exceptSid`, if given):
   * every indexed session is destroyed, and every socket of the account on any instance on
   * another session closes with 4401 — also sockets of sessions the index never saw.
   */
  async endAll(userId: string, opts: { exceptSid?: string } = {}): Promise<number> {
    const all = await this.index.list(userId);
    let ended = 0;
    for (const d of all) {
      if (d.sid === opts.exceptSid) continue;
      await this.destroy(d.sid);
      await this.index.remove(userId, d.deviceId);
      ended++;
    }
    await this.deps.hub.userSessionsEnded(userId, opts.exceptSid);
    return ended;
  }

  /** forget — drops the account's device list (after its sessions were ended; deleted accounts). */
  async forget(userId: string): Promise<void> {
    await this.index.forget(userId);
  }

  private destroy(sid: string): Promise<void> {
    // The store's destroy (wrapped in createSessions) also tells every instance's sockets.
    return new Promise((resolve, reject) => this.deps.store.destroy(sid, (err?: unknown) => (err ? reject(err) : resolve())));
  }
}
