// Room pages and forms: create, view, passcode, delete, and chat without JavaScript.
import { Router, type Request, type Response } from 'express';
import { codePointLength } from '../../shared/accounts.js';
import { hasUnsafeText } from '../../shared/text.js';
import { MAX_CHAT, SlugSchema } from '../../shared/protocol.js';
import * as v from 'valibot';
import type { Assets } from '../assets.js';
import { csrfProtection } from '../auth/csrf.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { canEnterRoom, grantRoomAccess } from '../auth/room-access.js';
import { LoginThrottle } from '../auth/throttle.js';
import { forbidden, HttpError, notFound } from '../http-error.js';
import type { SignalingHub } from '../signaling/hub.js';
import type { CallStore } from '../store/calls.js';
import type { ChatStore } from '../store/chat.js';
import type { GuessLimits, RateLimit } from '../store/limits.js';
import type { Room, RoomStore } from '../store/rooms.js';
import type { UserStore } from '../store/users.js';
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
}

const ROOM_NAME_MAX = 64;
const CAPACITY_MIN = 2;
const CAPACITY_MAX = 12;
const PASSCODE_MAX = 128;

const str = (x: unknown): string => (typeof x === 'string' ? x : '');

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
  // Passcode guesses: 5 wrong per (room, user) from one address then a 15-minute pause; 100 per address per day.
  const passcodeThrottle = new LoginThrottle(deps.guesses);

  async function loadRoom(req: Request): Promise<Room> {
    const slug = String(req.params.slug ?? '');
    if (!v.is(SlugSchema, slug)) throw notFound('This room');
    const room = await rooms.get(slug);
    if (!room) throw notFound('This room');
    return room;
  }

  async function renderRoom(req: Request, res: Response, room: Room, status = 200, passcodeError: string | null = null, autoJoin = false) {
    const user = res.locals.user!;
    const access = await canEnterRoom(rooms, room, user.id, req.session);
    if (access === 'not-invited') throw forbidden('This is a private call for the people who were invited.');
    const [members, owner, history] = await Promise.all([rooms.members(room.slug), deps.users.findById(room.ownerId), deps.chat.history(room.slug)]);
    const count = members.length;
    const state = access === 'passcode' ? 'passcode' : count >= room.capacity ? 'full' : 'ready';
    res.status(status).render('room', {
      title: room.name,
      scripts: deps.assets.islands.room ? [deps.assets.islands.room] : [],
      room: { slug: room.slug, name: room.name, capacity: room.capacity, count, hasPasscode: room.passcodeHash !== null, ownerName: owner?.displayName ?? 'someone', isOwner: room.ownerId === user.id },
      members: state === 'passcode' ? [] : members.map((m) => ({ userId: m.userId, displayName: m.displayName })),
      chat: state === 'passcode' ? [] : history,
      state,
      passcodeError,
      autoJoin: autoJoin && state === 'ready',
    });
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
    await renderRoom(req, res, room, 200, null, autoJoin);
  });

  router.post('/r/:slug/passcode', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const user = res.locals.user!;
    if (!room.passcodeHash) return res.redirect(303, `/r/${room.slug}`);
    const key = `${room.slug}|${user.id}`;
    const passcodeHash = room.passcodeHash;
    const tooMany = (wait: number) => {
      res.set('Retry-After', String(wait));
      return renderRoom(req, res, room, 429, `Too many wrong passcodes. Try again in ${Math.ceil(wait / 60)} minutes.`);
    };
    // Counted before it is checked, per (room, user) and per address (IPv6 by /64).
    const attempt = await passcodeThrottle.check(key, req.socket.remoteAddress,
      () => deps.hasher.verify(passcodeHash, str(req.body?.passcode).slice(0, PASSCODE_MAX)));
    if (attempt.wait > 0) return tooMany(attempt.wait);
    if (!attempt.ok) return renderRoom(req, res, room, 401, 'Wrong passcode.');
    grantRoomAccess(req.session, room.slug);
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

  // Chat for browsers without JavaScript; the island sends over the WebSocket instead.
  router.post('/r/:slug/chat', csrfProtection, async (req, res) => {
    const room = await loadRoom(req);
    const user = res.locals.user!;
    if ((await canEnterRoom(rooms, room, user.id, req.session)) !== 'ok') throw forbidden('Enter this room before chatting in it.');
    const text = str(req.body?.text).trim();
    if (!text || text.length > MAX_CHAT) throw new HttpError(400, 'Message not sent', `A message has 1–${MAX_CHAT} characters.`);
    if (!(await deps.chat.allow(user.id))) throw new HttpError(429, 'Slow down', 'You are sending messages too fast; wait a few seconds and try again.', 10);
    const message = await deps.chat.append(room.slug, { userId: user.id, displayName: user.displayName, text });
    await deps.hub.toRoom(room.slug, { type: 'chat', room: room.slug, message });
    res.redirect(303, `/r/${room.slug}#chat`);
  });

  return router;
}
