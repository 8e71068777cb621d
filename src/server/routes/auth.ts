// Sign-in, registration and sign-out pages (plain POST forms with CSRF tokens).
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { normalizeDisplayName, validateRegistration, type RegistrationErrors } from '../../shared/accounts.js';
import type { AccountSessions } from '../auth/account-sessions.js';
import { csrfProtection, isCsrfError } from '../auth/csrf.js';
import { SESSION_COOKIE } from '../auth/session.js';
import { PasswordBusyError, type PasswordHasher } from '../auth/passwords.js';
import { LoginThrottle } from '../auth/throttle.js';
import type { Config } from '../config.js';
import { HttpError } from '../http-error.js';
import type { Logger } from '../log.js';
import { addressKey, clientAddress } from '../net/address.js';
import { InviteStore } from '../store/invites.js';
import type { GuessLimits, RateLimit } from '../store/limits.js';
import type { RedisClient } from '../store/redis.js';
import { SettingsStore, type RegistrationMode } from '../store/settings.js';
import type { User, UserStore } from '../store/users.js';

export interface AuthRoutesDeps {
  config: Config;
  log: Logger;
  /** Where the live registration mode and invite links are (an admin changes them while Hearth runs). */
  redis: RedisClient;
  users: UserStore;
  hasher: PasswordHasher;
  accountSessions: AccountSessions;
  /** Sign-in guesses. */
  guesses: GuessLimits;
  /** New accounts per address: registration hashes a password too, so it cannot be used to burn CPU. */
  registrations: RateLimit;
}

const WRONG_CREDENTIALS = 'Wrong username or password.';
const REGISTRATION_CLOSED = 'Registration is closed on this Hearth.';
const INVITE_USED = 'This invitation has been used.';
const INVITE_INVALID = 'This invitation is not valid any more. Ask for a new one.';

const NEXT_BASE = 'https://hearth.invalid';

/**
 * safeNext — the same-origin path to return to after sign-in, or '/' for anything else
 * (absolute URLs, `//host`, `/\host`, control characters, and paths such as `/.//host` or
 * `/%2e%2e//host` that only become `//host` once dot segments are resolved).
 */
export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 2048 || !raw.startsWith('/')) return '/';
  // Browsers read "\" as "/" and drop tabs and newlines: none belong in a path Hearth links to.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return '/';
  const path = sameOriginPath(raw);
  // Judge the result, not the input: normalising may have produced "//host", and the result
  // must read the same when the browser parses it again from the Location header.
  if (path === null || path.startsWith('//') || path.startsWith('/\\') || sameOriginPath(path) !== path) return '/';
  return path;
}

/** sameOriginPath — `raw` resolved against our origin as a browser would, or null if it leaves it. */
function sameOriginPath(raw: string): string | null {
  try {
    const url = new URL(raw, NEXT_BASE);
    if (url.origin !== NEXT_BASE) return null;
    return url.pathname + url.search + url.hash;
  } catch {
    return null;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  if (seconds < 90 * 60) return `${Math.ceil(seconds / 60)} minutes`;
  return `${Math.ceil(seconds / 3600)} hours`;
}

/** signIn — a fresh session id for the signed-in user (defeats session fixation), listed among their devices. */
export async function signIn(req: Request, user: User, accountSessions: AccountSessions): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.userId = user.id;
  req.session.signedInAt = Date.now();
  const save = () => new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  // Saved before it is listed: listing prunes sessions that do not exist (yet).
  await save();
  await accountSessions.signedIn(req, user.id);
  await save();
}

/** authRoutes — /login, /register and /logout. */
export function authRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  const throttle = new LoginThrottle(deps.guesses);
  const { registrations } = deps;
  const settings = new SettingsStore(deps.redis, { registration: deps.config.registration });
  const invites = new InviteStore(deps.redis);

  const renderLogin = async (res: Response, status: number, locals: { error?: string | null; username?: string; next: string; notice?: string | null; noticeKind?: 'success' | 'info' }) => {
    const registration = await settings.registration();
    res.status(status).render('login', {
      title: 'Sign in',
      error: locals.error ?? null,
      notice: locals.notice ?? null,
      noticeKind: locals.noticeKind ?? 'info',
      values: { username: locals.username ?? '' },
      next: locals.next === '/' ? '' : locals.next,
      registrationOpen: registration === 'open',
      registration,
    });
  };

  router.get('/login', async (req, res) => {
    const next = safeNext(req.query.next);
    if (res.locals.user) return res.redirect(303, next);
    const signedOut = req.query.signedOut === '1';
    const deleted = req.query.deleted === '1';
    const notice = signedOut ? 'You have signed out.' : deleted ? 'Your account is deleted.' : req.query.expired === '1' ? 'Your session has ended. Sign in again to continue.' : null;
    await renderLogin(res, 200, { next, notice, noticeKind: signedOut || deleted ? 'success' : 'info' });
  });

  // Two tabs that reach the sign-in page at once (a session that ended under both) each mint a
  // token and only the last cookie stands: the other tab's form is then shown again, with a
  // token that matches, instead of an error page. Nothing is signed in on a stale form.
  const loginCsrf: RequestHandler = (req, res, next) => csrfProtection(req, res, (err?: unknown) => {
    if (!isCsrfError(err)) return next(err);
    renderLogin(res, 403, {
      error: 'This sign-in form had expired. Enter your password again.',
      username: str(req.body?.username).trim().toLowerCase().slice(0, 64),
      next: safeNext(req.query.next ?? req.body?.next),
    }).catch(next);
  });

  router.post('/login', loginCsrf, async (req, res) => {
    const next = safeNext(req.query.next ?? req.body?.next);
    const username = str(req.body?.username).trim().toLowerCase().slice(0, 64);
    const password = str(req.body?.password);
    if (!username || !password) return renderLogin(res, 400, { error: 'Enter your username and password.', username, next });

    const user = await deps.users.findByUsername(username);
    // The guess is counted before the hash is checked (see LoginThrottle.check); a full hash
    // queue throws PasswordBusyError (503) for known and unknown usernames alike.
    const attempt = await throttle.check(username, clientAddress(req),
      () => deps.hasher.verify(user?.passwordHash ?? null, password.slice(0, 1024)));
    if (attempt.wait > 0) {
      res.set('Retry-After', String(attempt.wait));
      return renderLogin(res, 429, { error: `Too many failed attempts. Try again in ${describeWait(attempt.wait)}.`, username, next });
    }
    if (!attempt.ok || !user) {
      deps.log.info({ username, address: addressKey(clientAddress(req)) }, 'sign-in failed');
      return renderLogin(res, 401, { error: WRONG_CREDENTIALS, username, next });
    }
    // Said only to someone who knows the password, so it tells a guesser nothing.
    if (user.disabled) return renderLogin(res, 403, { error: 'This account is disabled.', username, next });
    if (deps.hasher.needsRehash(user.passwordHash)) {
      // Parameters were raised since this hash was made: upgrade it while we know the password.
      await deps.users.setPasswordHash(user.id, await deps.hasher.hash(password));
    }
    await signIn(req, user, deps.accountSessions);
    deps.log.info({ userId: user.id }, 'signed in');
    res.redirect(303, next);
  });

  /**
   * registrationGate — whether this visitor may see and send the registration form: registration
   * is open, or they carry a live invite link (which opens it whatever the mode). `invite` is the
   * token from the link (query) or the form's hidden field; '' when there is none.
   */
  const registrationGate = async (invite: string): Promise<{ ok: true; registration: RegistrationMode } | { ok: false; status: number; refusal: string; registration: RegistrationMode }> => {
    const registration = await settings.registration();
    if (invite) {
      const state = await invites.state(invite);
      if (state === 'valid') return { ok: true, registration };
      return { ok: false, status: 410, refusal: state === 'used' ? INVITE_USED : INVITE_INVALID, registration };
    }
    if (registration === 'open') return { ok: true, registration };
    return { ok: false, status: 403, refusal: REGISTRATION_CLOSED, registration };
  };
  // A token is 22 base64url characters; anything else is not one (and is not echoed back).
  const inviteParam = (raw: unknown): string => str(raw).slice(0, 64);

  router.get('/register', async (req, res) => {
    if (res.locals.user) return res.redirect(303, '/');
    const invite = inviteParam(req.query.invite);
    const gate = await registrationGate(invite);
    res.status(gate.ok ? 200 : gate.status).render('register', {
      title: 'Create account', errors: {}, values: { username: '', displayName: '' },
      registrationOpen: gate.ok, refusal: gate.ok ? null : gate.refusal, registration: gate.registration, invite: gate.ok ? invite : '',
    });
  });

  router.post('/register', csrfProtection, async (req, res) => {
    const values = { username: str(req.body?.username).trim(), displayName: str(req.body?.displayName) };
    const password = str(req.body?.password);
    const invite = inviteParam(req.body?.invite);
    const gate = await registrationGate(invite);
    const render = (status: number, errors: RegistrationErrors & { form?: string }, refusal: string | null = null) =>
      res.status(status).render('register', {
        title: 'Create account', errors, values: { username: values.username.slice(0, 64), displayName: values.displayName.slice(0, 96) },
        registrationOpen: refusal === null, refusal, registration: gate.registration, invite: refusal === null ? invite : '',
      });
    if (!gate.ok) return render(gate.status, {}, gate.refusal);

    const errors = validateRegistration({ ...values, password });
    if (Object.keys(errors).length > 0) return render(400, errors);
    const address = addressKey(clientAddress(req));
    const waitMs = await registrations.take(address);
    if (waitMs > 0) {
      const wait = Math.ceil(waitMs / 1000);
      res.set('Retry-After', String(wait));
      return render(429, { form: `Too many new accounts from this device. Try again in ${describeWait(wait)}.` });
    }
    let passwordHash: string;
    try {
      passwordHash = await deps.hasher.hash(password);
    } catch (err) {
      // Busy (503): nothing was created, so this does not count against the address.
      if (err instanceof PasswordBusyError) await registrations.giveBack(address);
      throw err;
    }
    // The use is taken only now, atomically: of two people racing for the last use, one gets it.
    const taken = invite ? await invites.consume(invite) : null;
    if (taken === 'used' || taken === 'unknown') return render(410, {}, taken === 'used' ? INVITE_USED : INVITE_INVALID);
    const user = await deps.users.create({
      username: values.username.toLowerCase(),
      displayName: normalizeDisplayName(values.displayName)!,
      passwordHash,
    });
    if (!user) {
      if (taken) await invites.giveBack(taken);
      return render(409, { username: 'That username is taken. Choose another.' });
    }
    await signIn(req, user, deps.accountSessions);
    deps.log.info({ userId: user.id, isAdmin: user.isAdmin, invited: taken !== null }, 'account created');
    res.redirect(303, '/');
  });

  router.post('/logout', csrfProtection, (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
      res.redirect(303, '/login?signedOut=1');
    });
  });

  return router;
}

/** asHttpError — maps hashing overload to a friendly 503. */
export function passwordBusyToHttp(err: unknown): HttpError | null {
  return err instanceof PasswordBusyError ? new HttpError(503, 'Busy', err.message, 5) : null;
}
