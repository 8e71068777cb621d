// Builds the Express application from its dependencies; listening is someone else's job.
import path from 'node:path';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Assets } from './assets.js';
import { AccountSessions } from './auth/account-sessions.js';
import { csrfTokens, isCsrfError } from './auth/csrf.js';
import { PasswordHasher } from './auth/passwords.js';
import { requireAdmin } from './auth/require-admin.js';
import { createSessions, enforceAbsoluteLifetime } from './auth/session.js';
import type { Config, ConnectionLimits, ThrottleLimits } from './config.js';
import { HttpError, notFound } from './http-error.js';
import type { Logger } from './log.js';
import { compileTrust } from './net/address.js';
import { PUBLIC_DIR, VIEWS_DIR } from './paths.js';
import { roomSharer } from './room-share.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes, passwordBusyToHttp } from './routes/auth.js';
import { filesRoutes } from './routes/files.js';
import { passwordResetRoutes } from './routes/password-reset.js';
import { pageRoutes } from './routes/pages.js';
import { roomRoutes } from './routes/rooms.js';
import { streamWorkerRoutes } from './routes/stream-worker.js';
import { trustRoutes } from './routes/trust.js';
import { metricsByToken, metricsRoutes, statusRoutes } from './routes/status.js';
import type { Services } from './services.js';
import { SignalingHub } from './signaling/hub.js';
import { SignalingServer } from './signaling/server.js';
import { Ringing } from './signaling/ringing.js';
import { SharedFiles } from './signaling/shares.js';
import { CallStore } from './store/calls.js';
import { ChatStore } from './store/chat.js';
import { createRateLimits } from './store/limits.js';
import type { RedisClient } from './store/redis.js';
import { isRedisRefusingWrites, isRedisUnavailable } from './store/redis-errors.js';
import { RoomStore } from './store/rooms.js';
import { ShareStore } from './store/shares.js';
import { UserStore, type User } from './store/users.js';

/** AppDeps — everything the app needs, built by main.ts (or by a test). */
export interface AppDeps {
  config: Config;
  redis: RedisClient;
  log: Logger;
  sessionSecret: string;
  assets: Assets;
  hasher?: PasswordHasher;
  // Tests and benchmarks tighten or loosen config's limits here (the defaults live in config.ts).
  throttle?: Partial<ThrottleLimits>;
  heartbeatMs?: number;
  signalingLimits?: Partial<ConnectionLimits>;
}

/** HearthApp — the Express app plus the signaling side that shares its sessions and stores. */
export interface HearthApp {
  express: express.Express;
  sessionParser: RequestHandler;
  users: UserStore;
  rooms: RoomStore;
  chat: ChatStore;
  hub: SignalingHub;
  signaling: SignalingServer;
  calls: CallStore;
  ringing: Ringing;
  accountSessions: AccountSessions;
  /** services — everything route modules are built from (tests reach stores through it). */
  services: Services;
}

declare module 'express-serve-static-core' {
  interface Locals {
    user?: User | null;
  }
}

const BODY_LIMIT = '16kb';

/** createApp — the whole HTTP side of Hearth, without `listen`. */
export function createApp(deps: AppDeps): HearthApp {
  const { redis, log, assets } = deps;
  const config = withOverrides(deps);
  const { heartbeatMs, limits } = config;
  const rateLimits = createRateLimits(redis, limits);
  const users = new UserStore(redis);
  // A tab's presence lives three heartbeats: a dead connection fades within 30 s by default.
  const rooms = new RoomStore(redis, heartbeatMs * 3);
  const chat = new ChatStore(redis, rateLimits.chat);
  const hasher = deps.hasher ?? new PasswordHasher();
  const hub = new SignalingHub(redis, rooms, log, { heartbeatMs });
  // A session destroyed anywhere (sign-out, the absolute lifetime) closes its sockets everywhere.
  const sessions = createSessions(config, redis, deps.sessionSecret, (sid) => {
    hub.sessionEnded(sid).catch((err: Error) => log.warn({ err: err.message }, 'could not announce an ended session; its sockets end at their next check'));
  });
  const sessionParser = sessions.parser;
  const calls = new CallStore(redis);
  const ringing = new Ringing({
    redis, calls, rooms, users, hub, log, timeoutMs: config.ringTimeoutSeconds * 1000, rings: rateLimits.rings, callCapacity: config.rooms.callCapacity,
  });
  // Shares held by a tab lapse with its presence.
  const shares = new ShareStore(redis, heartbeatMs * 3);
  const files = new SharedFiles({ shares, rooms, hub, log, heartbeatMs, ready: () => redis.isReady });
  const signaling = new SignalingServer({
    config, log, redis, rooms, chat, hub, users, ringing, files, sessionParser, sessionStore: sessions.store, resumeSecret: deps.sessionSecret,
  });
  const accountSessions = new AccountSessions({ redis, store: sessions.store, hub, users, log });
  const services: Services = {
    config, log, redis, assets, hasher, rateLimits, users, rooms, chat, calls, hub, signaling, accountSessions, shares, files,
  };
  const app = express();

  app.disable('x-powered-by');
  // TRUST_PROXY: whose X-Forwarded-For names the client (req.ip, and so every per-address limit; see clientAddress).
  app.set('trust proxy', compileTrust(config.trustProxy));
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'pug');
  app.enable('view cache');
  app.locals.cssUrl = assets.css;
  app.locals.iconsUrl = assets.icons;
  app.locals.workersJson = JSON.stringify(assets.workers ?? {});

  app.use(helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval' lets hash-wasm compile its WebAssembly (incremental SHA-256 for file
        // transfer); it allows no JavaScript eval.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'"],
        fontSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: [],
      },
    },
    strictTransportSecurity: false, // a LAN box may be reached by IP or name; HSTS would pin a cert users may replace
    crossOriginEmbedderPolicy: false,
  }));
  app.use((_req, res, next) => {
    res.set('Permissions-Policy', 'camera=(self), microphone=(self), display-capture=(self), geolocation=()');
    next();
  });

  app.use(express.static(PUBLIC_DIR, { index: false, maxAge: '1h', setHeaders: (res, file) => {
    if (file.includes(`${path.sep}build${path.sep}`)) res.set('Cache-Control', 'public, max-age=31536000, immutable');
  } }));
  // The trust page and /ca.crt need neither Redis nor a session: a device's first visit leaves no state.
  app.use(trustRoutes({ config, assets }));
  app.use(streamWorkerRoutes(assets));
  app.get('/healthz', (_req, res) => {
    res.status(redis.isReady ? 200 : 503).json({ ok: redis.isReady, redis: redis.isReady ? 'up' : 'down' });
  });

  // A scraper's token needs no session, and its scrape must answer while Redis is down.
  app.use(metricsByToken(services));
  // Everything below needs Redis. Answer at once while it is down rather than queue.
  app.use((_req, _res, next) => {
    next(redis.isReady ? undefined : databaseDown());
  });
  app.use(sessionParser, enforceAbsoluteLifetime(config));
  // CSRF tokens live in a signed cookie, not the session, so anonymous pages store nothing in Redis.
  app.use(csrfTokens(deps.sessionSecret));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 }));
  app.use(async (req, res, next) => {
    res.locals.user = null;
    res.locals.scripts = [];
    const id = req.session?.userId;
    if (!id) return next();
    try {
      const user = await users.findById(id);
      if (!user || user.disabled) {
        // Deleted or disabled since this session began: it ends here too (the sign-out that
        // came with it may have missed a session the device list never saw).
        await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
        return next();
      }
      res.locals.user = user;
      res.locals.dnd = await calls.dnd(id);
      next();
    } catch (err) {
      next(err);
    }
  });
  app.use(accountSessions.seen());
  app.use(metricsRoutes(services));

  app.use(authRoutes({ config, log, redis, users, hasher, accountSessions, guesses: rateLimits.login, registrations: rateLimits.registrations }));
  app.use(passwordResetRoutes(services));
  // Every route after this point needs a signed-in user.
  app.use((req, res, next) => {
    if (res.locals.user) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return next(new HttpError(401, 'Signed out', 'Your session has ended. Sign in again.'));
    res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  });
  app.use(accountRoutes(services));
  app.use('/admin', requireAdmin, statusRoutes(services));
  app.use('/admin', requireAdmin, adminRoutes(services));
  app.use(filesRoutes({ assets, files }));
  app.use(pageRoutes({ assets, rooms, calls, defaultCapacity: config.rooms.defaultCapacity }));
  app.use(roomRoutes({
    assets, rooms, chat, hub, hasher, users, calls, guesses: rateLimits.passcode, creations: rateLimits.roomCreations, defaultCapacity: config.rooms.defaultCapacity,
    share: roomSharer(config),
  }));

  app.use((_req, _res, next) => next(notFound()));
  app.use(errorHandler(log));
  return { express: app, sessionParser, users, rooms, chat, hub, signaling, calls, ringing, accountSessions, services };
}

/** withOverrides — config with the test and benchmark overrides of {@link AppDeps} applied. */
function withOverrides({ config, throttle, heartbeatMs, signalingLimits }: AppDeps): Config {
  return {
    ...config,
    heartbeatMs: heartbeatMs ?? config.heartbeatMs,
    limits: {
      ...config.limits,
      throttle: { ...config.limits.throttle, ...throttle },
      signaling: { ...config.limits.signaling, ...signalingLimits },
    },
  };
}

const databaseDown = () => new HttpError(503, "Hearth's database is unavailable",
  "Hearth's database is unavailable. It usually comes back within a few seconds: reload the page shortly.", 5);

function errorHandler(log: Logger): ErrorRequestHandler {
  let lastRefusalLog = 0;
  return (err, req, res, _next) => {
    let e: HttpError;
    const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (err instanceof HttpError) e = err;
    else if (isCsrfError(err)) e = new HttpError(403, 'Form expired', 'This form was out of date or did not come from Hearth. Go back, reload the page and try again.');
    else if (err?.type === 'entity.too.large') e = new HttpError(413, 'Too large', 'What you sent is larger than Hearth accepts.');
    else if (passwordBusyToHttp(err)) e = passwordBusyToHttp(err)!;
    else if (status >= 400 && status < 500) e = new HttpError(status, 'Bad request', 'Hearth could not understand that request.');
    else if (!err?.status && isRedisUnavailable(err)) {
      // Refused writes (out of memory, read-only) are an operator's problem: say so in the log.
      if (isRedisRefusingWrites(err) && Date.now() - lastRefusalLog > 10_000) {
        lastRefusalLog = Date.now();
        log.error({ err: (err as Error).message, url: req.originalUrl }, 'redis refused a write (is it full? see REDIS_MAXMEMORY); answering 503');
      }
      e = databaseDown();
    }
    else {
      log.error({ err, url: req.originalUrl }, 'request failed');
      e = new HttpError(500, 'Something went wrong', 'Hearth hit an unexpected error. Try again; if it keeps happening, tell whoever runs this Hearth.');
    }
    if (res.headersSent) return;
    if (e.retryAfter) res.set('Retry-After', String(e.retryAfter));
    if (!res.locals.scripts) res.locals.scripts = [];
    if (!('user' in res.locals)) res.locals.user = null;
    if (!('csrfToken' in res.locals)) res.locals.csrfToken = '';
    const wantsJson = req.accepts(['html', 'json']) === 'json';
    res.status(e.status);
    if (wantsJson) return res.json({ error: { status: e.status, message: e.message } });
    res.render('error', { title: e.heading, status: e.status, heading: e.heading, message: e.message, retryAfter: e.retryAfter }, (renderErr, html) => {
      if (renderErr) {
        log.error({ err: renderErr }, 'error page failed to render');
        return res.type('text').send(`${e.status} ${e.heading}: ${e.message}`);
      }
      res.send(html);
    });
  };
}
