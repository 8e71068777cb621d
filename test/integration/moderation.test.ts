// Room moderation over the socket and the room page's forms: who may (owner of that room, admins),
// removing a person (every tab, every page, kept out for a while), locking, capacity and passcode.
import { expect } from 'chai';
import { ErrorCode } from '../../src/shared/protocol.js';
import { startTestHearth } from '../helpers/hearth.js';
import type { HttpClient } from '../helpers/http-client.js';
import { until, useWorld, type Person } from '../helpers/world.js';
import { TestSocket } from '../helpers/ws-client.js';

describe('room moderation (real ws + HTTPS + Redis)', function () {
  this.timeout(30_000);
  const world = useWorld(() => startTestHearth({}, { heartbeatMs: 500 }));
  /** The world's first account: the admin. */
  let root: Person;
  before(async () => {
    root = await world.person('root');
    expect((await world.hearth.app.users.findById(root.id))?.isAdmin).to.equal(true);
  });

  const rooms = () => world.hearth.app.rooms;

  async function roomOf(owner: Person, opts: { capacity?: number; passcode?: string } = {}): Promise<string> {
    const passcodeHash = opts.passcode ? await world.hearth.app.services.hasher.hash(opts.passcode) : null;
    return (await rooms().create({ name: 'Standup', ownerId: owner.id, capacity: opts.capacity ?? 6, passcodeHash })).slug;
  }

  async function join(tab: TestSocket, slug: string) {
    return tab.request({ type: 'join', room: slug }, 'joined');
  }

  async function joined(tab: TestSocket, slug: string): Promise<void> {
    const r = await join(tab, slug);
    if (r.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(r)}`);
  }

  /** post — a form POST with the CSRF token of the room's page. */
  async function post(http: HttpClient, slug: string, action: string, fields: Record<string, string>) {
    const _csrf = await http.csrfToken(`/r/${slug}`);
    return http.postForm(`/r/${slug}/${action}`, { _csrf, ...fields });
  }

  const memberIds = async (slug: string) => (await rooms().members(slug)).map((m) => m.userId);

  describe('who may moderate', () => {
    it('a member who is neither owner nor admin: refused over the socket and by the forms, and nothing happens', async () => {
      const [ada, bob, eve] = [await world.person('ada'), await world.person('bob'), await world.person('eve')];
      const slug = await roomOf(ada);
      const [b, e] = [await bob.tab(), await eve.tab()];
      await joined(b, slug);
      await joined(e, slug);
      const reply = await e.request({ type: 'moderate', action: 'remove', room: slug, userId: bob.id, ref: 'x1' }, 'moderated');
      expect(reply).to.deep.include({ type: 'error', code: ErrorCode.NotAllowed, message: "Only this room's owner or an admin can do that.", ref: 'x1' });
      const lock = await e.request({ type: 'room-settings', room: slug, locked: true }, 'room-updated');
      expect(lock).to.include({ type: 'error', code: ErrorCode.NotAllowed });
      for (const [action, fields] of [['remove', { userId: bob.id }], ['lock', { locked: '1' }], ['settings', { capacity: '3' }]] as const) {
        const r = await post(eve.http, slug, action, fields);
        expect(r.status, action).to.equal(403);
      }
      expect(await memberIds(slug)).to.have.members([bob.id, eve.id]);
      expect(await rooms().banRemaining(slug, bob.id)).to.equal(0);
      const room = await rooms().get(slug);
      expect(room).to.include({ locked: false, capacity: 6 });
      expect(b.received.some((m) => m.type === 'removed' || m.type === 'room-updated')).to.equal(false);
      // The page offers them nothing to moderate with.
      const page = await eve.http.get(`/r/${slug}`);
      expect(page.body).to.not.include('Remove from room');
      expect(page.body).to.not.include('Room settings');
    });

    it('an owner cannot moderate another owner\'s room', async () => {
      const [ada, bob, carl] = [await world.person('ada'), await world.person('bob'), await world.person('carl')];
      const mine = await roomOf(ada);
      const theirs = await roomOf(bob);
      const c = await carl.tab();
      await joined(c, theirs);
      const a = await ada.tab();
      expect(await a.request({ type: 'moderate', action: 'remove', room: theirs, userId: carl.id }, 'moderated')).to.include({ code: ErrorCode.NotAllowed });
      expect(await a.request({ type: 'room-settings', room: theirs, locked: true }, 'room-updated')).to.include({ code: ErrorCode.NotAllowed });
      // Through the forms of their own room's page, aimed at the other room: refused as well.
      const _csrf = await ada.http.csrfToken(`/r/${mine}`);
      expect((await ada.http.postForm(`/r/${theirs}/remove`, { _csrf, userId: carl.id })).status).to.equal(403);
      expect((await ada.http.postForm(`/r/${theirs}/lock`, { _csrf, locked: '1' })).status).to.equal(403);
      expect((await ada.http.postForm(`/r/${theirs}/settings`, { _csrf, capacity: '2', passcode: 'mine now' })).status).to.equal(403);
      expect(await memberIds(theirs)).to.deep.equal([carl.id]);
      expect(await rooms().get(theirs)).to.include({ locked: false, capacity: 6, passcodeHash: null });
      expect(await rooms().banRemaining(theirs, carl.id)).to.equal(0);
    });

    it('refuses removing yourself, and a non-admin owner removing an admin; an admin may remove the owner', async () => {
      const ada = await world.person('ada');
      const slug = await roomOf(ada);
      const [a, r] = [await ada.tab(), await root.tab()];
      await joined(a, slug);
      await joined(r, slug);
      expect(await a.request({ type: 'moderate', action: 'remove', room: slug, userId: ada.id }, 'moderated'))
        .to.include({ code: ErrorCode.NotAllowed, message: 'You cannot remove yourself; use Leave instead.' });
      expect(await a.request({ type: 'moderate', action: 'remove', room: slug, userId: root.id }, 'moderated'))
        .to.include({ code: ErrorCode.NotAllowed, message: "Only an admin can remove the room's owner or an admin." });
      expect(await r.request({ type: 'moderate', action: 'remove', room: slug, userId: root.id }, 'moderated')).to.include({ code: ErrorCode.NotAllowed });
      expect(await memberIds(slug)).to.have.members([ada.id, root.id]);
      // An admin moderates any room, its owner included.
      const out = a.next('removed');
      expect(await r.request({ type: 'moderate', action: 'remove', room: slug, userId: ada.id }, 'moderated')).to.include({ type: 'moderated', userId: ada.id, minutes: 10 });
      await out;
      expect(await memberIds(slug)).to.deep.equal([root.id]);
      expect(await join(a, slug)).to.include({ code: ErrorCode.Banned });
    });

    it('answers ids and rooms that do not exist, and malformed messages, with errors and no effect', async () => {
      const [ada, bob] = [await world.person('ada'), await world.person('bob')];
      const slug = await roomOf(ada);
      const a = await ada.tab();
      const b = await bob.tab();
      await joined(b, slug);
      expect(await a.request({ type: 'moderate', action: 'remove', room: slug, userId: '00000000-0000-4000-8000-000000000000' }, 'moderated')).to.include({ code: ErrorCode.UserNotFound });
      expect(await a.request({ type: 'moderate', action: 'remove', room: 'no-such-room', userId: bob.id }, 'moderated')).to.include({ code: ErrorCode.RoomNotFound });
      expect(await a.request({ type: 'room-settings', room: 'no-such-room', locked: true }, 'room-updated')).to.include({ code: ErrorCode.RoomNotFound });
      const malformed: Record<string, unknown>[] = [
        { type: 'moderate', action: 'remove', room: slug, userId: 'bob' },
        { type: 'moderate', action: 'ban', room: slug, userId: bob.id },
        { type: 'moderate', action: 'remove', userId: bob.id },
        { type: 'moderate', action: 'remove', room: slug, userId: bob.id, from: ada.id },
        { type: 'moderate', action: 'remove', room: 'Not A Slug!', userId: bob.id },
        { type: 'room-settings', room: slug, locked: 'yes' },
        { type: 'room-settings', room: slug, locked: true, capacity: 2 },
        { type: 'room-settings', room: slug },
      ];
      for (const msg of malformed) expect(await a.request(msg, 'moderated'), JSON.stringify(msg)).to.include({ type: 'error', code: ErrorCode.BadMessage });
      // Over the form: a user id that is not one, a lock value that is neither.
      expect((await post(ada.http, slug, 'remove', { userId: '../../etc' })).status).to.equal(400);
      expect((await post(ada.http, slug, 'remove', { userId: '00000000-0000-4000-8000-000000000000' })).status).to.equal(404);
      expect((await post(ada.http, slug, 'lock', { locked: 'maybe' })).status).to.equal(400);
      expect(await memberIds(slug)).to.deep.equal([bob.id]);
      expect(await rooms().get(slug)).to.include({ locked: false });
      expect(b.received.some((m) => m.type === 'removed')).to.equal(false);
    });

    it('every form wants a valid CSRF token, and a signed-in person', async () => {
      const [ada, bob] = [await world.person('ada'), await world.person('bob')];
      const slug = await roomOf(ada);
      for (const [action, fields] of [['remove', { userId: bob.id }], ['lock', { locked: '1' }], ['settings', { capacity: '3' }]] as const) {
        expect((await ada.http.postForm(`/r/${slug}/${action}`, fields)).status, `${action} without a token`).to.equal(403);
        expect((await ada.http.postForm(`/r/${slug}/${action}`, { ...fields, _csrf: 'forged' })).status, `${action} with a forged token`).to.equal(403);
        expect((await world.client().postForm(`/r/${slug}/${action}`, fields)).status, `${action} signed out`).to.equal(401);
      }
      expect(await rooms().get(slug)).to.include({ locked: false, capacity: 6 });
      expect(await rooms().banRemaining(slug, bob.id)).to.equal(0);
    });
  });

  describe('Remove from room', () => {
    it('takes every tab of the person out of the call at once; the others see them leave; their joins are refused while it lasts', async () => {
      const [ada, bob, cy] = [await world.person('ada'), await world.person('bob'), await world.person('cy')];
      const slug = await roomOf(ada);
      const [a, c] = [await ada.tab(), await cy.tab()];
      const [b1, b2, bLobby] = [await bob.tab(), await bob.tab(), await bob.tab()];
      for (const t of [a, b1, b2, c]) await joined(t, slug);
      const left = [c.next('peer-left', (m) => m.peerId === b1.peerId), c.next('peer-left', (m) => m.peerId === b2.peerId)];
      const told = [b1.next('removed'), b2.next('removed'), bLobby.next('removed')];
      const reply = await a.request({ type: 'moderate', action: 'remove', room: slug, userId: bob.id, ref: 'rm' }, 'moderated');
      expect(reply).to.deep.equal({ type: 'moderated', room: slug, action: 'remove', userId: bob.id, minutes: 10, ref: 'rm' });
      for (const m of await Promise.all(told)) expect(m).to.deep.equal({ type: 'removed', room: slug, minutes: 10 });
      for (const m of await Promise.all(left)) expect(m.reason).to.equal('left');
      expect(await memberIds(slug)).to.have.members([ada.id, cy.id]);
      // Out of the room for the server too: nothing to leave, nobody to signal.
      expect(await b1.request({ type: 'leave' }, 'left')).to.include({ code: ErrorCode.NotInRoom });
      b2.send({ type: 'signal', to: c.peerId, payload: { kind: 'candidate', candidate: null } });
      expect(await b2.next('error')).to.include({ code: ErrorCode.PeerNotFound });
      // Every tab, new ones too, is refused.
      const message = 'You were removed from this room. You can join again in 10 minutes.';
      for (const t of [b1, b2, bLobby, await bob.tab()]) expect(await join(t, slug)).to.include({ type: 'error', code: ErrorCode.Banned, message });
      // The room page says the same, and offers no Join that works.
      const page = await bob.http.get(`/r/${slug}`);
      expect(page.status).to.equal(200);
      expect(page.body).to.include('You were removed from this room');
      expect(page.body).to.include('You can join again in 10 minutes.');
      expect(page.body).to.match(/<button[^>]*id="removed-join"[^>]*disabled/);
      expect(page.body).to.not.include('id="join-button"');
      // Nor may they chat in it without JavaScript.
      expect((await bob.http.postForm(`/r/${slug}/chat`, { _csrf: await bob.http.csrfToken('/'), text: 'let me in' })).status).to.equal(403);
      // Other rooms are not affected.
      const other = await roomOf(cy);
      await joined(b1, other);
    });

    it('reaches the person\'s tabs on another server instance too', async () => {
      const [ada, bob, cy] = [await world.person('ada'), await world.person('bob'), await world.person('cy')];
      const slug = await roomOf(ada);
      const second = await startTestHearth({}, { flush: false, heartbeatMs: 500 });
      const there: TestSocket[] = [];
      try {
        const [a, c] = [await ada.tab(), await cy.tab()];
        const remote = await TestSocket.open(bob.http, world.ca, { server: second.origin });
        there.push(remote);
        await joined(c, slug);
        await joined(remote, slug);
        const left = c.next('peer-left', (m) => m.peerId === remote.peerId);
        const told = remote.next('removed');
        expect(await a.request({ type: 'moderate', action: 'remove', room: slug, userId: bob.id }, 'moderated')).to.include({ type: 'moderated' });
        expect(await told).to.deep.equal({ type: 'removed', room: slug, minutes: 10 });
        await left;
        expect(await memberIds(slug)).to.deep.equal([cy.id]);
        expect(await join(remote, slug)).to.include({ code: ErrorCode.Banned });
      } finally {
        for (const t of there) t.close();
        await second.close();
      }
    });

    it('ends once the ban lapses (a short ban set on the store), and the ban goes with the room', async () => {
      const [ada, bob] = [await world.person('ada'), await world.person('bob')];
      const slug = await roomOf(ada);
      const [a, b] = [await ada.tab(), await bob.tab()];
      await joined(b, slug);
      const saved = rooms().banMs;
      rooms().banMs = 1_500;
      try {
        const out = b.next('removed');
        expect(await a.request({ type: 'moderate', action: 'remove', room: slug, userId: bob.id }, 'moderated')).to.include({ minutes: 1 });
        expect((await out).minutes).to.equal(1);
        expect(await join(b, slug)).to.include({ code: ErrorCode.Banned, message: 'You were removed from this room. You can join again in 1 minute.' });
        // The ban's key lapses by itself (bounded without anyone cleaning up).
        const ttl = await world.hearth.redis.pTTL(`room:${slug}:bans`);
        expect(ttl).to.be.within(1, 1_500);
        await until(async () => (await rooms().banRemaining(slug, bob.id)) === 0, 'the ban to lapse');
        await joined(b, slug);
        expect((await bob.http.get(`/r/${slug}`)).body).to.include('id="join-button"');
      } finally {
        rooms().banMs = saved;
      }
      await a.request({ type: 'moderate', action: 'remove', room: slug, userId: bob.id }, 'moderated');
      expect(await world.hearth.redis.exists(`room:${slug}:bans`)).to.equal(1);
      expect((await post(ada.http, slug, 'delete', {})).status).to.equal(303);
      expect(await world.hearth.redis.exists(`room:${slug}:bans`)).to.equal(0);
    });

    it('works without JavaScript: the owner\'s page lists a Remove from room form per person, and posting it removes them', async () => {
      const [ada, bob] = [await world.person('ada'), await world.person('bob')];
      const slug = await roomOf(ada);
      const b = await bob.tab();
      await joined(b, slug);
      const page = await ada.http.get(`/r/${slug}`);
      expect(page.body).to.include(`aria-label="Remove from room: ${bob.name}"`);
      const out = b.next('removed');
      const r = await post(ada.http, slug, 'remove', { userId: bob.id });
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal(`/r/${slug}?done=removed`);
      await out;
      expect(await memberIds(slug)).to.deep.equal([]);
      expect((await ada.http.get(`/r/${slug}?done=removed`)).body).to.match(/role="status"[^]*They were removed from this room\./);
    });
  });

  describe('Lock room', () => {
    it('refuses newcomers ("This room is locked"), keeps whoever is in, and lets the owner and admins in', async () => {
      const [ada, bob, newcomer] = [await world.person('ada'), await world.person('bob'), await world.person('nico')];
      const slug = await roomOf(ada);
      const [a, b, n, watcher] = [await ada.tab(), await bob.tab(), await newcomer.tab(), await root.tab()];
      await joined(b, slug);
      const told = b.next('room-updated');
      const reply = await a.request({ type: 'room-settings', room: slug, locked: true, ref: 'lk' }, 'room-updated');
      expect(reply).to.deep.equal({ type: 'room-updated', room: slug, capacity: 6, locked: true, hasPasscode: false, ref: 'lk' });
      expect(await told).to.deep.equal({ type: 'room-updated', room: slug, capacity: 6, locked: true, hasPasscode: false });
      // The lobby's Live rooms show it.
      await watcher.next('lobby', (m) => m.rooms.some((r) => r.slug === slug && r.locked));
      expect((await newcomer.http.get('/')).body).to.match(new RegExp(`data-slug="${slug}"[^]*?<span class="badge badge--locked room-item__locked">Locked</span>`));

      const refused = await join(n, slug);
      expect(refused).to.include({ type: 'error', code: ErrorCode.RoomLocked });
      expect((refused as { message: string }).message).to.match(/^This room is locked/);
      const page = await newcomer.http.get(`/r/${slug}`);
      expect(page.body).to.include('This room is locked');
      expect(page.body).to.not.include('id="join-button"');
      // Bob was in: he stays, and may come back after leaving (a reload, a dropped connection).
      expect(await memberIds(slug)).to.deep.equal([bob.id]);
      await b.request({ type: 'leave' }, 'left');
      expect((await bob.http.get(`/r/${slug}`)).body).to.include('id="join-button"');
      await joined(b, slug);
      await joined(await bob.tab(), slug);
      // The owner and any admin pass the lock; the badge shows to everyone on the page.
      await joined(a, slug);
      await joined(watcher, slug);
      const badge = /<span[^>]*id="room-locked"[^>]*>/.exec((await bob.http.get(`/r/${slug}`)).body)?.[0];
      expect(badge).to.be.a('string').and.not.include('hidden');
      // Unlocked: the newcomer joins.
      await a.request({ type: 'room-settings', room: slug, locked: false }, 'room-updated');
      await joined(n, slug);
    });

    it('works without JavaScript, and locking twice keeps who may come back', async () => {
      const [ada, bob] = [await world.person('ada'), await world.person('bob')];
      const slug = await roomOf(ada);
      const b = await bob.tab();
      await joined(b, slug);
      const told = b.next('room-updated');
      const r = await post(ada.http, slug, 'lock', { locked: '1' });
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal(`/r/${slug}?done=locked`);
      expect((await told).locked).to.equal(true);
      await b.request({ type: 'leave' }, 'left');
      expect((await post(ada.http, slug, 'lock', { locked: '1' })).status).to.equal(303);
      await joined(b, slug);
      const page = await ada.http.get(`/r/${slug}?done=locked`);
      expect(page.body).to.include('Room locked. Nobody new can join until you unlock it.');
      expect(page.body).to.include('Unlock room');
      expect((await post(ada.http, slug, 'lock', { locked: '0' })).headers.location).to.equal(`/r/${slug}?done=unlocked`);
      expect(await rooms().get(slug)).to.include({ locked: false });
    });
  });

  describe('Room settings: capacity and passcode', () => {
    it('validates capacity (2–12) and passcode, changing nothing on a mistake', async () => {
      const ada = await world.person('ada');
      const slug = await roomOf(ada);
      for (const capacity of ['1', '13', 'abc', '', '2.5', '-3', '99999999999']) {
        const r = await post(ada.http, slug, 'settings', { capacity });
        expect(r.status, capacity).to.equal(400);
        expect(r.body).to.include('Choose from 2 to 12 people.');
      }
      expect((await post(ada.http, slug, 'settings', { capacity: '4', passcode: 'x'.repeat(129) })).body).to.include('Use at most 128 characters.');
      expect(await rooms().get(slug)).to.include({ capacity: 6, passcodeHash: null });
      const both = await world.hearth.app.services.hasher.hash('old');
      await rooms().updateSettings(slug, { passcodeHash: both });
      expect((await post(ada.http, slug, 'settings', { capacity: '4', passcode: 'new', removePasscode: '1' })).body).to.include('Enter a new passcode or remove it, not both.');
      expect(await rooms().get(slug)).to.include({ capacity: 6, passcodeHash: both });
    });

    it('a lower capacity keeps whoever is inside and lets nobody new in until a seat frees; members hear room-updated', async () => {
      const [ada, bob, cy, dee] = [await world.person('ada'), await world.person('bob'), await world.person('cy'), await world.person('dee')];
      const slug = await roomOf(ada);
      const [a, b, c, d] = [await ada.tab(), await bob.tab(), await cy.tab(), await dee.tab()];
      for (const t of [a, b, c]) await joined(t, slug);
      const told = b.next('room-updated');
      const r = await post(ada.http, slug, 'settings', { capacity: '2' });
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal(`/r/${slug}?done=saved`);
      expect(await told).to.deep.equal({ type: 'room-updated', room: slug, capacity: 2, locked: false, hasPasscode: false });
      expect(await memberIds(slug)).to.have.members([ada.id, bob.id, cy.id]);
      expect(await join(d, slug)).to.include({ code: ErrorCode.RoomFull, message: 'This room is full (3 of 2).' });
      await c.request({ type: 'leave' }, 'left');
      await b.request({ type: 'leave' }, 'left');
      await joined(d, slug);
      expect((await ada.http.get(`/r/${slug}?done=saved`)).body).to.include('Room settings saved.');
    });

    it('a new passcode must be entered again by people who entered the old one; removing it lets anyone in', async () => {
      const [ada, bob, carl] = [await world.person('ada'), await world.person('bob'), await world.person('carl')];
      const slug = await roomOf(ada, { passcode: 'old secret' });
      expect((await post(bob.http, slug, 'passcode', { passcode: 'old secret' })).status).to.equal(303);
      const b = await bob.tab();
      await joined(b, slug);
      const told = b.next('room-updated');
      expect((await post(ada.http, slug, 'settings', { capacity: '6', passcode: 'new secret' })).status).to.equal(303);
      expect((await told).hasPasscode).to.equal(true);
      // Bob stays in the call; entering again needs the new passcode.
      expect(await memberIds(slug)).to.deep.equal([bob.id]);
      expect((await bob.http.get(`/r/${slug}`)).body).to.include('This room needs a passcode');
      expect(await join(await bob.tab(), slug)).to.include({ code: ErrorCode.PasscodeRequired });
      expect((await post(bob.http, slug, 'passcode', { passcode: 'old secret' })).status).to.equal(401);
      expect((await post(bob.http, slug, 'passcode', { passcode: 'new secret' })).status).to.equal(303);
      await joined(await bob.tab(), slug);
      // An empty passcode field keeps it.
      await post(ada.http, slug, 'settings', { capacity: '5', passcode: '' });
      expect(await rooms().get(slug)).to.include({ capacity: 5 }).and.not.include({ passcodeHash: null });
      expect((await carl.http.get(`/r/${slug}`)).body).to.include('This room needs a passcode');
      await post(ada.http, slug, 'settings', { capacity: '5', removePasscode: '1' });
      expect(await rooms().get(slug)).to.include({ passcodeHash: null });
      await joined(await carl.tab(), slug);
    });

    it('an admin may change any room\'s settings, and keeps access to a passcode they set', async () => {
      const ada = await world.person('ada');
      const slug = await roomOf(ada);
      const page = await root.http.get(`/r/${slug}`);
      expect(page.body).to.include('Room settings');
      expect((await post(root.http, slug, 'settings', { capacity: '3', passcode: 'admin set' })).status).to.equal(303);
      expect(await rooms().get(slug)).to.include({ capacity: 3 });
      expect((await root.http.get(`/r/${slug}`)).body).to.include('id="join-button"');
      await joined(await root.tab(), slug);
      expect((await post(root.http, slug, 'lock', { locked: '1' })).status).to.equal(303);
      expect(await rooms().get(slug)).to.include({ locked: true });
    });
  });
});
