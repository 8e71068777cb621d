// Room pages and forms: create, view, passcode, delete, chat, and moderation (remove, lock, settings) without JavaScript.
import { Router, type Request, type Response } from 'express';
import { codePointLength } from '../../shared/accounts.js';
import { hasUnsafeText } from '../../shared/text.js';
import { MAX_CHAT, SlugSchema, UserIdSchema } from '../../shared/protocol.js';
import { comeBackIn, minutesLeft } from '../../shared/moderation.js';
import * as v from 'valibot';
import type { Assets } from '../assets.js';
import { csrfProtection } from '../auth/csrf.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { canEnterRoom, grantRoomAccess } from '../auth/room-access.js';
import { LoginThrottle } from '../auth/throttle.js';
import { forbidden, HttpError, notFound } from '../http-error.js';
import { clientAddress } from '../net/address.js';
import type { SignalingHub } from '../signaling/hub.js';
import { mayModerate, Moderation, ModerationError } from '../signaling/moderation.js';
import type { CallStore } from '../store/calls.js';
import type { ChatStore } from '../store/chat.js';
import type { GuessLimits, RateLimit } from '../store/limits.js';
import type { Room, RoomSettings, RoomStore } from '../store/rooms.js';
import type { UserStore } from '../store/users.js';
import type { RoomShare } from '../room-share.js';
import { lobbyLocals, type NewRoomForm } from './pages.js';

export interface RoomRoutesDeps {
  assets: Assets;
  rooms: RoomStore;
  chat: ChatStore;
  hub: SignalingHub;
  hasher: PasswordHasher;
  users: UserStore;
  calls: CallStore;
  /** Passcode guesses, per (room, user) from one address and per address. */
  guesses: GuessLimits;
  /** New rooms per person. */
  creations: RateLimit;
  /** The capacity a new room gets when the form leaves it empty. */
  defaultCapacity: number;
  /** The room's URL for this visitor to hand on, and its QR code (the Share panel). */
  share: (req: Request, slug: string) => Promise<RoomShare>;
}

const ROOM_NAME_MAX = 64;
const CAPACITY_MIN = 2;
const CAPACITY_MAX = 12;
const PASSCODE_MAX = 128;

const str = (x: unknown): string => (typeof x === 'string' ? x : '');

/** SettingsForm — the Room settings form's errors and values, when it is shown again after a mistake. */
interface SettingsForm {
  errors: { capacity?: string; passcode?: string };
  values: { capacity: string };
}

/** validateSettings — the Room settings form: a capacity of 2–12, and a new passcode, its removal, or neither. */
function validateSettings(body: Record<string, unknown>): { ok: true; capacity: number; passcode: string | null | undefined } | { ok: false; form: SettingsForm } {
  const capRaw = str(body.capacity).trim();
  const passcode = str(body.passcode);
  const remove = str(body.removePasscode) === '1';
  const errors: SettingsForm['errors'] = {};
  const capacity = Number(capRaw);
  if (!/^\d+$/.test(capRaw) || capacity < CAPACITY_MIN || capacity > CAPACITY_MAX) errors.capacity = `Choose from ${CAPACITY_MIN} to ${CAPACITY_MAX} people.`;
  if (passcode.length > PASSCODE_MAX) errors.passcode = `Use at most ${PASSCODE_MAX} characters.`;
  else if (remove && passcode) errors.passcode = 'Enter a new passcode or remove it, not both.';
  if (Object.keys(errors).length > 0) return { ok: false, form: { errors, values: { capacity: capRaw.slice(0, 4) } } };
  // undefined keeps the passcode, null removes it.
  return { ok: true, capacity, passcode: remove ? null : passcode || undefined };
}

/** NOTICES — what the page says after a moderation form did its work (?done=…). */
const NOTICES: Record<string, string> = {
  removed: 'They were removed from this room.',
  locked: 'Room locked. Nobody new can join until you unlock it.',
  unlocked: 'Room unlocked. Anyone who may enter can join again.',
  saved: 'Room settings saved.',
};

/** RenderOptions — how renderRoom shows the page beyond the room's own state. */
interface RenderOptions {
  status?: number;
  passcodeError?: string | null;
  autoJoin?: boolean;
  settings?: SettingsForm;
  notice?: string | null;
}

/** validateNewRoom — the room form's values, or messages per field. */
function validateNewRoom(body: Record<string, unknown>, defaultCapacity: number): { ok: true; name: string; capacity: number; passcode: string } | { ok: false; form: NewRoomForm } {
  const typed = str(body.name).normalize('NFC');
  const name = typed.trim().replace(/\s+/g, ' ');
  const capRaw = str(body.capacity).trim() || String(defaultCapacity);
  const passcode = str(body.passcode);
  const errors: NewRoomForm['errors'] = {};
  if (codePointLength(name) < 1 || codePointLength(name) > ROOM_NAME_MAX) errors.name = `Give the room a name of 1–${ROOM_NAME_MAX} characters.`;
  // Judged as typed: tidying white space first would turn a line separator into a space.
  else if (hasUnsafeText(typed.trim())) errors.name = 'The name contains invisible or control characters; remove them.';
  const capacity = Number(capRaw);
  if (!/^\d+$/.test(capRaw) || capacity < CAPACITY_MIN || capacity > CAPACITY_MAX) errors.capacity = `Choose from ${CAPACITY_MIN} to ${CAPACITY_MAX} people.`;
  if (passcode.length > PASSCODE_MAX) errors.passcode = `Use at most ${PASSCODE_MAX} characters.`;
  if (Object.keys(errors).length > 0) return { ok: false, form: { errors, values: { name: name.slice(0, 200), capacity: capRaw.slice(0, 4), passcode: '' } } };
  return { ok: true, name, capacity, passcode };
}

/** roomRoutes — /rooms and /r/:slug… (signed-in users only; the caller enforces that). */
export function roomRoutes(deps: RoomRoutesDeps): Router {
  const router = Router();
  const { rooms } = deps;
  const moderation = new Moderation(deps);
  // Passcode guesses: 5 wrong per (room, user) from one address then a 15-minute pause; 100 per address per day.
  const passcodeThrottle = new LoginThrottle(deps.guesses);

  async function loadRoom(req: Request): Promise<Room> {
    const slug = String(req.params.slug ?? '');
    if (!v.is(SlugSchema, slug)) throw notFound('This room');
    const room = await rooms.get(slug);
    if (!room) throw notFound('This room');
    return room;
  }

  /**
   * renderRoom — the room as this person may see it. States, first match wins: 'banned' (removed
   * from it: when they may come back), 'locked' (a newcomer to a locked room), 'passcode',
   * 'full', 'ready' (pre-join, then the call).
   */
  async function renderRoom(req: Request, res: Response, room: Room, opts: RenderOptions = {}) {
    const user = res.locals.user!;
    const access = await canEnterRoom(rooms, room, user.id, req.session);
    if (access === 'not-invited') throw forbidden('This is a private call for the people who were invited.');
    const moderator = mayModerate(room, user);
    const [members, owner, history, bannedMs, admitted] = await Promise.all([
      rooms.members(room.slug), deps.users.findById(room.ownerId), deps.chat.history(room.slug), rooms.banRemaining(room.slug, user.id),
      room.locked && !moderator ? rooms.wasAdmitted(room.slug, user.id) : true,
    ]);
    const count = members.length;
    const state = bannedMs > 0 ? 'banned' : !admitted ? 'locked' : access === 'passcode' ? 'passcode' : count >= room.capacity ? 'full' : 'ready';
    const inside = state === 'full' || state === 'ready';
    res.status(opts.status ?? 200).render('room', {
      title: room.name,
      scripts: deps.assets.islands.room ? [deps.assets.islands.room] : [],
      room: {
        slug: room.slug, name: room.name, capacity: room.capacity, count, hasPasscode: room.passcodeHash !== null, locked: room.locked,
        ownerName: owner?.displayName ?? 'someone', isOwner: room.ownerId === user.id, isPrivate: room.invitedOnly,
      },
      members: inside ? members.map((m) => ({ userId: m.userId, displayName: m.displayName })) : [],
      chat: inside ? history : [],
      state,
      // The owner and admins get the Remove from room buttons and the Room settings panel.
      moderator: moderator && inside,
      settings: opts.settings ?? { errors: {}, values: { capacity: String(room.capacity) } },
      notice: opts.notice ?? null,
      comeBack: bannedMs > 0 ? comeBackIn(minutesLeft(bannedMs)) : null,
      bannedSeconds: Math.ceil(bannedMs / 1000),
      passcodeError: opts.passcodeError ?? null,
      autoJoin: (opts.autoJoin ?? false) && state === 'ready',
      // A private call's link is no use to anyone else.
      share: inside && !room.invitedOnly ? await deps.share(req, room.slug) : null,
    });
  }

  /** moderated — runs a moderation from a form; a refusal becomes the page it deserves. */
  async function moderated<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof ModerationError) throw err.status === 404 ? new HttpError(404, 'Not found', err.message) : forbidden(err.message);
      throw err;
    }
  }

  router.post('/rooms', csrfProtection, async (req, res) => {
    const user = res.locals.user!;
    const input = validateNewRoom(req.body ?? {}, deps.defaultCapacity);
    if (!input.ok) return res.status(400).render('lobby', await lobbyLocals(rooms, deps.assets, user.id, input.form));
    if ((await deps.creations.take(user.id)) > 0) {
      const form: NewRoomForm = { errors: { form: 'You have created many rooms recently. Try again later.' }, values: { name: input.name, capacity: input.capacity, passcode: '' } };
      return res.status(429).render('lobby', await lobbyLocals(rooms, deps.assets, user.id, form));
    }
    const passcodeHash = input.passcode ? await deps.hasher.hash(input.passcode) : null;
    const room = await rooms.create({ name: input.name, ownerId: user.id, capacity: input.capacity, passcodeHash });
    res.redirect(303, `/r/${room.slug}`);
  });

  router.get('/r/:slug', async (req, res) => {
    const room = await loadRoom(req);
    // ?join=<token>: arriving from an accepted ring takes the seat at once (camera on). Only a
    // one-time token from that ring may do this; a plain link never turns on anyone's camera.
    const token = typeof req.query.join === 'string' ? req.query.join : null;
    const autoJoin = token !== null && (await deps.calls.takeJoin(token, res.locals.user!.id, room.slug));
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] ?? null : null;
    await renderRoom(req, res, room, { autoJoin, notice: done });
  });

  router.post('/r/:slug/passcode', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const user = res.locals.user!;
    if (!room.passcodeHash) return res.redirect(303, `/r/${room.slug}`);
    const key = `${room.slug}|${user.id}`;
    const passcodeHash = room.passcodeHash;
    const tooMany = (wait: number) => {
      res.set('Retry-After', String(wait));
      return renderRoom(req, res, room, { status: 429, passcodeError: `Too many wrong passcodes. Try again in ${Math.ceil(wait / 60)} minutes.` });
    };
    // Counted before it is checked, per (room, user) and per address (IPv6 by /64).
    const attempt = await passcodeThrottle.check(key, clientAddress(req),
      () => deps.hasher.verify(passcodeHash, str(req.body?.passcode).slice(0, PASSCODE_MAX)));
    if (attempt.wait > 0) return tooMany(attempt.wait);
    if (!attempt.ok) return renderRoom(req, res, room, { status: 401, passcodeError: 'Wrong passcode.' });
    grantRoomAccess(req.session, room);
    res.redirect(303, `/r/${room.slug}`);
  });

  router.post('/r/:slug/delete', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const result = await rooms.remove(room.slug, res.locals.user!.id);
    if (result === 'forbidden') throw forbidden('Only the person who created this room can delete it.');
    if (result === 'not-found') throw notFound('This room');
    await deps.hub.roomClosed(room.slug);
    await deps.hub.lobbyChanged();
    res.redirect(303, '/');
  });

  // Moderation for the room's owner and admins. With JavaScript the call does Remove and Lock
  // over the socket instead; these forms are the same actions for a page without it.
  router.post('/r/:slug/remove', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const userId = str(req.body?.userId);
    if (!v.is(UserIdSchema, userId)) throw new HttpError(400, 'Nobody removed', 'That is not a person in this room.');
    await moderated(moderation.remove(room.slug, res.locals.user!.id, userId));
    res.redirect(303, `/r/${room.slug}?done=removed`);
  });

  router.post('/r/:slug/lock', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const locked = str(req.body?.locked);
    if (locked !== '1' && locked !== '0') throw new HttpError(400, 'Nothing changed', 'Lock or unlock the room with its button.');
    await moderated(moderation.setLocked(room.slug, res.locals.user!.id, locked === '1'));
    res.redirect(303, `/r/${room.slug}?done=${locked === '1' ? 'locked' : 'unlocked'}`);
  });

  router.post('/r/:slug/settings', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const user = res.locals.user!;
    // Refused before anything is read from the form (or hashed).
    await moderated(moderation.authorize(room.slug, user.id));
    const input = validateSettings(req.body ?? {});
    if (!input.ok) return renderRoom(req, res, room, { status: 400, settings: input.form });
    const settings: RoomSettings = { capacity: input.capacity };
    if (input.passcode !== undefined) settings.passcodeHash = input.passcode === null ? null : await deps.hasher.hash(input.passcode);
    const updated = await moderated(moderation.updateSettings(room.slug, user.id, settings));
    // Whoever set a new passcode knows it: an admin who is not the owner stays in too.
    if (typeof input.passcode === 'string') grantRoomAccess(req.session, updated);
    res.redirect(303, `/r/${room.slug}?done=saved`);
  });

  // Chat for browsers without JavaScript; the island sends over the WebSocket instead.
  router.post('/r/:slug/chat', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const user = res.locals.user!;
    if ((await canEnterRoom(rooms, room, user.id, req.session)) !== 'ok') throw forbidden('Enter this room before chatting in it.');
    if ((await rooms.banRemaining(room.slug, user.id)) > 0) throw forbidden('You were removed from this room, so you cannot chat in it now.');
    const text = str(req.body?.text).trim();
    if (!text || text.length > MAX_CHAT) throw new HttpError(400, 'Message not sent', `A message has 1–${MAX_CHAT} characters.`);
    if (!(await deps.chat.allow(user.id))) throw new HttpError(429, 'Slow down', 'You are sending messages too fast; wait a few seconds and try again.', 10);
    const message = await deps.chat.append(room.slug, { userId: user.id, displayName: user.displayName, text });
    await deps.hub.toRoom(room.slug, { type: 'chat', room: room.slug, message });
    res.redirect(303, `/r/${room.slug}#chat`);
  });

  return router;
}
