import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/shared/protocol.js';
import { PRIVATE_ROOM_GRACE_MS } from '../../src/server/store/rooms.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { startRedis, type TestRedis } from '../helpers/processes.js';
import { until, useWorld, type Person } from '../helpers/world.js';
import type { TestSocket } from '../helpers/ws-client.js';

describe('faults and abuse between users (real HTTPS, ws, Redis)', function () {
  this.timeout(60_000);
  const world = useWorld(() => startTestHearth({}, { heartbeatMs: 500 }));
  const person = (prefix: string, on?: TestHearth): Promise<Person> => world.person(prefix, { on });

  /** acceptedCall — caller rings callee, callee accepts: both ring-updates with their tokens. */
  async function acceptedCall(a: TestSocket, b: TestSocket, calleeId: string) {
    const incoming = b.next('ring-incoming');
    a.send({ type: 'ring', userId: calleeId });
    const inc = await incoming;
    const forCaller = a.next('ring-update', (m) => m.state === 'accepted');
    const forCallee = await b.request({ type: 'ring-answer', callId: inc.callId, accept: true }, 'ring-update');
    if (forCallee.type !== 'ring-update') throw new Error(JSON.stringify(forCallee));
    return { callee: forCallee, caller: await forCaller };
  }

  describe('joining a call with the camera on takes a click, or an accepted ring', () => {
    it('a plain /r/<room>?join=1 link does not join; the one-time token of an accepted ring does, once, for its own person', async () => {
      const [ada, bob] = [await person('ada'), await person('bob')];
      const [a, b] = [await ada.tab(), await bob.tab()];
      const { callee, caller } = await acceptedCall(a, b, bob.id);
      const slug = callee.room!;
      expect(callee.join).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(caller.join).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(caller.join).to.not.equal(callee.join);
      const autoJoins = async (who: HttpClient, query: string) => /data-auto-join="true"/.test((await who.get(`/r/${slug}${query}`)).body);
      expect(await autoJoins(bob.http, '?join=1')).to.equal(false);
      expect(await autoJoins(bob.http, `?join=${caller.join}`)).to.equal(false); // Ada's token is not Bob's
      expect(await autoJoins(bob.http, `?join=${callee.join}`)).to.equal(true);
      expect(await autoJoins(bob.http, `?join=${callee.join}`)).to.equal(false); // used up
      // Ada's token was used up by Bob's attempt: tokens are one-time whatever happens.
      expect(await autoJoins(ada.http, `?join=${caller.join}`)).to.equal(false);
    });
  });

  describe('rooms end cleanly', () => {
    it('deleting a room frees its members: nobody shows as busy in a room that is gone', async () => {
      const [owner, guest] = [await person('owner'), await person('guest')];
      const room = await world.hearth.app.rooms.create({ name: 'Gone soon', ownerId: owner.id, capacity: 6, passcodeHash: null });
      const g = await guest.tab();
      await g.request({ type: 'join', room: room.slug }, 'joined');
      expect((await world.hearth.app.rooms.peer(g.peerId))?.room).to.equal(room.slug);
      const closed = g.next('room-closed');
      expect((await owner.http.postForm(`/r/${room.slug}/delete`, { _csrf: await owner.http.csrfToken('/') })).status).to.equal(303);
      await closed;
      expect((await world.hearth.app.rooms.peer(g.peerId))?.room).to.equal(null);
      const online = (await world.hearth.app.rooms.online()).find((p) => p.peerId === g.peerId);
      expect(online?.room).to.equal(null);
      // After a heartbeat or two, still free (the heartbeat does not put it back).
      await sleep(1_200);
      expect((await world.hearth.app.rooms.peer(g.peerId))?.room).to.equal(null);
    });

    it('private call rooms are not anyone\'s rooms, and end once empty for a few minutes', async () => {
      const [ada, bob] = [await person('ada'), await person('bob')];
      const [a, b] = [await ada.tab(), await bob.tab()];
      const { callee } = await acceptedCall(a, b, bob.id);
      const slug = callee.room!;
      expect((await world.hearth.app.rooms.listByOwner(ada.id)).map((r) => r.slug)).to.not.include(slug);
      // In use: kept however late it is.
      await a.request({ type: 'join', room: slug }, 'joined');
      expect(await world.hearth.app.rooms.endPrivateRooms(Date.now() + PRIVATE_ROOM_GRACE_MS * 2)).to.not.include(slug);
      a.send({ type: 'leave' });
      await a.next('left');
      // Empty, but not for long enough yet (it was just seen in use).
      expect(await world.hearth.app.rooms.endPrivateRooms()).to.not.include(slug);
      // Empty past the grace: gone, with its chat.
      expect(await world.hearth.app.rooms.endPrivateRooms(Date.now() + PRIVATE_ROOM_GRACE_MS * 4)).to.include(slug);
      expect(await world.hearth.app.rooms.get(slug)).to.equal(null);
      expect((await bob.http.get(`/r/${slug}`)).status).to.equal(404);
    });
  });

  describe('names people see follow one unsafe-text rule', () => {
    it('refuses room names with zero-width, direction or control characters, and keeps emoji and joined scripts', async () => {
      const ada = await person('namer');
      for (const name of ['Ad\u200Bmin', 'Team\u202Eevil', 'Line\u2028break', '\u200DStaff']) {
        const r = await ada.http.postForm('/rooms', { _csrf: await ada.http.csrfToken('/'), name, capacity: '6' });
        expect(r.status, JSON.stringify(name)).to.equal(400);
        expect(r.body).to.include('invisible or control characters');
      }
      for (const name of ['👩‍💻 Coders', 'می‌خواهم', '山田の部屋']) {
        const r = await ada.http.postForm('/rooms', { _csrf: await ada.http.csrfToken('/'), name, capacity: '6' });
        expect(r.status, name).to.equal(303);
      }
    });
  });

  describe('the file-transfer ledger tells the truth', () => {
    it('only the receiver can say "verified"; names lose their disguises', async () => {
      const [ada, bob] = [await person('ada'), await person('bob')];
      const room = await world.hearth.app.rooms.create({ name: 'Ledger', ownerId: ada.id, capacity: 6, passcodeHash: null });
      const [a, b] = [await ada.tab(), await bob.tab()];
      await a.request({ type: 'join', room: room.slug }, 'joined');
      await b.request({ type: 'join', room: room.slug }, 'joined');
      const sha = 'a'.repeat(64);
      const entry = { type: 'ledger', transferId: 'TTTTTTTTTTTT', size: 1_500_000, sha256: sha };
      // The sender claiming verification: refused.
      const lie = await a.request({ ...entry, to: b.peerId, name: 'report.pdf', state: 'verified', ref: 'lie' }, 'chat');
      expect(lie).to.include({ type: 'error', code: ErrorCode.BadMessage });
      // The receiver's own check: recorded as its word, with a bidi-disguised name made plain.
      const chat = b.next('chat');
      b.send({ ...entry, to: null, from: a.peerId, name: 'report\u202Efdp.exe\n', state: 'verified' });
      const { message } = await chat;
      expect(message.transfer).to.deep.include({ fromName: ada.name, toName: bob.name, name: 'reportfdp.exe', state: 'verified', by: 'receiver' });
      expect(message.text).to.equal(`${ada.name} → ${bob.name}: reportfdp.exe (1.5 MB) received and verified by ${bob.name}, SHA-256 ${sha}`);
      // A receiver naming itself, or someone outside the room, as the sender: refused.
      expect(await b.request({ ...entry, to: null, from: b.peerId, name: 'x', state: 'verified' }, 'chat')).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
      const outsider = await (await person('eve')).tab();
      expect(await b.request({ ...entry, to: null, from: outsider.peerId, name: 'x', state: 'verified' }, 'chat')).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
      // A receiver cannot "offer" in someone's name.
      expect(await b.request({ ...entry, to: null, from: a.peerId, name: 'x', state: 'offered' }, 'chat')).to.include({ type: 'error', code: ErrorCode.BadMessage });
    });
  });

  describe('when Redis refuses writes', () => {
    it('answers 503 (pages) and "unavailable" (sockets), and recovers when it accepts them again', async () => {
      const ada = await person('full');
      const room = await world.hearth.app.rooms.create({ name: 'Full', ownerId: ada.id, capacity: 6, passcodeHash: null });
      const a = await ada.tab();
      await a.request({ type: 'join', room: room.slug }, 'joined');
      const visitor = new HttpClient(world.hearth.origin, world.ca);
      const _csrf = await visitor.csrfToken('/register');
      await world.hearth.redis.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
      try {
        const reg = await visitor.postForm('/register', { _csrf, username: 'toolate', displayName: 'Too late', password: 'correct horse battery' });
        expect(reg.status).to.equal(503);
        expect(reg.body).to.include("Hearth's database is unavailable");
        const reply = await a.request({ type: 'chat', text: 'hello' }, 'chat');
        expect(reply).to.include({ type: 'error', code: ErrorCode.Unavailable });
        expect(a.closed).to.equal(null);
      } finally {
        await world.hearth.redis.configSet({ maxmemory: '0' });
        await visitor.close();
      }
      expect((await a.request({ type: 'chat', text: 'hello again' }, 'chat')).type).to.equal('chat');
    });
  });

  describe('after a Redis outage longer than the presence TTL', () => {
    let redis: TestRedis;
    let h: TestHearth;
    before(async () => {
      redis = await startRedis({ persist: true });
      h = await startTestHearth({}, { redisUrl: redis.url, heartbeatMs: 300 });
    });
    after(async () => {
      await h?.close();
      await redis?.stop();
    });

    it('rebuilds presence by itself: Online now, room seats and a newcomer\'s peers come back without reloads', async () => {
      const [ada, bob, cat] = [await person('ada', h), await person('bob', h), await person('cat', h)];
      const room = await h.app.rooms.create({ name: 'Outage', ownerId: ada.id, capacity: 6, passcodeHash: null });
      const [a, b] = [await ada.tab(), await bob.tab()];
      await a.request({ type: 'join', room: room.slug }, 'joined');
      // Down for well over the TTL (3 heartbeats = 0.9 s): every presence key lapses meanwhile.
      await redis.kill();
      await sleep(2_500);
      await redis.restart();
      await until(() => h.redis.isReady, 'the app to reconnect', 10_000);
      await until(async () => {
        const online = (await h.app.rooms.online()).map((p) => p.peerId);
        return online.includes(a.peerId) && online.includes(b.peerId);
      }, 'both tabs back in Online now', 5_000);
      expect((await h.app.rooms.members(room.slug)).map((m) => m.peerId)).to.include(a.peerId);
      // A newcomer sees the member who was there all along.
      const c = await cat.tab();
      const joined = await c.request({ type: 'join', room: room.slug }, 'joined');
      expect(joined.type === 'joined' && joined.peers.map((p) => p.peerId)).to.deep.equal([a.peerId]);
      // Ringing Bob works: he is online, not "offline".
      const rung = await a.request({ type: 'ring', userId: bob.id }, 'ring-update');
      expect(rung).to.include({ state: 'ringing' });
    });
  });
});
