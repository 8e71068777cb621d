// The Account page (/account): display name, password, signed-in devices, delete account.
import { Router, type Request, type Response } from 'express';
import { normalizeDisplayName, validateRegistration } from '../../shared/accounts.js';
import { csrfProtection } from '../auth/csrf.js';
import { absoluteTime, deviceName, timeAgo } from '../auth/device-name.js';
import { SESSION_COOKIE } from '../auth/session.js';
import { LoginThrottle } from '../auth/throttle.js';
import { notFound } from '../http-error.js';
import { clientAddress } from '../net/address.js';
import type { Services } from '../services.js';
import { forgetUserLimits } from '../store/limits.js';
import { PasswordResetStore } from '../store/password-resets.js';
import type { User } from '../store/users.js';
import { signIn } from './auth.js';

/** What the page says after a change went through (?done=…, Post/Redirect/Get), and in which panel. */
const NOTICES = {
  name: { panel: 'name', text: 'Your display name is saved.' },
  password: { panel: 'password', text: 'Your password is changed. Your other devices were signed out.' },
  device: { panel: 'devices', text: 'That device is signed out.' },
  others: { panel: 'devices', text: 'Your other devices are signed out.' },
} as const;

/** AccountForms — what each form on the page got wrong, and what to show in it again. */
interface AccountForms {
  name?: { value?: string; error?: string };
  password?: { form?: string; current?: string; new?: string };
  remove?: { form?: string; password?: string };
}

/** DeviceRow — a signed-in device as the page's table shows it. */
interface DeviceRow {
  deviceId: string;
  browser: string;
  address: string;
  signedIn: string;
  signedInIso: string;
  lastSeen: string;
  lastSeenIso: string;
  current: boolean;
  /** The row's Sign out button's accessible name, unique on the page. */
  signOutLabel: string;
}

const DEVICE_ID = /^[A-Za-z0-9_-]{16}$/;
const PASSWORD_MAX = 1024;
/** How long deleting an account waits for its open tabs to close everywhere before erasing what they leave. */
const TABS_GONE_MS = 5_000;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

// Registration's rules, one field at a time (the other fields get values that pass).
const displayNameError = (displayName: string) => validateRegistration({ username: 'someone', displayName, password: 'long enough' }).displayName ?? null;
const newPasswordError = (password: string) => validateRegistration({ username: 'someone', displayName: 'Someone', password }).password ?? null;

const waitWords = (seconds: number) => (seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`);

/** deviceRows — the table's rows; two devices that read alike get a number so every button's name differs. */
function deviceRows(devices: Awaited<ReturnType<Services['accountSessions']['list']>>, now = Date.now()): DeviceRow[] {
  const seen = new Map<string, number>();
  return devices.map((d) => {
    const browser = deviceName(d.userAgent);
    const signedIn = absoluteTime(d.signedInAt);
    const base = `Sign out ${browser} (${d.address}), signed in ${signedIn}`;
    // This device has no Sign out button of its own (the header's is), so it takes no number.
    const n = d.current ? 1 : (seen.get(base) ?? 0) + 1;
    if (!d.current) seen.set(base, n);
    return {
      deviceId: d.deviceId, browser, address: d.address, current: d.current,
      signedIn, signedInIso: new Date(d.signedInAt).toISOString(),
      lastSeen: timeAgo(d.lastSeenAt, now), lastSeenIso: new Date(d.lastSeenAt).toISOString(),
      signOutLabel: n === 1 ? base : `${base} (${n})`,
    };
  });
}

/** accountRoutes — /account… (signed-in users only; the caller enforces that). */
export function accountRoutes(s: Services): Router {
  const router = Router();
  // Password checks here count as sign-in guesses (same limits, keyed by account id and
  // address), so these forms cannot guess a password faster than the sign-in page.
  const throttle = new LoginThrottle(s.rateLimits.login);

  async function render(req: Request, res: Response, status: number, forms: AccountForms = {}) {
    const user = res.locals.user!;
    const done = str(req.query.done);
    const notice = status === 200 && Object.hasOwn(NOTICES, done) ? NOTICES[done as keyof typeof NOTICES] : null;
    // This device first, then the others, most recently used first.
    const listed = await s.accountSessions.list(user.id, req.sessionID);
    const devices = deviceRows([...listed.filter((d) => d.current), ...listed.filter((d) => !d.current)]);
    res.status(status).render('account', { title: 'Account', notice, forms, devices, others: devices.filter((d) => !d.current).length });
  }

  /** checkPassword — the account's password, counted as a guess; null when right, else the status and what to say. */
  async function checkPassword(req: Request, res: Response, user: User, password: string): Promise<{ status: number; form?: string; field?: string } | null> {
    const stored = await s.users.findWithHash(user.id);
    const attempt = await throttle.check(user.id, clientAddress(req), () => s.hasher.verify(stored?.passwordHash ?? null, password.slice(0, PASSWORD_MAX)));
    if (attempt.wait > 0) {
      res.set('Retry-After', String(attempt.wait));
      return { status: 429, form: `Too many wrong passwords. Try again in ${waitWords(attempt.wait)}.` };
    }
    if (!attempt.ok) {
      s.log.info({ userId: user.id }, 'wrong password on the account page');
      return { status: 401, field: 'That is not your password.' };
    }
    return null;
  }

  router.get('/account', (req, res) => render(req, res, 200));

  router.post('/account/name', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    const typed = str(req.body?.displayName);
    const error = displayNameError(typed);
    if (error) return render(req, res, 400, { name: { value: typed.slice(0, 96), error } });
    await s.users.setDisplayName(user.id, normalizeDisplayName(typed)!);
    s.log.info({ userId: user.id }, 'display name changed');
    res.redirect(303, '/account?done=name');
  });

  router.post('/account/password', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    const current = str(req.body?.currentPassword);
    const next = str(req.body?.newPassword);
    const errors = { current: current ? undefined : 'Enter your current password.', new: newPasswordError(next) ?? undefined };
    if (errors.current || errors.new) return render(req, res, 400, { password: { form: 'Your password was not changed.', ...errors } });
    const wrong = await checkPassword(req, res, user, current);
    if (wrong) return render(req, res, wrong.status, { password: { form: wrong.form ?? 'Your password was not changed.', current: wrong.field } });

    await s.users.setPasswordHash(user.id, await s.hasher.hash(next));
    // Everyone who knew the old password is out: every other session ends, sockets included.
    await s.accountSessions.endAll(user.id, { exceptSid: req.sessionID });
    // And this one carries on under a fresh id (whoever may have learned the old one is out too).
    const oldDevice = req.session.deviceId;
    await signIn(req, user, s.accountSessions);
    if (oldDevice) await s.accountSessions.endDevice(user.id, oldDevice);
    s.log.info({ userId: user.id }, 'password changed; other sessions ended');
    res.redirect(303, '/account?done=password');
  });

  router.post('/account/devices/:deviceId/sign-out', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    const deviceId = String(req.params.deviceId ?? '');
    // Another account's device, or none: the same answer, which tells nothing.
    const sid = DEVICE_ID.test(deviceId) ? await s.accountSessions.sessionIdOf(user.id, deviceId) : null;
    if (!sid) throw notFound('That device');
    await s.accountSessions.endDevice(user.id, deviceId);
    if (sid !== req.sessionID) return res.redirect(303, '/account?done=device');
    // This very device: the same as Sign out.
    await endThisSession(req, res);
    res.redirect(303, '/login?signedOut=1');
  });

  router.post('/account/sign-out-others', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    await s.accountSessions.endAll(user.id, { exceptSid: req.sessionID });
    res.redirect(303, '/account?done=others');
  });

  router.post('/account/delete', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    const password = str(req.body?.password);
    const failed = 'Your account was not deleted.';
    if (!password) return render(req, res, 400, { remove: { form: failed, password: 'Enter your password.' } });
    const wrong = await checkPassword(req, res, user, password);
    if (wrong) return render(req, res, wrong.status, { remove: { form: wrong.form ?? failed, password: wrong.field } });

    // The account goes first (atomically refused for the only enabled admin), so nothing below
    // races a new sign-in, a new socket or a ring to it.
    const removed = await s.users.remove(user.id);
    if (removed === 'last-admin') return render(req, res, 409, { remove: { form: 'You are the only admin. Make someone else admin first.' } });
    await endThisSession(req, res);
    await eraseAccount(s, user);
    s.log.info({ userId: user.id }, 'account deleted');
    res.redirect(303, '/login?deleted=1');
  });

  return router;
}

/** endThisSession — destroys the request's own session (so nothing saves it again) and its cookie. */
async function endThisSession(req: Request, res: Response): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
  res.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
}

/**
 * eraseAccount — everything a deleted account leaves in Redis but its chat lines, which stay
 * as "Deleted user": rings end (both sides hear it), every session and socket ends on every
 * instance, then — once its tabs have closed, so none writes again — its rooms, private calls,
 * invitations, missed calls, Do not disturb, password reset link, shared files and rate-limit counts go.
 */
async function eraseAccount(s: Services, user: User): Promise<void> {
  for (const { call, state } of await s.calls.endRingsOf(user.id)) {
    const msg = { type: 'ring-update', callId: call.callId, state } as const;
    if (call.callerId === user.id) await s.hub.toUser(call.calleeId, { ...msg, peer: { userId: call.callerId, displayName: call.callerName } });
    else await s.hub.toPeer(call.callerPeerId, { ...msg, peer: { userId: call.calleeId, displayName: call.calleeName } });
  }
  await s.accountSessions.endAll(user.id);
  await s.accountSessions.forget(user.id);
  for (const end = Date.now() + TABS_GONE_MS; Date.now() < end;) {
    if (!(await s.rooms.online()).some((p) => p.userId === user.id)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const room of await s.rooms.listByOwner(user.id)) {
    if ((await s.rooms.remove(room.slug, user.id)) === 'ok') await s.hub.roomClosed(room.slug);
  }
  for (const slug of await s.rooms.forgetUser(user.id)) await s.hub.roomClosed(slug);
  await s.calls.forgetUser(user.id);
  await new PasswordResetStore(s.redis).forget(user.id);
  await s.chat.forgetUser(user.id);
  await s.shares.forgetUser(user.id);
  await forgetUserLimits(s.redis, user);
  await s.hub.lobbyChanged();
}
