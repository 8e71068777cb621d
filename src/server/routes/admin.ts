// The Admin page (/admin): registration and invitations, people, rooms, the action log. Plain POST forms, Post/Redirect/Get.
import { Router, type Request, type Response } from 'express';
import * as v from 'valibot';
import { SlugSchema } from '../../shared/protocol.js';
import { csrfProtection } from '../auth/csrf.js';
import { absoluteTime, timeAgo } from '../auth/device-name.js';
import { notFound } from '../http-error.js';
import type { Services } from '../services.js';
import { ADMIN_LOG_MAX, AdminLog, personLabel, type AdminAction } from '../store/admin-log.js';
import { INVITE_EXPIRIES, InviteStore, MAX_INVITE_USES, MAX_LIVE_INVITES, type InviteExpiry } from '../store/invites.js';
import { PasswordResetStore } from '../store/password-resets.js';
import { REGISTRATION_MODES, SettingsStore, type RegistrationMode } from '../store/settings.js';
import type { RoleChange, User } from '../store/users.js';

declare module 'express-session' {
  interface SessionData {
    /**
     * adminNotice — what the last admin action did, shown once by the next GET /admin. A link to
     * hand over (invite, password reset) rides here because only its hash is stored anywhere else.
     */
    adminNotice?: AdminNotice;
  }
}

interface AdminNotice {
  text: string;
  /** Which panel the notice belongs to (the page shows it there). */
  section: Section;
  link?: { url: string; label: string };
  /** The invite the link is for: its row in the table shows the link too. */
  inviteId?: string;
}

type Section = 'registration' | 'invites' | 'people' | 'rooms';

/** LOG_SHOWN — log entries the page shows (Redis keeps ADMIN_LOG_MAX). */
const LOG_SHOWN = 100;

const REGISTRATION_LABELS: Record<RegistrationMode, string> = { open: 'Open', closed: 'Closed', invite: 'Invite only' };

const EXPIRY_LABELS: Record<InviteExpiry, string> = { '1h': '1 hour', '1d': '1 day', '7d': '7 days', '30d': '30 days' };

const LAST_ADMIN = 'Hearth needs at least one admin.';

const str = (x: unknown): string => (typeof x === 'string' ? x : '');
const ID_PATTERN = /^[0-9a-f-]{36}$/;

/** inTime — "in 5 minutes", "in 3 hours", "in 2 days" (an invite's expiry). */
function inTime(ts: number, now = Date.now()): string {
  const left = Math.max(0, ts - now);
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute']];
  for (const [ms, unit] of units) {
    if (left >= ms) {
      const n = Math.floor(left / ms);
      return `in ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return 'in less than a minute';
}

/** PersonAction — what a per-person button does, and how the page and the log say it. */
interface PersonAction {
  change: RoleChange;
  logged: AdminAction;
  done: (name: string) => string;
  /** Refused on one's own account (another admin may do it). */
  notOnSelf?: string;
}

const PERSON_ACTIONS: Record<string, PersonAction> = {
  disable: {
    change: 'disable', logged: 'disabled', done: (n) => `Disabled ${n}. They were signed out everywhere.`,
    notOnSelf: 'You cannot disable your own account. Another admin can.',
  },
  enable: { change: 'enable', logged: 'enabled', done: (n) => `Enabled ${n}. They can sign in again.` },
  'make-admin': { change: 'admin', logged: 'made-admin', done: (n) => `${n} is now an admin.` },
  'remove-admin': {
    change: 'demote', logged: 'removed-admin', done: (n) => `${n} is no longer an admin.`,
    notOnSelf: 'You cannot remove your own admin role. Another admin can.',
  },
};

/** adminRoutes — /admin… (admins only; the caller enforces that with requireAdmin). */
export function adminRoutes(s: Services): Router {
  const router = Router();
  const settings = new SettingsStore(s.redis, { registration: s.config.registration });
  const invites = new InviteStore(s.redis);
  const resets = new PasswordResetStore(s.redis);
  const adminLog = new AdminLog(s.redis);

  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const actor = (res: Response) => personLabel(res.locals.user!);

  /** renderPage — the whole page; `refusal` (role=alert) explains a refused action in `section`. */
  async function renderPage(req: Request, res: Response, status = 200, refusal: { text: string; section: Section } | null = null) {
    const me = res.locals.user!;
    const [registration, inviteList, people, roomList, log, logSize] = await Promise.all([
      settings.registration(), invites.list(), s.users.list(), s.rooms.listAll(), adminLog.latest(LOG_SHOWN), adminLog.size(),
    ]);
    const names = new Map(people.map((u) => [u.id, u]));
    const counts = await Promise.all(roomList.map((r) => s.rooms.memberCount(r.slug)));
    const notice = req.session.adminNotice ?? null;
    if (notice) delete req.session.adminNotice;
    const now = Date.now();
    res.status(status).render('admin', {
      title: 'Admin',
      scripts: s.assets.islands.admin ? [s.assets.islands.admin] : [],
      notice,
      refusal,
      registration,
      registrationStart: s.config.registration,
      modes: REGISTRATION_MODES.map((m) => ({ value: m, label: REGISTRATION_LABELS[m] })),
      expiries: Object.entries(EXPIRY_LABELS).map(([value, label]) => ({ value, label })),
      maxUses: MAX_INVITE_USES,
      maxInvites: MAX_LIVE_INVITES,
      invites: inviteList.map((i) => ({
        ...i, expires: absoluteTime(i.expiresAt), expiresIn: inTime(i.expiresAt, now),
        link: notice?.inviteId === i.id ? notice.link?.url ?? null : null,
      })),
      people: people.map((u) => ({
        ...u, self: u.id === me.id, label: personLabel(u),
        created: absoluteTime(u.createdAt), lastSeen: u.lastSeenAt ? timeAgo(u.lastSeenAt, now) : 'Never',
      })),
      enabledAdmins: people.filter((u) => u.isAdmin && !u.disabled).length,
      rooms: roomList.map((r, i) => {
        const owner = names.get(r.ownerId);
        return { ...r, owner: owner ? owner.displayName : 'Deleted user', count: counts[i] ?? 0, lastUsed: timeAgo(r.lastUsedAt, now) };
      }),
      log: log.map((e) => ({ ...e, when: absoluteTime(e.at) })),
      logSize,
      logShown: LOG_SHOWN,
      logMax: ADMIN_LOG_MAX,
    });
  }

  /** done — Post/Redirect/Get: the notice is shown once by the page the browser is sent to. */
  const done = (req: Request, res: Response, notice: AdminNotice) => {
    req.session.adminNotice = notice;
    res.redirect(303, `/admin#${notice.section}`);
  };

  router.get('/', async (req, res) => {
    await renderPage(req, res);
  });

  // ---- registration and invitations ----------------------------------------------------

  router.post('/registration', csrfProtection, async (req, res) => {
    const before = await settings.registration();
    const mode = str(req.body?.mode);
    if (!(await settings.setRegistration(mode))) {
      return renderPage(req, res, 400, { text: 'Choose Open, Closed or Invite only.', section: 'registration' });
    }
    const label = REGISTRATION_LABELS[mode as RegistrationMode];
    if (mode !== before) await adminLog.append({ actor: actor(res), action: 'registration-changed', target: label });
    done(req, res, { text: `Registration is now: ${label}.`, section: 'registration' });
  });

  router.post('/invites', csrfProtection, async (req, res) => {
    const usesRaw = str(req.body?.uses).trim();
    const expiry = str(req.body?.expiry);
    const uses = Number(usesRaw);
    if (!/^\d{1,3}$/.test(usesRaw) || uses < 1 || uses > MAX_INVITE_USES) {
      return renderPage(req, res, 400, { text: `Choose from 1 to ${MAX_INVITE_USES} uses.`, section: 'invites' });
    }
    if (!Object.hasOwn(INVITE_EXPIRIES, expiry)) {
      return renderPage(req, res, 400, { text: 'Choose how long the link works: 1 hour, 1 day, 7 days or 30 days.', section: 'invites' });
    }
    const made = await invites.create({ uses, expiry: expiry as InviteExpiry, createdBy: actor(res) });
    if (!made) {
      return renderPage(req, res, 409, { text: `There are already ${MAX_LIVE_INVITES} live invite links. Revoke some before making more.`, section: 'invites' });
    }
    const what = `${uses === 1 ? 'single use' : `${uses} uses`}, valid ${EXPIRY_LABELS[expiry as InviteExpiry]}`;
    await adminLog.append({ actor: actor(res), action: 'invite-created', target: what });
    done(req, res, {
      text: `Invite link created (${what}). Copy it now and hand it over: Hearth keeps only a fingerprint of it and cannot show it again.`,
      section: 'invites',
      link: { url: `${origin(req)}/register?invite=${made.token}`, label: 'New invite link' },
      inviteId: made.id,
    });
  });

  router.post('/invites/:id/revoke', csrfProtection, async (req: Request<{ id: string }>, res) => {
    const invite = await invites.get(req.params.id);
    if (!invite || !(await invites.revoke(invite.id))) {
      return renderPage(req, res, 404, { text: 'That invite link does not exist any more (used up, expired or revoked).', section: 'invites' });
    }
    await adminLog.append({ actor: actor(res), action: 'invite-revoked', target: `an invite link made by ${invite.createdBy}` });
    done(req, res, { text: 'Invite link revoked. It no longer works.', section: 'invites' });
  });

  // ---- people --------------------------------------------------------------------------

  /** person — the account a per-person form names, or a 404 page. */
  const person = async (id: string): Promise<User> => {
    const user = ID_PATTERN.test(id) ? await s.users.findById(id) : null;
    if (!user) throw notFound('This account');
    return user;
  };

  router.post('/people/:id/reset-password', csrfProtection, async (req: Request<{ id: string }>, res) => {
    const user = await person(req.params.id);
    const label = personLabel(user);
    if (user.disabled) {
      return renderPage(req, res, 409, { text: `${label} is disabled: enable the account first, or the link would not let them in.`, section: 'people' });
    }
    const token = await resets.create(user.id);
    await adminLog.append({ actor: actor(res), action: 'reset-link-created', target: label });
    done(req, res, {
      text: `Password reset link for ${label} created. Hand it over now: it works once, for 24 hours, and is not shown again. Using it signs them out everywhere.`,
      section: 'people',
      link: { url: `${origin(req)}/reset/${token}`, label: `Reset link for ${label}` },
    });
  });

  router.post('/people/:id/:action', csrfProtection, async (req: Request<{ id: string; action: string }>, res) => {
    const action = Object.hasOwn(PERSON_ACTIONS, req.params.action) ? PERSON_ACTIONS[req.params.action]! : null;
    if (!action) throw notFound();
    const user = await person(req.params.id);
    const label = personLabel(user);
    if (action.notOnSelf && user.id === res.locals.user!.id) return renderPage(req, res, 409, { text: action.notOnSelf, section: 'people' });
    const result = await s.users.setRole(user.id, action.change);
    if (result === 'not-found') throw notFound('This account');
    if (result === 'last-admin') return renderPage(req, res, 409, { text: LAST_ADMIN, section: 'people' });
    // Disabled: every session and socket of theirs ends now, on every instance.
    if (action.change === 'disable') await s.accountSessions.endAll(user.id);
    await adminLog.append({ actor: actor(res), action: action.logged, target: label });
    done(req, res, { text: action.done(label), section: 'people' });
  });

  // ---- rooms ---------------------------------------------------------------------------

  router.post('/rooms/:slug/delete', csrfProtection, async (req: Request<{ slug: string }>, res) => {
    const slug = v.is(SlugSchema, req.params.slug) ? req.params.slug : null;
    const room = slug ? await s.rooms.get(slug) : null;
    if (!room || (await s.rooms.remove(room.slug, res.locals.user!.id, { asAdmin: true })) !== 'ok') {
      return renderPage(req, res, 404, { text: 'That room does not exist any more.', section: 'rooms' });
    }
    // Its members are freed at once, wherever they are connected.
    await s.hub.roomClosed(room.slug);
    await s.hub.lobbyChanged();
    const owner = await s.users.findById(room.ownerId);
    await adminLog.append({ actor: actor(res), action: 'room-deleted', target: `${room.name} (owned by ${owner ? personLabel(owner) : 'a deleted account'})` });
    done(req, res, { text: `Deleted the room ${room.name}.`, section: 'rooms' });
  });

  return router;
}
