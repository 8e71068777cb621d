// Anonymous visitors and CSRF: page loads leave nothing in Redis; forms are protected by a signed double-submit cookie.
import { expect } from 'chai';
import { Agent, request } from 'undici';
import type { TestHearth } from '../helpers/hearth.js';
import { useWorld } from '../helpers/world.js';
import { CSRF_COOKIE } from '../../src/server/auth/csrf.js';
import { SESSION_COOKIE } from '../../src/server/auth/session.js';

/** redisFootprint — keys and bytes in use, as Redis itself reports them. */
async function redisFootprint(hearth: TestHearth): Promise<{ keys: number; bytes: number }> {
  const info = await hearth.redis.info('memory');
  const bytes = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
  return { keys: await hearth.redis.dbSize(), bytes };
}

describe('anonymous visitors (real HTTPS + Redis)', function () {
  this.timeout(30_000);
  const world = useWorld();
  const client = () => world.client();

  before(async () => {
    await client().register('owner', 'correct horse battery', 'Owner');
  });

  it('10,000 anonymous page loads add no key to Redis and less than 1 MiB', async function () {
    this.timeout(300_000);
    const paths = ['/login', '/register', '/', '/no/such/page', '/r/x'];
    const agent = new Agent({ connect: { ca: world.ca, servername: 'localhost' }, connections: 8 });
    const load = async (path: string) => {
      const res = await request(world.hearth.origin + path, { dispatcher: agent });
      await res.body.text();
      const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      expect(cookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`)), `${path} set a session cookie`).to.equal(false);
      return res.statusCode;
    };
    try {
      // Warm up (view cache, TLS sessions, Redis client buffers) before the baseline.
      for (const p of paths) await load(p);
      const before = await redisFootprint(world.hearth);
      let next = 0;
      const statuses = new Map<number, number>();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < 10_000) {
          const status = await load(paths[next++ % paths.length]!);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }));
      const after = await redisFootprint(world.hearth);
      expect([...statuses.keys()].sort()).to.deep.equal([200, 303]);
      expect(after.keys, 'keys in Redis').to.equal(before.keys);
      expect(after.bytes - before.bytes, 'bytes Redis grew by').to.be.below(1024 * 1024);
    } finally {
      await agent.close();
    }
  });

  it('sets the CSRF cookie with __Host-, Secure, HttpOnly and SameSite, and no session', async () => {
    const r = await client().get('/login');
    const cookie = r.setCookies.find((s) => s.startsWith(`${CSRF_COOKIE}=`));
    expect(CSRF_COOKIE.startsWith('__Host-')).to.equal(true);
    expect(cookie, 'CSRF cookie').to.be.a('string');
    expect(cookie).to.match(/; Path=\/(;|$)/);
    expect(cookie).to.match(/; Secure/);
    expect(cookie).to.match(/; HttpOnly/);
    expect(cookie).to.match(/; SameSite=(Lax|Strict)/);
    expect(cookie).to.not.match(/Domain=/i);
    expect(r.setCookies.some((s) => s.startsWith(`${SESSION_COOKIE}=`))).to.equal(false);
  });

  it('gives every form on a page the same token, and keeps it across pages', async () => {
    const c = client();
    const first = await c.csrfToken('/login');
    const page = await c.get('/register');
    const tokens = [...page.body.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1]);
    expect(tokens.length).to.be.greaterThan(0);
    for (const t of tokens) expect(t).to.equal(first);
  });

  describe('signed-out form posts', () => {
    const form = { username: 'owner', password: 'correct horse battery' };

    it('refuses a missing token with 403 (the sign-in form shown again, nobody signed in)', async () => {
      const c = client();
      await c.get('/login');
      const r = await c.postForm('/login', form);
      expect(r.status).to.equal(403);
      expect(r.body).to.include('This sign-in form had expired');
      expect(r.setCookies.some((k) => k.startsWith('__Host-hearth='))).to.equal(false);
    });

    it('refuses a token from another visitor (with its own cookie kept)', async () => {
      const mallory = client();
      const victim = client();
      const foreign = await mallory.csrfToken('/login');
      await victim.get('/login');
      const r = await victim.postForm('/login', { ...form, _csrf: foreign });
      expect(r.status).to.equal(403);
      expect(r.body).to.include('This sign-in form had expired');
      expect(r.setCookies.some((k) => k.startsWith('__Host-hearth='))).to.equal(false);
    });

    it('refuses a token without its cookie (a cross-site form has no cookie to match)', async () => {
      const c = client();
      const _csrf = await c.csrfToken('/login');
      c.cookies.delete(CSRF_COOKIE);
      const r = await c.postForm('/login', { ...form, _csrf });
      expect(r.status).to.equal(403);
    });

    it('refuses a token and cookie that agree but were not signed by this Hearth', async () => {
      const c = client();
      const forged = `${'0'.repeat(64)}.${'1'.repeat(64)}`;
      c.cookies.set(CSRF_COOKIE, forged);
      const r = await c.postForm('/register', { _csrf: forged, username: 'forger', displayName: 'Forger', password: 'correct horse battery' });
      expect(r.status).to.equal(403);
      expect(await world.hearth.app.users.findByUsername('forger')).to.equal(null);
    });

    it('refuses a registration without a token', async () => {
      const c = client();
      await c.get('/register');
      const r = await c.postForm('/register', { username: 'notoken', displayName: 'No Token', password: 'correct horse battery' });
      expect(r.status).to.equal(403);
      expect(await world.hearth.app.users.findByUsername('notoken')).to.equal(null);
    });
  });

  describe('signed in', () => {
    it('binds the token to the session: another session\'s token and cookie are refused', async () => {
      const ada = client();
      const bob = client();
      await ada.register('ada', 'correct horse battery', 'Ada');
      await bob.register('bob', 'correct horse battery', 'Bob');
      const adaToken = await ada.csrfToken('/');
      // Bob's browser somehow carries Ada's CSRF cookie and a form with Ada's token.
      bob.cookies.set(CSRF_COOKIE, ada.cookies.get(CSRF_COOKIE)!);
      const r = await bob.postForm('/logout', { _csrf: adaToken });
      expect(r.status).to.equal(403);
      expect((await bob.get('/')).status, 'bob is still signed in').to.equal(200);
      // Ada's own token still works for Ada.
      expect((await ada.postForm('/logout', { _csrf: adaToken })).status).to.equal(303);
    });

    it('refuses an anonymous token after sign-in (a planted pre-sign-in pair is useless)', async () => {
      const c = client();
      const anonymous = await c.csrfToken('/login');
      const anonymousCookie = c.cookies.get(CSRF_COOKIE)!;
      expect((await c.postForm('/login', { _csrf: anonymous, username: 'owner', password: 'correct horse battery' })).status).to.equal(303);
      c.cookies.set(CSRF_COOKIE, anonymousCookie);
      const r = await c.postForm('/logout', { _csrf: anonymous });
      expect(r.status).to.equal(403);
      // A page load gives a token for this session, and it works.
      const fresh = await c.csrfToken('/');
      expect(fresh).to.not.equal(anonymous);
      expect((await c.postForm('/logout', { _csrf: fresh })).status).to.equal(303);
    });

    it('signs in, out and in again with the forms as a browser would', async () => {
      const c = client();
      expect((await c.login('owner', 'correct horse battery')).status).to.equal(303);
      expect((await c.get('/')).body).to.include('Sign out');
      const out = await c.postForm('/logout', { _csrf: await c.csrfToken('/') });
      expect(out.headers.location).to.equal('/login?signedOut=1');
      expect((await c.get('/')).status).to.equal(303);
      expect((await c.login('owner', 'correct horse battery')).status).to.equal(303);
      expect((await c.get('/')).status).to.equal(200);
    });
  });
});
