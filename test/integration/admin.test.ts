// The Admin page against a real Hearth: who may use it, registration modes and invite links, people (disable, admin, reset links), rooms, the action log, and `npm run admin`.
//
// Accessible names of the per-row buttons (visible text first, then whom it is for):
//   "Disable <Display Name> (<username>)", "Enable …", "Make admin: …", "Remove admin: …",
//   "Reset password for …", "Delete room <room name>", "Revoke invite <first 8 hex of its id>".
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { CloseCode } from '../../src/shared/protocol.js';
import { LOCK_FILE } from '../../src/server/data-dir-lock.js';
import { ROOT_DIR } from '../../src/server/paths.js';
import { ADMIN_LOG_MAX, AdminLog } from '../../src/server/store/admin-log.js';
import { InviteStore, MAX_LIVE_INVITES } from '../../src/server/store/invites.js';
import { PasswordResetStore } from '../../src/server/store/password-resets.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient, type Reply } from '../helpers/http-client.js';
import { childPid, freePort, running, stopChild, tempDir, track } from '../helpers/processes.js';
import { sharedRedis } from '../helpers/root-hooks.js';
import { useWorld, until, type Person } from '../helpers/world.js';

const PASSWORD = 'correct horse battery';

/** post — sends a form as a signed-in browser would (the header's Sign out form carries a token on every page). */
async function post(http: HttpClient, path: string, fields: Record<string, string> = {}): Promise<Reply> {
  const _csrf = await http.csrfToken('/');
  return http.postForm(path, { _csrf, ...fields });
}

/** linkOnPage — the link (invite or reset) the Admin page shows to hand over. */
function linkOnPage(body: string, kind: 'register' | 'reset'): string {
  const m = new RegExp(`value="(https://[^"]+/${kind === 'register' ? 'register\\?invite=' : 'reset/'}[^"]+)"`).exec(body);
  if (!m) throw new Error(`no ${kind} link on the page`);
  return new URL(m[1]!).pathname + new URL(m[1]!).search;
}

/** registerWith — fills the registration form reached through `path` (an invite link) as an anonymous visitor. */
async function registerWith(c: HttpClient, path: string, username: string): Promise<Reply> {
  const page = await c.get(path);
  const _csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? (await c.csrfToken('/login'));
  const invite = /name="invite" value="([^"]*)"/.exec(page.body)?.[1] ?? new URL(path, 'https://x').searchParams.get('invite') ?? '';
  return c.postForm('/register', { _csrf, username, displayName: username.toUpperCase(), password: PASSWORD, invite });
}

/** rawRedis — the run's Redis, for what a test must arrange behind Hearth's back (an invite's expiry). */
async function withRawRedis<T>(fn: (r: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const raw = createClient({ url: sharedRedis().url });
  await raw.connect();
  try {
    return await fn(raw);
  } finally {
    await raw.close();
  }
}

describe('the Admin page (real HTTPS + Redis)', function () {
  this.timeout(30_000);
  const world = useWorld();
  let boss: Person;
  const app = () => world.hearth.app;
  const label = (p: Person) => `${p.name} (${p.name.toLowerCase()})`;

  before(async () => {
    boss = await world.person('boss', { exact: true }); // the first account: admin
  });

  describe('who may use it', () => {
    it('refuses every route, GET and POST, to a signed-in person who is not an admin (403) and changes nothing', async () => {
      const eve = await world.person('eve');
      const victim = await world.person('vic');
      const room = await app().rooms.create({ name: 'Kept', ownerId: victim.id, capacity: 4, passcodeHash: null });
      const invite = await new InviteStore(app().services.redis).create({ uses: 1, expiry: '1h', createdBy: 'test' });
      const page = await eve.http.get('/admin');
      expect(page.status).to.equal(403);
      expect(page.body).to.not.include('Registration');
      const posts: [string, Record<string, string>][] = [
        ['/admin/registration', { mode: 'open' }],
        ['/admin/invites', { uses: '5', expiry: '7d' }],
        [`/admin/invites/${invite!.id}/revoke`, {}],
        [`/admin/people/${victim.id}/disable`, {}],
        [`/admin/people/${victim.id}/enable`, {}],
        [`/admin/people/${eve.id}/make-admin`, {}],
        [`/admin/people/${boss.id}/remove-admin`, {}],
        [`/admin/people/${victim.id}/reset-password`, {}],
        [`/admin/rooms/${room.slug}/delete`, {}],
      ];
      for (const [path, fields] of posts) {
        const r = await post(eve.http, path, fields);
        expect(r.status, path).to.equal(403);
      }
      expect((await app().users.findById(eve.id))!.isAdmin).to.equal(false);
      expect((await app().users.findById(victim.id))!.disabled).to.equal(false);
      expect((await app().users.findById(boss.id))!.isAdmin).to.equal(true);
      expect(await app().rooms.get(room.slug)).to.not.equal(null);
      expect(await new InviteStore(app().services.redis).get(invite!.id)).to.not.equal(null);
      expect(await new AdminLog(app().services.redis).latest(10)).to.deep.equal([]);
      await app().rooms.remove(room.slug, victim.id);
      await new InviteStore(app().services.redis).revoke(invite!.id);
    });

    it('sends an anonymous visitor to sign in (GET) and refuses its POSTs (401)', async () => {
      const anon = world.client();
      const page = await anon.get('/admin');
      expect(page.status).to.equal(303);
      expect(page.headers.location).to.equal('/login?next=%2Fadmin');
      const _csrf = await anon.csrfToken('/login');
      expect((await anon.postForm('/admin/registration', { _csrf, mode: 'closed' })).status).to.equal(401);
    });

    it('refuses a POST with a missing or forged CSRF token, even from an admin', async () => {
      const noToken = await boss.http.postForm('/admin/registration', { mode: 'closed' });
      expect(noToken.status).to.equal(403);
      expect(noToken.body).to.include('This form was out of date');
      const forged = await boss.http.postForm('/admin/registration', { _csrf: 'forged-token', mode: 'closed' });
      expect(forged.status).to.equal(403);
      expect((await world.client().get('/register')).status).to.equal(200); // still open
    });

    it('refuses a disabled admin: their session ended, so pages go to sign-in and actions are refused', async () => {
      const ada = await world.person('ada');
      expect((await post(boss.http, `/admin/people/${ada.id}/make-admin`)).status).to.equal(303);
      expect((await ada.http.get('/admin')).status).to.equal(200);
      const _csrf = await ada.http.csrfToken('/admin');
      expect((await post(boss.http, `/admin/people/${ada.id}/disable`)).status).to.equal(303);
      const page = await ada.http.get('/admin');
      expect(page.status).to.equal(303);
      expect(page.headers.location).to.equal('/login?next=%2Fadmin');
      const action = await ada.http.postForm('/admin/registration', { _csrf, mode: 'closed' });
      expect(action.status).to.be.oneOf([401, 403]);
      expect((await world.client().get('/register')).status).to.equal(200);
      // Their password still works, but only to hear why they cannot come in.
      const again = await ada.http.login(ada.name.toLowerCase(), PASSWORD);
      expect(again.status).to.equal(403);
      expect(again.body).to.include('This account is disabled.');
      expect((await post(boss.http, `/admin/people/${ada.id}/remove-admin`)).status).to.equal(303);
      expect((await post(boss.http, `/admin/people/${ada.id}/enable`)).status).to.equal(303);
    });

    it('404s ids that do not exist and actions it does not know', async () => {
      expect((await post(boss.http, '/admin/people/00000000-0000-4000-8000-000000000000/disable')).status).to.equal(404);
      expect((await post(boss.http, '/admin/people/not-an-id/disable')).status).to.equal(404);
      expect((await post(boss.http, `/admin/people/${boss.id}/explode`)).status).to.equal(404);
      const room = await post(boss.http, '/admin/rooms/no-such-room-zzzz/delete');
      expect(room.status).to.equal(404);
      expect(room.body).to.include('That room does not exist any more.');
      const revoke = await post(boss.http, `/admin/invites/${'0'.repeat(64)}/revoke`);
      expect(revoke.status).to.equal(404);
      expect(revoke.body).to.include('role="alert"');
    });
  });

  describe('admins', () => {
    it('an admin cannot disable themself or remove their own admin role', async () => {
      const self = await post(boss.http, `/admin/people/${boss.id}/disable`);
      expect(self.status).to.equal(409);
      expect(self.body).to.include('You cannot disable your own account.');
      expect(self.body).to.include('role="alert"');
      const demote = await post(boss.http, `/admin/people/${boss.id}/remove-admin`);
      expect(demote.status).to.equal(409);
      expect(demote.body).to.include('You cannot remove your own admin role.');
      const me = await app().users.findById(boss.id);
      expect(me).to.include({ isAdmin: true, disabled: false });
      // The page offers neither on one's own row.
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.not.include(`aria-label="Disable ${label(boss)}"`);
      expect(page).to.not.include(`aria-label="Remove admin: ${label(boss)}"`);
    });

    it('two admins removing each other at once: one stays admin ("Hearth needs at least one admin.")', async () => {
      for (let round = 0; round < 3; round++) {
        // Only these two are enabled admins this round.
        const ann = await world.person('ann');
        const bob = await world.person('bob');
        await post(boss.http, `/admin/people/${ann.id}/make-admin`);
        await post(boss.http, `/admin/people/${bob.id}/make-admin`);
        expect((await post(ann.http, `/admin/people/${boss.id}/remove-admin`)).status).to.equal(303);
        const [a, b] = await Promise.all([
          post(ann.http, `/admin/people/${bob.id}/remove-admin`),
          post(bob.http, `/admin/people/${ann.id}/remove-admin`),
        ]);
        const statuses = [a.status, b.status];
        expect(statuses.filter((s) => s === 303), `round ${round}: ${statuses}`).to.have.length(1);
        // The loser was refused either by the last-admin rule or, if the winner was quicker, as a non-admin.
        const loser = a.status === 303 ? b : a;
        expect(loser.status).to.be.oneOf([403, 409]);
        if (loser.status === 409) expect(loser.body).to.include('Hearth needs at least one admin.');
        const admins = (await app().users.list()).filter((u) => u.isAdmin && !u.disabled);
        expect(admins).to.have.length(1);
        // Hand the page back to boss for the next round.
        const left = admins[0]!.id === ann.id ? ann : bob;
        expect((await post(left.http, `/admin/people/${boss.id}/make-admin`)).status).to.equal(303);
        expect((await post(boss.http, `/admin/people/${left.id}/remove-admin`)).status).to.equal(303);
      }
    });

    it('Make admin and Remove admin change what the person may open at once', async () => {
      const cy = await world.person('cy');
      expect((await cy.http.get('/admin')).status).to.equal(403);
      const made = await post(boss.http, `/admin/people/${cy.id}/make-admin`);
      expect(made.status).to.equal(303);
      expect(made.headers.location).to.equal('/admin#people');
      const page = await boss.http.get('/admin');
      expect(page.body).to.match(/role="status"[\s\S]*is now an admin\./);
      expect(page.body).to.include(`aria-label="Remove admin: ${label(cy)}"`);
      expect((await cy.http.get('/admin')).status).to.equal(200);
      expect((await post(boss.http, `/admin/people/${cy.id}/remove-admin`)).status).to.equal(303);
      expect((await cy.http.get('/admin')).status).to.equal(403);
    });
  });

  describe('registration', () => {
    afterEach(async () => {
      await post(boss.http, '/admin/registration', { mode: 'open' });
    });

    it('Closed and Invite only refuse plain registration at once, on every instance; Open lets people in again', async () => {
      const second = await startTestHearth({}, { flush: false });
      const there = new HttpClient(second.origin, world.ca);
      try {
        const anon = world.client();
        expect((await post(boss.http, '/admin/registration', { mode: 'closed' })).status).to.equal(303);
        for (const c of [anon, there]) {
          const page = await c.get('/register');
          expect(page.status).to.equal(403);
          expect(page.body).to.include('Registration is closed on this Hearth.');
          expect(page.body).to.not.include('name="password"');
          expect((await c.get('/login')).body).to.not.include('Create an account');
        }
        const closed = await anon.postForm('/register', { _csrf: await anon.csrfToken('/login'), username: 'sneaky1', displayName: 'Sneaky', password: PASSWORD });
        expect(closed.status).to.equal(403);
        expect(closed.body).to.include('Registration is closed on this Hearth.');

        expect((await post(boss.http, '/admin/registration', { mode: 'invite' })).status).to.equal(303);
        const plain = await there.get('/register');
        expect(plain.status).to.equal(403);
        expect(plain.body).to.include('New accounts need an invite link');
        expect((await there.get('/login')).body).to.include('Ask whoever runs this Hearth for an invite link.');
        const _csrf = await there.csrfToken('/login');
        const refused = await there.postForm('/register', { _csrf, username: 'sneaky2', displayName: 'Sneaky', password: PASSWORD });
        expect(refused.status).to.equal(403);
        expect(await app().users.findByUsername('sneaky2')).to.equal(null);

        expect((await post(boss.http, '/admin/registration', { mode: 'open' })).status).to.equal(303);
        expect((await there.get('/login')).body).to.include('Create an account');
        expect((await there.register('welcome1')).status).to.equal(303);
        const log = await new AdminLog(app().services.redis).latest(3);
        expect(log.map((e) => e.target)).to.deep.equal(['Open', 'Invite only', 'Closed']);
        expect(log.every((e) => e.action === 'registration-changed' && e.actor === 'BOSS (boss)')).to.equal(true);
      } finally {
        await there.close();
        await second.close();
      }
    });

    it('refuses a mode it does not know, saying what to choose', async () => {
      const r = await post(boss.http, '/admin/registration', { mode: 'everyone' });
      expect(r.status).to.equal(400);
      expect(r.body).to.include('Choose Open, Closed or Invite only.');
      expect((await world.client().get('/register')).status).to.equal(200);
    });
  });

  describe('invitations', () => {
    before(async () => {
      await post(boss.http, '/admin/registration', { mode: 'closed' });
    });
    after(async () => {
      await post(boss.http, '/admin/registration', { mode: 'open' });
    });

    it('an invite link opens registration while it is closed, works once, then says "This invitation has been used"', async () => {
      const made = await post(boss.http, '/admin/invites', { uses: '1', expiry: '1d' });
      expect(made.status).to.equal(303);
      expect(made.headers.location).to.equal('/admin#invites');
      const page = await boss.http.get('/admin');
      expect(page.body).to.include('Invite link created (single use, valid 1 day)');
      const link = linkOnPage(page.body, 'register');
      expect(link).to.match(/^\/register\?invite=[A-Za-z0-9_-]{22}$/);
      // Shown once: the next load of the page no longer has it.
      expect((await boss.http.get('/admin')).body).to.not.include(link.replace('/register?', ''));

      const guest = world.client();
      const form = await guest.get(link);
      expect(form.status).to.equal(200);
      expect(form.body).to.include('name="invite"');
      expect(form.body).to.include('You have been invited');
      expect((await registerWith(guest, link, 'guest1')).status).to.equal(303);
      expect(await app().users.findByUsername('guest1')).to.not.equal(null);
      expect((await guest.get('/')).body).to.include('GUEST1');

      const late = world.client();
      const again = await late.get(link);
      expect(again.status).to.equal(410);
      expect(again.body).to.include('This invitation has been used.');
      expect(again.body).to.not.include('name="password"');
      const sneaky = await registerWith(late, link, 'guest2');
      expect(sneaky.status).to.equal(410);
      expect(sneaky.body).to.include('This invitation has been used.');
      expect(await app().users.findByUsername('guest2')).to.equal(null);
    });

    it('an unknown, revoked or expired link says "This invitation is not valid any more. Ask for a new one."', async () => {
      const store = new InviteStore(app().services.redis);
      const revoked = await store.create({ uses: 3, expiry: '7d', createdBy: 'BOSS (boss)' });
      const expired = await store.create({ uses: 3, expiry: '1h', createdBy: 'BOSS (boss)' });
      const page = await boss.http.get('/admin');
      expect(page.body).to.include(`aria-label="Revoke invite ${revoked!.id.slice(0, 8)}"`);
      expect((await post(boss.http, `/admin/invites/${revoked!.id}/revoke`)).status).to.equal(303);
      expect((await boss.http.get('/admin')).body).to.include('Invite link revoked.');
      await withRawRedis((r) => r.pExpire(`invite:${expired!.id}`, 1));
      await until(async () => (await store.state(expired!.token)) === 'unknown', 'the invite to expire');
      const hostile = '<script>alert(1)</script>';
      for (const token of [revoked!.token, expired!.token, 'A'.repeat(22), hostile]) {
        const r = await world.client().get(`/register?invite=${encodeURIComponent(token)}`);
        expect(r.status, token).to.equal(410);
        expect(r.body).to.include('This invitation is not valid any more. Ask for a new one.');
        expect(r.body).to.not.include(hostile);
        expect(r.body).to.not.include('name="password"');
      }
      const log = await new AdminLog(app().services.redis).latest(1);
      expect(log[0]).to.include({ action: 'invite-revoked', target: 'an invite link made by BOSS (boss)' });
    });

    it('two people racing for the last use of a link: exactly one account is made', async () => {
      const store = new InviteStore(app().services.redis);
      for (let round = 0; round < 3; round++) {
        const invite = await store.create({ uses: 1, expiry: '1h', createdBy: 'BOSS (boss)' });
        const link = `/register?invite=${invite!.token}`;
        const [a, b] = [world.client(), world.client()];
        const names = [`racer${round}a`, `racer${round}b`];
        const [ra, rb] = await Promise.all([registerWith(a, link, names[0]!), registerWith(b, link, names[1]!)]);
        expect([ra.status, rb.status].sort()).to.deep.equal([303, 410]);
        expect((ra.status === 410 ? ra : rb).body).to.include('This invitation has been used.');
        const made = await Promise.all(names.map((n) => app().users.findByUsername(n)));
        expect(made.filter(Boolean)).to.have.length(1);
      }
    });

    it('an N-use link counts down, and a use that made no account (name taken) is given back', async () => {
      expect((await post(boss.http, '/admin/invites', { uses: '2', expiry: '1h' })).status).to.equal(303);
      const link = linkOnPage((await boss.http.get('/admin')).body, 'register');
      const taken = await registerWith(world.client(), link, 'boss');
      expect(taken.status).to.equal(409);
      expect(taken.body).to.include('That username is taken');
      expect((await registerWith(world.client(), link, 'multi1')).status).to.equal(303);
      expect((await boss.http.get('/admin')).body).to.match(/1 of 2/);
      expect((await registerWith(world.client(), link, 'multi2')).status).to.equal(303);
      expect((await registerWith(world.client(), link, 'multi3')).status).to.equal(410);
    });

    it('refuses bad uses and expiries, and more than 100 live links', async () => {
      for (const uses of ['0', '101', '-1', '1e2', 'many', '']) {
        const r = await post(boss.http, '/admin/invites', { uses, expiry: '1d' });
        expect(r.status, uses).to.equal(400);
        expect(r.body).to.include('Choose from 1 to 100 uses.');
      }
      const badExpiry = await post(boss.http, '/admin/invites', { uses: '1', expiry: '1y' });
      expect(badExpiry.status).to.equal(400);
      const store = new InviteStore(app().services.redis);
      const live = (await store.list()).length;
      for (let i = live; i < MAX_LIVE_INVITES; i++) expect(await store.create({ uses: 1, expiry: '1h', createdBy: 'test' })).to.not.equal(null);
      const full = await post(boss.http, '/admin/invites', { uses: '1', expiry: '1d' });
      expect(full.status).to.equal(409);
      expect(full.body).to.include(`There are already ${MAX_LIVE_INVITES} live invite links.`);
      expect(full.body).to.include('role="alert"');
      for (const i of await store.list()) await store.revoke(i.id);
      expect((await post(boss.http, '/admin/invites', { uses: '1', expiry: '1d' })).status).to.equal(303);
    });
  });

  describe('people', () => {
    it('Disable signs the person out everywhere at once (pages and sockets), and sign-in then says "This account is disabled."', async () => {
      const dee = await world.person('dee');
      const other = world.client();
      expect((await other.login(dee.name.toLowerCase(), PASSWORD)).status).to.equal(303);
      const tab = await dee.tab();
      const page = await boss.http.get('/admin');
      expect(page.body).to.include(`aria-label="Disable ${label(dee)}"`);
      const r = await post(boss.http, `/admin/people/${dee.id}/disable`);
      expect(r.status).to.equal(303);
      expect((await tab.waitClosed()).code).to.equal(CloseCode.SessionEnded);
      for (const c of [dee.http, other]) {
        const home = await c.get('/');
        expect(home.status).to.equal(303);
        expect(home.headers.location).to.match(/^\/login/);
      }
      const signIn = await world.client().login(dee.name.toLowerCase(), PASSWORD);
      expect(signIn.status).to.equal(403);
      expect(signIn.body).to.include('This account is disabled.');
      const after = (await boss.http.get('/admin')).body;
      expect(after).to.include(`Disabled ${label(dee)}. They were signed out everywhere.`);
      expect(after).to.include(`aria-label="Enable ${label(dee)}"`);

      expect((await post(boss.http, `/admin/people/${dee.id}/enable`)).status).to.equal(303);
      expect((await world.client().login(dee.name.toLowerCase(), PASSWORD)).status).to.equal(303);
      const log = await new AdminLog(app().services.redis).latest(2);
      expect(log.map((e) => [e.action, e.target])).to.deep.equal([['enabled', label(dee)], ['disabled', label(dee)]]);
    });

    it('a reset link signs in with the new password, signs out the person\'s other sessions, and works only once', async () => {
      const fox = await world.person('fox');
      const tab = await fox.tab();
      const made = await post(boss.http, `/admin/people/${fox.id}/reset-password`);
      expect(made.status).to.equal(303);
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.include(`Password reset link for ${label(fox)} created.`);
      const link = linkOnPage(page, 'reset');

      const visitor = world.client();
      const form = await visitor.get(link);
      expect(form.status).to.equal(200);
      expect(form.body).to.include('Choose a new password');
      expect(form.body).to.include('New password');
      expect(form.headers['referrer-policy']).to.equal('no-referrer');
      const _csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
      const short = await visitor.postForm(link, { _csrf, password: 'short' });
      expect(short.status).to.equal(400);
      expect(short.body).to.include('Use 8–256 characters.');
      const noToken = await visitor.postForm(link, { password: 'a brand new password' });
      expect(noToken.status).to.equal(403);

      const done = await visitor.postForm(link, { _csrf, password: 'a brand new password' });
      expect(done.status).to.equal(303);
      expect(done.headers.location).to.equal('/');
      expect((await visitor.get('/')).body).to.include(fox.name);
      // Everyone else who was signed in as fox is out, sockets included.
      expect((await tab.waitClosed()).code).to.equal(CloseCode.SessionEnded);
      expect((await fox.http.get('/')).status).to.equal(303);
      expect((await world.client().login(fox.name.toLowerCase(), PASSWORD)).status).to.equal(401);
      expect((await world.client().login(fox.name.toLowerCase(), 'a brand new password')).status).to.equal(303);

      const twice = world.client();
      const gone = await twice.get(link);
      expect(gone.status).to.equal(410);
      expect(gone.body).to.include('This link has been used or has expired.');
      const replay = await twice.postForm(link, { _csrf: await twice.csrfToken('/login'), password: 'another new password' });
      expect(replay.status).to.equal(410);
      expect((await world.client().login(fox.name.toLowerCase(), 'another new password')).status).to.equal(401);
    });

    it('a new reset link replaces the old one; two uses at once: one wins', async () => {
      const gil = await world.person('gil');
      await post(boss.http, `/admin/people/${gil.id}/reset-password`);
      const first = linkOnPage((await boss.http.get('/admin')).body, 'reset');
      await post(boss.http, `/admin/people/${gil.id}/reset-password`);
      const second = linkOnPage((await boss.http.get('/admin')).body, 'reset');
      expect(second).to.not.equal(first);
      expect((await world.client().get(first)).status).to.equal(410);
      const [a, b] = [world.client(), world.client()];
      const tokens = await Promise.all([a.csrfToken(second), b.csrfToken(second)]);
      const [ra, rb] = await Promise.all([
        a.postForm(second, { _csrf: tokens[0], password: 'first new password' }),
        b.postForm(second, { _csrf: tokens[1], password: 'second new password' }),
      ]);
      expect([ra.status, rb.status].sort()).to.deep.equal([303, 410]);
      const winner = ra.status === 303 ? 'first new password' : 'second new password';
      expect((await world.client().login(gil.name.toLowerCase(), winner)).status).to.equal(303);
    });

    it('makes no reset link for a disabled account, and a live link stops working while the account is disabled', async () => {
      const hal = await world.person('hal');
      await post(boss.http, `/admin/people/${hal.id}/reset-password`);
      const link = linkOnPage((await boss.http.get('/admin')).body, 'reset');
      await post(boss.http, `/admin/people/${hal.id}/disable`);
      const refused = await post(boss.http, `/admin/people/${hal.id}/reset-password`);
      expect(refused.status).to.equal(409);
      expect(refused.body).to.include('enable the account first');
      const page = await world.client().get(link);
      expect(page.status).to.equal(403);
      expect(page.body).to.include('This account is disabled.');
      await post(boss.http, `/admin/people/${hal.id}/enable`);
      expect((await world.client().get(link)).status).to.equal(200);
      // A deleted account's link goes with it (the account work calls forget when it deletes one).
      await new PasswordResetStore(app().services.redis).forget(hal.id);
      expect((await world.client().get(link)).status).to.equal(410);
      const keys = await withRawRedis((r) => r.keys('reset:*'));
      expect(keys.filter((k) => k.includes(hal.id))).to.deep.equal([]);
    });

    it('lists every account with its names, dates and badges, escaping what people typed', async () => {
      const c = world.client();
      expect((await c.register('mallory', PASSWORD, '<img src=x onerror=alert(1)>')).status).to.equal(303);
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.not.include('<img src=x');
      expect(page).to.include('&lt;img src=x onerror=alert(1)&gt;');
      for (const u of await app().users.list()) expect(page, u.username).to.include(`>${u.username}<`);
      expect(page).to.include('>Admin<');
    });
  });

  describe('rooms', () => {
    it('Delete room frees its members at once and the room is gone', async () => {
      const ivy = await world.person('ivy');
      const jon = await world.person('jon');
      const room = await app().rooms.create({ name: 'Book club', ownerId: ivy.id, capacity: 4, passcodeHash: null });
      const [a, b] = [await ivy.tab(), await jon.tab()];
      await a.request({ type: 'join', room: room.slug }, 'joined');
      await b.request({ type: 'join', room: room.slug }, 'joined');
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.include('aria-label="Delete room Book club"');
      expect(page).to.match(/Book club[\s\S]*IVY\d+[\s\S]*data-label="In it now">2</);
      const closedA = a.next('room-closed');
      const closedB = b.next('room-closed');
      const r = await post(boss.http, `/admin/rooms/${room.slug}/delete`);
      expect(r.status).to.equal(303);
      expect((await closedA).room).to.equal(room.slug);
      expect((await closedB).room).to.equal(room.slug);
      expect(await app().rooms.get(room.slug)).to.equal(null);
      expect(await app().rooms.memberCount(room.slug)).to.equal(0);
      expect((await app().rooms.peer(b.peerId))!.room).to.equal(null);
      expect((await ivy.http.get(`/r/${room.slug}`)).status).to.equal(404);
      const log = await new AdminLog(app().services.redis).latest(1);
      expect(log[0]).to.include({ action: 'room-deleted', target: `Book club (owned by ${label(ivy)})` });
    });
  });

  describe('the action log', () => {
    it('keeps names, never account ids', async () => {
      const entries = await new AdminLog(app().services.redis).latest(ADMIN_LOG_MAX);
      expect(entries.length).to.be.above(10);
      const ids = (await app().users.list()).map((u) => u.id);
      const text = JSON.stringify(entries);
      for (const id of ids) expect(text).to.not.include(id);
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.include('Action log');
      expect(page).to.include('Made admin:');
    });

    it(`keeps the last ${ADMIN_LOG_MAX} entries and shows the newest 100`, async () => {
      const log = new AdminLog(app().services.redis);
      for (let i = 0; i < ADMIN_LOG_MAX + 5; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, ADMIN_LOG_MAX + 5 - i) }, (_, k) => log.append({ actor: 'test', action: 'enabled', target: `n${i + k}` })));
      }
      expect(await log.size()).to.equal(ADMIN_LOG_MAX);
      const page = (await boss.http.get('/admin')).body;
      expect(page).to.include(`Showing the latest 100 of ${ADMIN_LOG_MAX} entries`);
      expect(page.match(/<time datetime=[^>]+>[^<]+<\/time><\/td><td data-label="Who">/g)).to.have.length(100);
    });
  });
});

describe('REGISTRATION as the starting value', function () {
  this.timeout(30_000);
  let hearth: TestHearth;
  const world = useWorld(async () => (hearth = await startTestHearth({ REGISTRATION: 'invite' })));

  it('holds until an admin changes it (the first account still needs a way in: an admin made by npm run admin)', async () => {
    const page = await world.client().get('/register');
    expect(page.status).to.equal(403);
    expect(page.body).to.include('New accounts need an invite link');
    // What an admin sets is stored and wins over the variable, here and on a new instance.
    const owner = await hearth.app.users.create({ username: 'owner', displayName: 'Owner', passwordHash: await hearth.app.services.hasher.hash(PASSWORD) });
    expect(owner!.isAdmin).to.equal(true);
    const admin = world.client();
    expect((await admin.login('owner', PASSWORD)).status).to.equal(303);
    expect((await post(admin, '/admin/registration', { mode: 'open' })).status).to.equal(303);
    const second = await startTestHearth({ REGISTRATION: 'closed' }, { flush: false });
    const there = new HttpClient(second.origin, world.ca);
    try {
      expect((await there.get('/register')).status).to.equal(200);
    } finally {
      await there.close();
      await second.close();
    }
  });
});

/** Ran — a finished command: exit code and what it printed. */
interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** npmRunAdmin — `npm run -s admin -- <args>` exactly as an operator types it, with Hearth's environment `env`. */
async function npmRunAdmin(args: string[], env: Record<string, string>): Promise<Ran> {
  const base = { ...process.env };
  for (const name of ['REDIS_URL', 'DATA_DIR', 'REGISTRATION']) delete base[name];
  const child = track(spawn('npm', ['run', '-s', 'admin', '--', ...args], { cwd: ROOT_DIR, env: { ...base, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

/** npmStart — the built server as `npm start` runs it; resolves once it prints its banner. */
async function npmStart(env: Record<string, string>): Promise<ChildProcess> {
  const main = path.join(ROOT_DIR, 'dist', 'server', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does)`);
  const child = track(spawn(process.execPath, [main], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await until(() => out.includes('Hearth is running') || child.exitCode !== null, 'the start-up banner', 20_000);
  if (child.exitCode !== null) throw new Error(`Hearth did not start: ${err}`);
  return child;
}

describe('npm run admin -- <username> (the real command)', function () {
  this.timeout(60_000);

  describe('with REDIS_URL (an external Redis)', () => {
    const world = useWorld();

    it('makes an existing account admin (any case), enables a disabled one, and writes the action log', async () => {
      await world.person('first');
      const kim = await world.person('kim');
      expect((await kim.http.get('/admin')).status).to.equal(403);
      const env = { REDIS_URL: sharedRedis().url };
      const r = await npmRunAdmin([kim.name], env);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.include(`Made ${kim.name} (${kim.name.toLowerCase()}) an admin.`);
      expect(r.err).to.equal('');
      expect((await kim.http.get('/admin')).status).to.equal(200);

      const lou = await world.person('lou');
      await world.hearth.app.users.setRole(lou.id, 'disable');
      const both = await npmRunAdmin([lou.name.toLowerCase()], env);
      expect(both.code, both.err).to.equal(0);
      expect(both.out).to.include(`Enabled ${lou.name} (${lou.name.toLowerCase()})`);
      expect(await world.hearth.app.users.findById(lou.id)).to.include({ isAdmin: true, disabled: false });
      const again = await npmRunAdmin([lou.name.toLowerCase()], env);
      expect(again.out).to.include('is already an admin.');

      const log = await new AdminLog(world.hearth.app.services.redis).latest(3);
      expect(log.map((e) => [e.actor, e.action, e.target])).to.deep.equal([
        ['npm run admin', 'made-admin', `${lou.name} (${lou.name.toLowerCase()})`],
        ['npm run admin', 'enabled', `${lou.name} (${lou.name.toLowerCase()})`],
        ['npm run admin', 'made-admin', `${kim.name} (${kim.name.toLowerCase()})`],
      ]);
    });

    it('refuses an unknown username, and no username, with one clear line and a non-zero exit', async () => {
      const unknown = await npmRunAdmin(['nobody-here'], { REDIS_URL: sharedRedis().url });
      expect(unknown.code).to.equal(1);
      expect(unknown.err.trim()).to.equal('admin: no account is named "nobody-here". Use the username people sign in with.');
      const none = await npmRunAdmin([], { REDIS_URL: sharedRedis().url });
      expect(none.code).to.equal(64);
      expect(none.err.trim()).to.equal('admin: usage: npm run admin -- <username>');
      const noData = await npmRunAdmin(['kim'], { DATA_DIR: path.join(tempDir('empty'), 'nothing') });
      expect(noData.code).to.equal(1);
      expect(noData.err).to.match(/^admin: no Hearth data in DATA_DIR=/);
    });
  });

  describe("with Hearth's own Redis in DATA_DIR", () => {
    const clients: HttpClient[] = [];
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
    });
    const browserFor = async (origin: string) => {
      const c = new HttpClient(origin, (await testTls()).ca);
      clients.push(c);
      return c;
    };

    for (const deep of [false, true]) {
      it(deep ? 'reaches a running Hearth whose DATA_DIR is too deep for a unix socket (its Redis on a loopback port)' : 'reaches the running Hearth\'s Redis (and leaves it running), and starts and stops it when Hearth is not running', async () => {
        // Over 100 characters, the managed Redis listens on a loopback TCP port instead of a socket.
        const dataDir = deep ? path.join(tempDir('admin-deep'), 'd'.repeat(60), 'e'.repeat(40)) : tempDir('admin-data');
        const env = { PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir, CERTS_DIR: (await testTls()).certsDir };
        const origin = `https://127.0.0.1:${env.PORT}`;
        let hearth = await npmStart(env);
        try {
          const owner = await browserFor(origin);
          expect((await owner.register('owner')).status).to.equal(303);
          const lee = await browserFor(origin);
          expect((await lee.register('lee')).status).to.equal(303);
          expect((await lee.get('/admin')).status).to.equal(403);
          const redisPid = childPid(hearth.pid!, 'redis-server');

          const r = await npmRunAdmin(['lee'], { DATA_DIR: dataDir });
          expect(r.code, r.err).to.equal(0);
          expect(r.out).to.include("Using the running Hearth's Redis.");
          expect(r.out).to.include('Made lee (lee) an admin.');
          expect((await lee.get('/admin')).status).to.equal(200);
          expect(running(redisPid!), 'the running Hearth keeps its Redis').to.equal(true);
          if (deep) return;

          // Hearth stopped: the command starts the managed Redis on DATA_DIR, and stops it again.
          await stopChild(hearth);
          const mo = await browserFor(origin);
          const stopped = await npmRunAdmin(['owner'], { DATA_DIR: dataDir });
          expect(stopped.code, stopped.err).to.equal(0);
          expect(stopped.out).to.include('owner (owner) is already an admin.');
          expect(stopped.out).to.include('Hearth is not running; started and stopped again for this');
          expect(existsSync(path.join(dataDir, LOCK_FILE)), 'the DATA_DIR lock is released').to.equal(false);
          hearth = await npmStart(env);
          expect((await mo.register('moe')).status).to.equal(303);
          await stopChild(hearth);
          const made = await npmRunAdmin(['moe'], { DATA_DIR: dataDir });
          expect(made.code, made.err).to.equal(0);
          expect(made.out).to.include('Made moe (moe) an admin.');
          hearth = await npmStart(env);
          // Sessions live in Redis: moe is still signed in, and now an admin.
          expect((await mo.get('/admin')).status).to.equal(200);
          const page = (await mo.get('/admin')).body;
          expect(page).to.match(/npm run admin<\/td><td data-label="What">Made admin: moe \(moe\)/);
        } finally {
          await stopChild(hearth);
        }
      });
    }
  });
});
