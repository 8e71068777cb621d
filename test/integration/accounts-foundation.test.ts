// Accounts under administration: the admin set and its last-admin rule, disabled accounts, and one account's sessions ended everywhere at once.
import { expect } from 'chai';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { createClient } from 'redis';
import { CloseCode } from '../../src/shared/protocol.js';
import { MAX_SESSIONS_PER_USER } from '../../src/server/store/user-sessions.js';
import { startTestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { sharedRedis } from '../helpers/root-hooks.js';
import { TestSocket } from '../helpers/ws-client.js';
import { useWorld, until } from '../helpers/world.js';

describe('accounts under administration (real HTTPS + Redis)', function () {
  this.timeout(30_000);
  const world = useWorld();

  it('never leaves Hearth without an enabled admin, even when two admins demote each other at once', async () => {
    const ana = await world.person('ana'); // the first account: admin
    const ben = await world.person('ben');
    const users = world.hearth.app.users;
    expect(await users.setRole(ben.id, 'admin')).to.equal('ok');
    const results = await Promise.all([users.setRole(ana.id, 'demote'), users.setRole(ben.id, 'demote')]);
    expect(results.filter((r) => r === 'ok')).to.have.length(1);
    expect(results).to.include('last-admin');
    const admins = (await users.list()).filter((u) => u.isAdmin && !u.disabled);
    expect(admins).to.have.length(1);
    // Disabling or deleting the last enabled admin is refused the same way.
    expect(await users.setRole(admins[0]!.id, 'disable')).to.equal('last-admin');
    expect(await users.remove(admins[0]!.id)).to.equal('last-admin');
    expect(await users.setRole('no-such-id', 'admin')).to.equal('not-found');
  });

  it('lists accounts written before the account list existed (the index is built from the accounts)', async () => {
    await world.person('cas');
    const raw = createClient({ url: sharedRedis().url });
    await raw.connect();
    try {
      await raw.del(['users:all', 'users:admins', 'meta:user-index']);
    } finally {
      await raw.close();
    }
    const listed = await world.hearth.app.users.list();
    expect(listed.map((u) => u.username)).to.include.members(['ana1', 'ben2', 'cas3']);
    expect(listed.filter((u) => u.isAdmin).length).to.be.at.least(1);
  });

  it('refuses a disabled account at sign-in only once the password is right, ends its pages and sockets, and lets it back when enabled', async () => {
    const dan = await world.person('dan');
    const tab = await dan.tab();
    const users = world.hearth.app.users;
    expect(await users.setRole(dan.id, 'disable')).to.equal('ok');
    await world.hearth.app.accountSessions.endAll(dan.id);
    expect((await tab.waitClosed()).code).to.equal(CloseCode.SessionEnded);
    const page = await dan.http.get('/');
    expect(page.status).to.equal(303);
    expect(page.headers.location).to.match(/^\/login/);

    const guesser = world.client();
    const wrong = await guesser.login('dan4', 'not the password');
    expect(wrong.status).to.equal(401);
    expect(wrong.body).to.not.include('disabled');
    const right = await guesser.login('dan4', 'correct horse battery');
    expect(right.status).to.equal(403);
    expect(right.body).to.include('This account is disabled.');

    expect(await users.setRole(dan.id, 'enable')).to.equal('ok');
    expect((await guesser.login('dan4', 'correct horse battery')).status).to.equal(303);
  });

  it('a disabled account whose session escaped the device list still cannot use it (socket or page)', async () => {
    const eve = await world.person('eve');
    await world.hearth.app.users.setRole(eve.id, 'disable');
    // The session still exists (nobody ended it): the upgrade itself checks the account.
    const cookie = [...eve.http.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const ws = new WebSocket(`${world.hearth.origin.replace('https:', 'wss:')}/ws`, { headers: { cookie, origin: world.hearth.origin }, ca: world.ca });
    ws.on('error', () => undefined);
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).to.equal(CloseCode.SessionEnded);
    const page = await eve.http.get('/');
    expect(page.status).to.equal(303);
    expect(page.headers.location).to.match(/^\/login/);
  });

  it('signs an account out everywhere but one session, on every instance, and keeps the kept session working', async () => {
    const second = await startTestHearth({}, { flush: false });
    try {
      const fay = await world.person('fay');
      const elsewhere = new HttpClient(second.origin, world.ca);
      try {
        expect((await elsewhere.login('fay6', 'correct horse battery')).status).to.equal(303);
        const here = await fay.tab();
        const there = await fay.tab(); // same session as `here`: kept
        const remote = await TestSocket.open(elsewhere, world.ca);
        const devices = await world.hearth.app.accountSessions.list(fay.id, 'none');
        expect(devices).to.have.length(2);

        const keptSid = decodeURIComponent(fay.http.cookies.get('__Host-hearth')!).slice(2).split('.')[0]!;
        const ended = await world.hearth.app.accountSessions.endAll(fay.id, { exceptSid: keptSid });
        expect(ended).to.equal(1);
        expect((await remote.waitClosed()).code).to.equal(CloseCode.SessionEnded);
        expect(here.closed).to.equal(null);
        expect(there.closed).to.equal(null);
        expect((await fay.http.get('/')).status).to.equal(200);
        expect((await elsewhere.get('/')).status).to.equal(303);
        here.close();
        there.close();
      } finally {
        await elsewhere.close();
      }
    } finally {
      await second.close();
    }
  });

  it(`keeps at most ${MAX_SESSIONS_PER_USER} signed-in browsers per account: signing in again ends the least recently used`, async () => {
    const gus = await world.person('gus');
    const clients: HttpClient[] = [];
    try {
      for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) {
        const c = new HttpClient(world.hearth.origin, world.ca);
        clients.push(c);
        expect((await c.login('gus7', 'correct horse battery')).status).to.equal(303);
      }
      await until(async () => (await world.hearth.app.accountSessions.list(gus.id, '')).length === MAX_SESSIONS_PER_USER, 'the device list at its cap');
      // The registration's own session was the least recently used: it has ended.
      expect((await gus.http.get('/')).status).to.equal(303);
      expect((await clients.at(-1)!.get('/')).status).to.equal(200);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('deleting the first admin (with another admin left) keeps newcomers from becoming admin and keeps no trace of its id', async () => {
    const users = world.hearth.app.users;
    const first = (await users.list())[0]!;
    const other = (await users.list()).find((u) => u.id !== first.id)!;
    await users.setRole(other.id, 'admin');
    expect(await users.remove(first.id)).to.equal('ok');
    const raw = createClient({ url: sharedRedis().url });
    await raw.connect();
    try {
      expect(await raw.get('meta:first-admin')).to.not.equal(first.id);
    } finally {
      await raw.close();
    }
    const newcomer = await world.person('newcomer');
    expect((await users.findById(newcomer.id))?.isAdmin).to.equal(false);
  });
});
