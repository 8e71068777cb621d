import { expect } from 'chai';
import { SESSION_COOKIE } from '../../src/server/auth/session.js';
import { DELETED_USER } from '../../src/server/store/chat.js';
import { PasswordResetStore } from '../../src/server/store/password-resets.js';
import { CloseCode } from '../../src/shared/protocol.js';
import { startTestHearth } from '../helpers/hearth.js';
import type { HttpClient, Reply } from '../helpers/http-client.js';
import { until, useWorld, type Person } from '../helpers/world.js';
import { TestSocket } from '../helpers/ws-client.js';

const PASSWORD = 'correct horse battery';

/** sessionId — the session id behind a client's session cookie (s:<id>.<signature>). */
const sessionId = (c: HttpClient) => decodeURIComponent(c.cookies.get(SESSION_COOKIE) ?? '').slice(2).split('.')[0]!;

/** statusNotice — the text of the page's role="status" notices (the toasts region is empty). */
const notices = (r: Reply) => [...r.body.matchAll(/role="status"[^>]*>(?:<svg[\s\S]*?<\/svg>)?<span>([^<]*)<\/span>/g)].map((m) => m[1]);

/** signOutLabels — the accessible names of the per-device Sign out buttons on the page. */
const signOutLabels = (r: Reply) => [...r.body.matchAll(/<button[^>]*aria-label="([^"]*)"[^>]*>Sign out<\/button>/g)].map((m) => m[1]!);

describe('the Account page (real HTTPS + Redis)', function () {
  this.timeout(60_000);
  const world = useWorld(() => startTestHearth(
    { RING_TIMEOUT_SECONDS: '30' },
    { throttle: { perUserAndIp: 3, perIpPerDay: 1000, blockSeconds: 60 }, heartbeatMs: 500 },
  ));
  // Sockets opened on clients other than a Person's own (a second device), closed after each test.
  const extra: TestSocket[] = [];
  afterEach(() => {
    for (const s of extra.splice(0)) s.close();
  });

  let admin: Person;
  before(async () => {
    // The first account is the admin; every other person in this file is not.
    admin = await world.person('admin');
  });

  /** device — the same person signed in on another client. */
  async function device(p: Person): Promise<HttpClient> {
    const c = world.client();
    const username = p.name.toLowerCase();
    expect((await c.login(username, PASSWORD)).status).to.equal(303);
    return c;
  }

  async function socketOn(c: HttpClient): Promise<TestSocket> {
    const s = await TestSocket.open(c, world.ca);
    extra.push(s);
    return s;
  }

  async function post(c: HttpClient, path: string, fields: Record<string, string> = {}): Promise<Reply> {
    return c.postForm(path, { _csrf: await c.csrfToken('/account'), ...fields });
  }

  const deviceIdOf = async (p: Person, c: HttpClient) =>
    (await world.hearth.app.accountSessions.list(p.id, sessionId(c))).find((d) => d.current)!.deviceId;

  const POSTS: [string, Record<string, string>][] = [
    ['/account/name', { displayName: 'Someone Else' }],
    ['/account/password', { currentPassword: PASSWORD, newPassword: 'a new password' }],
    ['/account/devices/AAAAAAAAAAAAAAAA/sign-out', {}],
    ['/account/sign-out-others', {}],
    ['/account/delete', { password: PASSWORD }],
  ];

  describe('refuses', () => {
    it('a visitor who is not signed in: the page sends them to sign in, every form answers 401', async () => {
      const c = world.client();
      const page = await c.get('/account');
      expect(page.status).to.equal(303);
      expect(page.headers.location).to.equal('/login?next=%2Faccount');
      const _csrf = await c.csrfToken('/login');
      for (const [path, fields] of POSTS) {
        expect((await c.postForm(path, { _csrf, ...fields })).status, path).to.equal(401);
      }
    });

    it('every form without a CSRF token, or with another session\'s, with 403 and changes nothing', async () => {
      const [ana, bob] = [await world.person('ana'), await world.person('bob')];
      const bobsToken = await bob.http.csrfToken('/account');
      for (const [path, fields] of POSTS) {
        const none = await ana.http.postForm(path, fields);
        expect(none.status, `${path} without a token`).to.equal(403);
        expect(none.body).to.include('This form was out of date');
        expect((await ana.http.postForm(path, { _csrf: bobsToken, ...fields })).status, `${path} with another session's token`).to.equal(403);
      }
      const still = await world.hearth.app.users.findById(ana.id);
      expect(still?.displayName).to.equal(ana.name);
      expect((await ana.http.get('/account')).status).to.equal(200);
      expect(await world.hearth.app.users.findByUsername(ana.name.toLowerCase())).to.not.equal(null);
    });

    it('another account\'s device, a device that does not exist and a malformed id, all alike (404), and signs nobody out', async () => {
      const [ana, bob] = [await world.person('ana'), await world.person('bob')];
      const bobsDevice = await deviceIdOf(bob, bob.http);
      const answers = await Promise.all([bobsDevice, 'AAAAAAAAAAAAAAAA', '..%2F..%2Fx', 'x'.repeat(300)].map(async (id) => post(ana.http, `/account/devices/${id}/sign-out`)));
      for (const r of answers) {
        expect(r.status).to.equal(404);
        expect(r.body).to.include('That device does not exist.');
      }
      expect((await bob.http.get('/')).status, 'bob is still signed in').to.equal(200);
    });

    it('display names that registration refuses (unsafe, empty, too long), with a field error, keeping the old name', async () => {
      const ana = await world.person('ana');
      const cases: [string, string][] = [
        ['Eve\u200b', 'Remove the invisible or control characters'],
        ['A\u202eevil', 'Remove the invisible or control characters'],
        ['bell\u0007', 'Remove the invisible or control characters'],
        ['line\u2028break', 'Remove the invisible or control characters'],
        ['   ', 'Use 1–48 characters.'],
        ['x'.repeat(49), 'Use 1–48 characters.'],
        ['x'.repeat(5_000), 'Use 1–48 characters.'],
      ];
      for (const [name, message] of cases) {
        const r = await post(ana.http, '/account/name', { displayName: name });
        expect(r.status, JSON.stringify(name.slice(0, 20))).to.equal(400);
        expect(r.body).to.include(message);
        expect(r.body).to.include('Your display name was not saved.');
        expect(r.body).to.match(/id="account-display-name"[^>]*aria-invalid="true"/);
      }
      const oversize = await post(ana.http, '/account/name', { displayName: 'x'.repeat(20_000) });
      expect(oversize.status, 'larger than any form').to.equal(413);
      expect((await world.hearth.app.users.findById(ana.id))?.displayName).to.equal(ana.name);
    });

    it('a wrong current password (401), then counts it as a sign-in guess: past the limit even the right one waits (429)', async () => {
      const ana = await world.person('ana');
      for (let i = 1; i <= 3; i++) {
        const r = await post(ana.http, '/account/password', { currentPassword: `wrong ${i}`, newPassword: 'a new password' });
        expect(r.status).to.equal(401);
        expect(r.body).to.include('That is not your password.');
        expect(r.body).to.match(/id="account-current-password"[^>]*aria-invalid="true"/);
      }
      const blocked = await post(ana.http, '/account/password', { currentPassword: PASSWORD, newPassword: 'a new password' });
      expect(blocked.status).to.equal(429);
      expect(blocked.body).to.match(/Too many wrong passwords\. Try again in \d+ seconds\./);
      expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0);
      // Delete account asks for the password too: the same count.
      expect((await post(ana.http, '/account/delete', { password: PASSWORD })).status).to.equal(429);
      expect(await world.hearth.app.users.findById(ana.id)).to.not.equal(null);
      const user = await world.hearth.app.users.findByUsername(ana.name.toLowerCase());
      expect(await world.hearth.app.services.hasher.verify(user!.passwordHash, PASSWORD), 'the password is unchanged').to.equal(true);
      // Keyed on the account and the address, under the sign-in limits.
      expect(await world.hearth.redis.keys(`throttle:login:user-ip:${ana.id}|*`)).to.deep.equal([`throttle:login:user-ip:${ana.id}|127.0.0.1`]);
    });

    it('a new password that registration refuses, and a missing current password (400)', async () => {
      const ana = await world.person('ana');
      const short = await post(ana.http, '/account/password', { currentPassword: PASSWORD, newPassword: 'short' });
      expect(short.status).to.equal(400);
      expect(short.body).to.include('Use 8–256 characters.');
      const missing = await post(ana.http, '/account/password', { newPassword: 'a new password' });
      expect(missing.status).to.equal(400);
      expect(missing.body).to.include('Enter your current password.');
      const noPassword = await post(ana.http, '/account/delete', {});
      expect(noPassword.status).to.equal(400);
      expect(noPassword.body).to.include('Enter your password.');
    });

    it('to delete the only enabled admin while other accounts exist', async () => {
      const r = await post(admin.http, '/account/delete', { password: PASSWORD });
      expect(r.status).to.equal(409);
      expect(r.body).to.include('You are the only admin. Make someone else admin first.');
      expect(r.body).to.include('role="alert"');
      expect(await world.hearth.app.users.findById(admin.id)).to.not.equal(null);
      expect((await admin.http.get('/account')).status, 'still signed in').to.equal(200);
    });
  });

  it('shows the account\'s devices: this one marked, each other with a Sign out button of its own name', async () => {
    const ana = await world.person('ana');
    await device(ana);
    await device(ana);
    const page = await ana.http.get('/account');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Signed-in devices');
    expect(page.body.match(/This device/g)).to.have.length(1);
    expect(page.body).to.include('Unknown browser'); // undici says nothing we know
    expect(page.body).to.include('127.0.0.1');
    expect(page.body).to.include('just now');
    // The header's "Sign out" is the page's only button of that name: each device's says which
    // device (browser, address, when it signed in) and, if two read alike, a number.
    const labels = signOutLabels(page);
    expect(labels).to.have.length(2);
    expect(new Set(labels).size).to.equal(2);
    for (const l of labels) expect(l, JSON.stringify(labels)).to.match(/^Sign out Unknown browser \(127\.0\.0\.1\), signed in \d+ \w+ \d{4}, \d\d:\d\d( \(2\))?$/);
    expect(page.body).to.include('Sign out everywhere else');
  });

  it('saves a display name: pages and new sockets use it', async () => {
    const ana = await world.person('ana');
    const r = await post(ana.http, '/account/name', { displayName: '  Ana   María  ' });
    expect(r.status).to.equal(303);
    expect(r.headers.location).to.equal('/account?done=name');
    const page = await ana.http.get('/account?done=name');
    expect(notices(page)).to.deep.equal(['Your display name is saved.']);
    expect(page.body).to.include('value="Ana María"');
    expect((await world.hearth.app.users.findById(ana.id))?.displayName).to.equal('Ana María');
    const tab = await ana.tab();
    const welcome = tab.received.find((m) => m.type === 'welcome');
    expect(welcome).to.deep.include({ user: { userId: ana.id, displayName: 'Ana María' } });
    // Escaped like every name.
    await post(ana.http, '/account/name', { displayName: '<img src=x onerror=alert(1)>' });
    const hostile = await ana.http.get('/account');
    expect(hostile.body).to.not.include('<img src=x');
    expect(hostile.body).to.include('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('changes the password: every other device is signed out (pages and sockets), this one stays under a fresh session id', async () => {
    const ana = await world.person('ana');
    const phone = await device(ana);
    const phoneTab = await socketOn(phone);
    const oldSid = sessionId(ana.http);
    const r = await post(ana.http, '/account/password', { currentPassword: PASSWORD, newPassword: 'a brand new password' });
    expect(r.status).to.equal(303);
    expect(r.headers.location).to.equal('/account?done=password');

    expect((await phoneTab.waitClosed(10_000)).code).to.equal(CloseCode.SessionEnded);
    const phonePage = await phone.get('/');
    expect(phonePage.status).to.equal(303);
    expect(phonePage.headers.location).to.match(/^\/login/);

    // Session fixation: the session id changed, the old one is gone, and this device carries on.
    const newSid = sessionId(ana.http);
    expect(newSid).to.not.equal(oldSid);
    expect(await world.hearth.redis.exists(`sess:${oldSid}`)).to.equal(0);
    const page = await ana.http.get('/account?done=password');
    expect(page.status).to.equal(200);
    expect(notices(page)).to.deep.equal(['Your password is changed. Your other devices were signed out.']);
    const devices = await world.hearth.app.accountSessions.list(ana.id, newSid);
    expect(devices.map((d) => d.current)).to.deep.equal([true]);
    expect(page.body).to.include('This is the only device signed in to your account.');

    expect((await world.client().login(ana.name.toLowerCase(), PASSWORD)).status, 'the old password').to.equal(401);
    expect((await world.client().login(ana.name.toLowerCase(), 'a brand new password')).status, 'the new password').to.equal(303);
    const stored = await world.hearth.app.users.findByUsername(ana.name.toLowerCase());
    expect(stored!.passwordHash).to.match(/^\$argon2id\$/);
  });

  it('signs out one device (page and socket), leaving the others', async () => {
    const ana = await world.person('ana');
    const [phone, tablet] = [await device(ana), await device(ana)];
    const [phoneTab, tabletTab] = [await socketOn(phone), await socketOn(tablet)];
    const r = await post(ana.http, `/account/devices/${await deviceIdOf(ana, phone)}/sign-out`);
    expect(r.status).to.equal(303);
    expect(r.headers.location).to.equal('/account?done=device');
    expect((await phoneTab.waitClosed(10_000)).code).to.equal(CloseCode.SessionEnded);
    expect((await phone.get('/')).status).to.equal(303);
    expect((await tablet.get('/')).status).to.equal(200);
    expect(tabletTab.closed).to.equal(null);
    const page = await ana.http.get('/account?done=device');
    expect(notices(page)).to.deep.equal(['That device is signed out.']);
    expect(signOutLabels(page)).to.have.length(1);

    // This very device's own id: the same as Sign out.
    const self = await post(tablet, `/account/devices/${await deviceIdOf(ana, tablet)}/sign-out`);
    expect(self.status).to.equal(303);
    expect(self.headers.location).to.equal('/login?signedOut=1');
    expect((await tablet.get('/')).status).to.equal(303);
    expect((await tabletTab.waitClosed(10_000)).code).to.equal(CloseCode.SessionEnded);
  });

  it('signs out everywhere else', async () => {
    const ana = await world.person('ana');
    const [phone, tablet] = [await device(ana), await device(ana)];
    const tabs = [await socketOn(phone), await socketOn(tablet)];
    const mine = await ana.tab();
    const r = await post(ana.http, '/account/sign-out-others');
    expect(r.status).to.equal(303);
    expect(r.headers.location).to.equal('/account?done=others');
    for (const t of tabs) expect((await t.waitClosed(10_000)).code).to.equal(CloseCode.SessionEnded);
    for (const c of [phone, tablet]) expect((await c.get('/')).status).to.equal(303);
    const page = await ana.http.get('/account?done=others');
    expect(page.status).to.equal(200);
    expect(notices(page)).to.deep.equal(['Your other devices are signed out.']);
    expect(page.body).to.include('This is the only device signed in to your account.');
    expect(mine.closed, 'this device\'s socket stays').to.equal(null);
  });

  describe('Delete account', () => {
    /** traces — every Redis key whose name holds the account's id or username, or whose value holds its id or username (any type). */
    async function traces(id: string, username: string): Promise<string[]> {
      const redis = world.hearth.redis;
      const found: string[] = [];
      const mentions = (s: string) => s.includes(id) || s.toLowerCase().includes(username);
      for await (const keys of redis.scanIterator({ MATCH: '*', COUNT: 1000 })) {
        for (const key of keys) {
          if (mentions(key)) {
            found.push(`key name ${key}`);
            continue;
          }
          const type = await redis.type(key);
          let values: string[];
          if (type === 'string') values = [(await redis.get(key)) ?? ''];
          else if (type === 'hash') values = Object.entries(await redis.hGetAll(key)).flat();
          else if (type === 'list') values = await redis.lRange(key, 0, -1);
          else if (type === 'set') values = await redis.sMembers(key);
          else if (type === 'zset') values = await redis.zRange(key, 0, -1);
          else if (type === 'none') continue; // expired while we looked
          else throw new Error(`key ${key} has type ${type}, which this test does not read`);
          const hit = values.find(mentions);
          if (hit !== undefined) found.push(`${type} ${key}: ${hit.slice(0, 200)}`);
        }
      }
      return found;
    }

    async function ring(caller: TestSocket, calleeId: string, room?: string) {
      const reply = await caller.request({ type: 'ring', userId: calleeId, ...(room ? { room } : {}) }, 'ring-update');
      if (reply.type !== 'ring-update') throw new Error(`ring refused: ${JSON.stringify(reply)}`);
      return reply;
    }

    async function createRoom(c: HttpClient, name: string, passcode = ''): Promise<string> {
      const r = await c.postForm('/rooms', { _csrf: await c.csrfToken('/'), name, capacity: '6', passcode });
      expect(r.status, `create ${name}`).to.equal(303);
      return String(r.headers.location).slice('/r/'.length);
    }

    it('after a full life, leaves no key of the account in Redis but its chat lines, now from "Deleted user"; other people\'s data stays', async () => {
      const { app } = world.hearth;
      const zoe = await world.person('zoe.gone', { exact: true });
      const [bob, carol, dave] = [await world.person('bob'), await world.person('carol'), await world.person('dave')];
      const username = 'zoe.gone';

      // Two devices, a socket on each.
      const zoePhone = await device(zoe);
      const [z1, z2] = [await zoe.tab(), await socketOn(zoePhone)];
      const [b1, c1, d1] = [await bob.tab(), await carol.tab(), await dave.tab()];

      // Bob rings Zoe; she declines (a call record naming her as callee).
      const incoming = z1.next('ring-incoming');
      await ring(b1, zoe.id);
      const declined = [b1.next('ring-update', (m) => m.state === 'declined'), z1.next('ring-update', (m) => m.state === 'answered-elsewhere')];
      z1.send({ type: 'ring-answer', callId: (await incoming).callId, accept: false });
      await Promise.all(declined);

      // Zoe rings Bob and cancels: Bob has a missed call from her.
      const cancelled = await ring(z1, bob.id);
      expect(cancelled.state).to.equal('ringing');
      const bobMissed = b1.next('missed-calls');
      z1.send({ type: 'ring-cancel', callId: cancelled.callId });
      expect((await bobMissed).calls.map((c) => c.from.userId)).to.deep.equal([zoe.id]);

      // Zoe rings Bob, he accepts: a private call room she started, join links for both; both join.
      const bobRung = b1.next('ring-incoming');
      const accepted = z1.next('ring-update', (m) => m.state === 'accepted');
      await ring(z1, bob.id);
      b1.send({ type: 'ring-answer', callId: (await bobRung).callId, accept: true });
      const privateRoom = (await accepted).room!;
      expect((await z1.request({ type: 'join', room: privateRoom }, 'joined')).type).to.equal('joined');
      expect((await b1.request({ type: 'join', room: privateRoom }, 'joined')).type).to.equal('joined');

      // Carol rings Zoe while she is in the call: a missed call for Zoe. And Bob, for Bob.
      await ring(c1, zoe.id);
      await ring(c1, bob.id);
      await until(async () => (await app.calls.missed(zoe.id)).length === 1 && (await app.calls.missed(bob.id)).length === 2, 'missed calls recorded');

      // Rooms: Zoe's own; Bob's, where Zoe chats from her phone (socket) and from a form; Bob's with a passcode, which Zoe gets wrong.
      const zoesRoom = await createRoom(zoe.http, 'Zoe\'s den');
      const bobsRoom = await createRoom(bob.http, 'Bob\'s kitchen');
      const bobsLocked = await createRoom(bob.http, 'Bob\'s study', 'sesame');
      expect((await z2.request({ type: 'join', room: bobsRoom }, 'joined')).type).to.equal('joined');
      await z2.request({ type: 'chat', text: 'hello from zoe' }, 'chat');
      await bob.http.postForm(`/r/${bobsRoom}/chat`, { _csrf: await bob.http.csrfToken(`/r/${bobsRoom}`), text: 'hello from bob' });
      await zoe.http.postForm(`/r/${bobsRoom}/chat`, { _csrf: await zoe.http.csrfToken(`/r/${bobsRoom}`), text: 'zoe again, no JS' });
      expect((await zoe.http.postForm(`/r/${bobsLocked}/passcode`, { _csrf: await zoe.http.csrfToken(`/r/${bobsLocked}`), passcode: 'wrong' })).status).to.equal(401);

      // Do not disturb, on for Zoe and for Dave.
      z2.send({ type: 'dnd', on: true });
      await z2.next('dnd');
      d1.send({ type: 'dnd', on: true });
      await d1.next('dnd');

      // Guesses: a wrong sign-in by her username, a wrong password on the Account page.
      expect((await world.client().login(username, 'not it')).status).to.equal(401);
      expect((await post(zoe.http, '/account/password', { currentPassword: 'not it', newPassword: 'whatever password' })).status).to.equal(401);

      // Bob locks his kitchen while she is in it (she may come back), and keeps her out of his study for a while.
      expect(await app.rooms.setLocked(bobsRoom, true)).to.equal(true);
      expect(await app.rooms.ban(bobsLocked, zoe.id)).to.equal(true);

      // An admin made her a password reset link.
      await new PasswordResetStore(world.hearth.redis).create(zoe.id);

      // And a ring in progress when she goes: Zoe rings Carol into the call.
      const carolRung = c1.next('ring-incoming');
      await ring(z1, carol.id, privateRoom);
      await carolRung;

      const before = await traces(zoe.id, username);
      expect(before.length, before.join('\n')).to.be.greaterThan(15);

      // Delete.
      const carolHears = c1.next('ring-update', (m) => m.state === 'cancelled', 15_000);
      const bobHearsClosed = b1.next('room-closed', (m) => m.room === privateRoom, 15_000);
      const r = await post(zoe.http, '/account/delete', { password: PASSWORD });
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/login?deleted=1');
      expect(zoe.http.cookies.has(SESSION_COOKIE), 'the session cookie is cleared').to.equal(false);
      const login = await zoe.http.get('/login?deleted=1');
      expect(notices(login)).to.deep.equal(['Your account is deleted.']);
      for (const t of [z1, z2]) expect((await t.waitClosed(10_000)).code).to.equal(CloseCode.SessionEnded);
      expect((await zoePhone.get('/')).status).to.equal(303);
      await carolHears;
      await bobHearsClosed;

      // Nothing left: a socket closing may still write for a moment (its records lapse within three heartbeats).
      let left: string[] = [];
      await until(async () => (left = await traces(zoe.id, username)).length === 0, 'no trace of the account', 20_000)
        .catch(() => expect.fail(`traces left:\n${left.join('\n')}`));

      // Her chat lines stay, from "Deleted user" with no account; Bob's line is untouched.
      const history = await app.chat.history(bobsRoom);
      expect(history.map((m) => [m.text, m.displayName, m.userId])).to.deep.equal([
        ['hello from zoe', 'Deleted user', DELETED_USER.userId],
        ['hello from bob', bob.name, bob.id],
        ['zoe again, no JS', 'Deleted user', DELETED_USER.userId],
      ]);
      const page = await bob.http.get(`/r/${bobsRoom}`);
      expect(page.body).to.include('Deleted user');
      expect(page.body).to.include('hello from zoe');

      // Her rooms are gone; other people's stay, with what is theirs.
      expect(await app.rooms.get(zoesRoom)).to.equal(null);
      expect(await app.rooms.get(privateRoom)).to.equal(null);
      expect(await app.rooms.get(bobsRoom)).to.not.equal(null);
      expect(await app.rooms.get(bobsLocked)).to.not.equal(null);
      expect((await app.rooms.get(bobsRoom))?.locked, 'Bob\'s room stays locked').to.equal(true);
      expect((await app.calls.missed(bob.id)).map((m) => m.from.userId)).to.deep.equal([carol.id]);
      expect(await app.calls.dnd(dave.id)).to.equal(true);
      for (const p of [bob, carol, dave]) expect((await p.http.get('/')).status, p.name).to.equal(200);
      expect(b1.closed).to.equal(null);
      expect(await app.users.findById(bob.id)).to.not.equal(null);

      // The account is gone: no sign-in, and the name is free again (a new account, a new id).
      expect((await world.client().login(username, PASSWORD)).status).to.equal(401);
      const again = world.client();
      expect((await again.register(username, PASSWORD, 'Zoe Again')).status).to.equal(303);
      expect((await app.users.findByUsername(username))!.id).to.not.equal(zoe.id);
    });
  });
});
