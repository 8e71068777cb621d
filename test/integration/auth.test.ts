import { expect } from 'chai';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../helpers/http-client.js';
import { startTestHearth, testTls } from '../helpers/hearth.js';
import { useWorld } from '../helpers/world.js';
import { startRedis } from '../helpers/processes.js';
import { CSRF_COOKIE } from '../../src/server/auth/csrf.js';
import { SESSION_COOKIE } from '../../src/server/auth/session.js';

describe('accounts and sessions (real HTTPS + Redis)', function () {
  this.timeout(20_000);
  const world = useWorld(() => startTestHearth({}, { throttle: { perUserAndIp: 3, perIpPerDay: 1000, blockSeconds: 60 } }));
  const client = () => world.client();


  describe('GET /', () => {
    it('sends a visitor without a session to /login with ?next=', async () => {
      const r = await client().get('/r/some-room?x=1');
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/login?next=%2Fr%2Fsome-room%3Fx%3D1');
    });
  });

  describe('POST /register', () => {
    it('creates an account, signs in and greets by display name', async () => {
      const c = client();
      const r = await c.register('alice', 'correct horse battery', 'Alice Ångström');
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/');
      const lobby = await c.get('/');
      expect(lobby.status).to.equal(200);
      expect(lobby.body).to.include('Alice Ångström');
      expect(lobby.body).to.include('Sign out');
    });

    it('makes the first account admin and later ones not', async () => {
      const a = await world.hearth.app.users.findByUsername('alice');
      await client().register('bob2', 'correct horse battery');
      const b = await world.hearth.app.users.findByUsername('bob2');
      expect(a?.isAdmin).to.equal(true);
      expect(b?.isAdmin).to.equal(false);
    });

    it('stores an argon2id hash at or above the OWASP parameters', async () => {
      const u = await world.hearth.app.users.findByUsername('alice');
      const hash = u!.passwordHash;
      expect(hash).to.match(/^\$argon2id\$v=19\$/);
      expect(Number(/[$,]m=(\d+)/.exec(hash)?.[1])).to.be.at.least(19_456);
      expect(Number(/[$,]t=(\d+)/.exec(hash)?.[1])).to.be.at.least(2);
    });

    it('refuses a duplicate username in any case', async () => {
      const r = await client().register('ALICE', 'another password');
      expect(r.status).to.equal(409);
      expect(r.body).to.include('That username is taken');
    });

    it('refuses an invalid form with a message per field, keeping what was typed', async () => {
      const c = client();
      const _csrf = await c.csrfToken('/register');
      const r = await c.postForm('/register', { _csrf, username: 'a b', displayName: 'Kept Name', password: 'short' });
      expect(r.status).to.equal(400);
      expect(r.body).to.include('Use 3–32 characters');
      expect(r.body).to.include('Use 8–256 characters');
      expect(r.body).to.include('value="Kept Name"');
    });

    it('escapes a hostile display name wherever it is shown', async () => {
      const c = client();
      await c.register('mallory', 'correct horse battery', '<img src=x onerror=alert(1)>');
      const lobby = await c.get('/');
      expect(lobby.body).to.not.include('<img src=x');
      expect(lobby.body).to.include('&lt;img src=x onerror=alert(1)&gt;');
    });
  });

  describe('POST /login', () => {
    it('shows a sign-in form whose token went stale (two tabs reached the page at once) again with a matching token, signing nobody in', async () => {
      const c = client();
      await c.register('staletab', 'correct horse battery');
      await c.postForm('/logout', { _csrf: await c.csrfToken('/') });
      const firstTab = await c.csrfToken('/login');
      c.cookies.delete(CSRF_COOKIE); // the second tab's page load minted its own cookie
      await c.csrfToken('/login');
      const stale = await c.postForm('/login', { _csrf: firstTab, username: 'staletab', password: 'correct horse battery' });
      expect(stale.status).to.equal(403);
      expect(stale.body).to.include('This sign-in form had expired. Enter your password again.');
      expect(stale.body).to.include('value="staletab"');
      expect(c.cookies.get(SESSION_COOKIE)).to.equal(undefined);
      const fresh = /name="_csrf" value="([^"]+)"/.exec(stale.body)![1]!;
      const ok = await c.postForm('/login', { _csrf: fresh, username: 'staletab', password: 'correct horse battery' });
      expect(ok.status).to.equal(303);
    });

    it('rotates the session id at sign-in and sets a __Host- cookie with Secure, HttpOnly, SameSite=Lax', async () => {
      const c = client();
      const _csrf = await c.csrfToken('/login');
      expect(c.cookies.get(SESSION_COOKIE), 'no session before sign-in').to.equal(undefined);
      // A session id the browser already holds (planted, or from an earlier sign-in) is never kept.
      expect((await c.postForm('/login', { _csrf, username: 'alice', password: 'correct horse battery' })).status).to.equal(303);
      const before = c.cookies.get(SESSION_COOKIE);
      expect(before).to.be.a('string');
      const r = await c.postForm('/login', { _csrf: await c.csrfToken('/'), username: 'alice', password: 'correct horse battery' });
      expect(r.status).to.equal(303);
      const after = c.cookies.get(SESSION_COOKIE);
      expect(after).to.be.a('string').and.not.equal(before);
      const cookie = r.setCookies.find((s) => s.startsWith(`${SESSION_COOKIE}=`))!;
      expect(cookie).to.match(/; Path=\//);
      expect(cookie).to.match(/; Secure/);
      expect(cookie).to.match(/; HttpOnly/);
      expect(cookie).to.match(/; SameSite=Lax/);
      expect(cookie).to.match(/; Expires=/);
      expect(cookie).to.not.match(/Domain=/i);
    });

    it('says the same thing for a wrong password and an unknown username', async () => {
      const wrongPw = await client().login('alice', 'not the password');
      const noUser = await client().login('nobody-here', 'not the password');
      for (const r of [wrongPw, noUser]) {
        expect(r.status).to.equal(401);
        expect(r.body).to.include('Wrong username or password.');
        expect(r.body).to.include('role="alert"');
      }
    });

    it('re-hashes a password stored with weaker parameters at sign-in', async () => {
      const argon2 = (await import('argon2')).default;
      await client().register('oldtimer', 'correct horse battery');
      const u = await world.hearth.app.users.findByUsername('oldtimer');
      await world.hearth.app.users.setPasswordHash(u!.id, await argon2.hash('correct horse battery', { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 }));
      expect((await client().login('oldtimer', 'correct horse battery')).status).to.equal(303);
      const after = await world.hearth.app.users.findByUsername('oldtimer');
      expect(after!.passwordHash).to.match(/m=19456/);
    });

    it('returns to ?next= after sign-in', async () => {
      const r = await client().login('alice', 'correct horse battery', '/r/quiet-otter-7xk2');
      expect(r.headers.location).to.equal('/r/quiet-otter-7xk2');
    });

    it('refuses to return to another site (//evil.example)', async () => {
      const r = await client().login('alice', 'correct horse battery', '//evil.example');
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/');
    });

    describe('never redirects off this origin, however ?next= is disguised', () => {
      /** HOSTILE_NEXT — each turns into "//evil.example/x" (or a backslash form) somewhere between the URL parser and the browser. */
      const HOSTILE_NEXT = [
        '/.//evil.example/x', '/..//evil.example/x', '/%2e//evil.example/x', '/%2E%2E//evil.example/x', '/%2e%2e//evil.example/x',
        '/.%2e//evil.example/x', '/a/..//evil.example/x', '/././/evil.example/x', '//evil.example/x', '///evil.example/x',
        '/\\evil.example/x', '/.\\/evil.example/x', '\\\\evil.example/x', '/\t/evil.example/x', '/\n/evil.example/x',
        '/.\t//evil.example/x', 'https://evil.example/x', ' //evil.example/x',
      ];
      const isSameOriginPath = (location: string) =>
        location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\') && new URL(location, world.hearth.origin).origin === world.hearth.origin;

      it('for a signed-in visitor of /login?next=', async () => {
        const c = client();
        await c.login('alice', 'correct horse battery');
        for (const next of HOSTILE_NEXT) {
          const r = await c.get(`/login?next=${encodeURIComponent(next)}`);
          expect(r.status, next).to.equal(303);
          expect(isSameOriginPath(String(r.headers.location)), `${JSON.stringify(next)} → ${r.headers.location}`).to.equal(true);
        }
      });

      it('after signing in through the form', async () => {
        for (const next of HOSTILE_NEXT.slice(0, 6)) {
          const r = await client().login('alice', 'correct horse battery', next);
          expect(r.status, next).to.equal(303);
          expect(isSameOriginPath(String(r.headers.location)), `${JSON.stringify(next)} → ${r.headers.location}`).to.equal(true);
        }
      });
    });

    it('throttles repeated failures with 429 and says when to try again, without locking out other addresses', async () => {
      const c = client();
      await client().register('victim', 'correct horse battery');
      for (let i = 1; i <= 3; i++) expect((await c.login('victim', `wrong ${i}`)).status).to.equal(401);
      const last = await c.login('victim', 'wrong 4');
      expect(last.status).to.equal(429);
      expect(last.body).to.match(/Try again in \d+ seconds/);
      expect(Number(last.headers['retry-after'])).to.be.greaterThan(0);
      // Even the right password waits now, from this address.
      const blocked = await c.login('victim', 'correct horse battery');
      expect(blocked.status).to.equal(429);
      // The block is per username *and* address: the counter is keyed on both.
      const keys = await world.hearth.redis.keys('throttle:login:user-ip:victim|*');
      expect(keys).to.have.length(1);
      expect(keys[0]).to.match(/\|127\.0\.0\.1$/);
    });
  });

  describe('POST /logout', () => {
    it('destroys the session and shows the sign-in page', async () => {
      const c = client();
      await c.login('alice', 'correct horse battery');
      const sid = decodeURIComponent(c.cookies.get(SESSION_COOKIE)!).slice(2).split('.')[0];
      expect(await world.hearth.redis.exists(`sess:${sid}`)).to.equal(1);
      const _csrf = await c.csrfToken('/');
      const r = await c.postForm('/logout', { _csrf });
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal('/login?signedOut=1');
      expect(await world.hearth.redis.exists(`sess:${sid}`)).to.equal(0);
      expect((await c.get('/')).status).to.equal(303);
    });
  });

  describe('CSRF', () => {
    it('answers a POST without a token with 403 and a page that says so', async () => {
      const c = client();
      await c.get('/login');
      const r = await c.postForm('/register', { username: 'mallory', displayName: 'Mallory', password: 'correct horse battery' });
      expect(r.status).to.equal(403);
      expect(r.body).to.include('This form was out of date');
      // The sign-in form is shown again instead (see the stale-token test), still signing nobody in.
      const login = await c.postForm('/login', { username: 'alice', password: 'correct horse battery' });
      expect(login.status).to.equal(403);
      expect(login.body).to.include('This sign-in form had expired');
      expect(c.cookies.get(SESSION_COOKIE)).to.equal(undefined);
    });
    it('answers a POST with a wrong token with 403', async () => {
      const c = client();
      await c.csrfToken('/login');
      const r = await c.postForm('/login', { _csrf: 'forged', username: 'alice', password: 'correct horse battery' });
      expect(r.status).to.equal(403);
    });
  });

  describe('headers and bad input', () => {
    it('sends a strict Content-Security-Policy', async () => {
      const r = await client().get('/login');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).to.include("script-src 'self'");
      expect(csp).to.include("style-src 'self'");
      expect(csp).to.include("font-src 'self'");
      expect(csp).to.include("connect-src 'self'");
      expect(csp).to.include("frame-ancestors 'none'");
      expect(csp).to.not.include('unsafe-inline');
      // 'wasm-unsafe-eval' (WebAssembly for file hashing) is allowed; JavaScript eval is not.
      expect(csp).to.not.include("'unsafe-eval'");
      expect(r.body).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(r.body).to.not.match(/\sstyle="/);
    });

    it('answers an oversized form with 413', async () => {
      const c = client();
      const _csrf = await c.csrfToken('/login');
      const r = await c.postForm('/login', { _csrf, username: 'alice', password: 'x'.repeat(40_000) });
      expect(r.status).to.equal(413);
      expect(r.body).to.include('larger than Hearth accepts');
    });

    it('answers an unknown route with a 404 page', async () => {
      const c = client();
      await c.register('carol', 'correct horse battery');
      const r = await c.get('/no/such/page');
      expect(r.status).to.equal(404);
      expect(r.body).to.include('Not found');
    });

    it('serves the local CA at /ca.crt', async () => {
      const r = await client().get('/ca.crt');
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.match(/application\/x-x509-ca-cert/);
      expect(r.body).to.equal(world.ca.toString());
    });

    it('redirects plain HTTP on the HTTPS port to HTTPS', async () => {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(world.hearth.port, '127.0.0.1', () => s.write('GET /login?x=1 HTTP/1.1\r\nHost: 127.0.0.1:' + world.hearth.port + '\r\n\r\n'));
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      expect(reply).to.match(/^HTTP\/1\.1 308/);
      expect(reply).to.include(`Location: https://127.0.0.1:${world.hearth.port}/login?x=1`);
    });
  });
});

describe('when Redis goes away (real redis-server stopped and restarted)', function () {
  this.timeout(30_000);

  it('answers 503 within 2 s, keeps running, and recovers with sessions intact', async () => {
    const redis = await startRedis({ persist: true });
    const hearth = await startTestHearth({}, { redisUrl: redis.url });
    const ca = (await testTls()).ca;
    const c = new HttpClient(hearth.origin, ca);
    try {
      await c.register('dora', 'correct horse battery', 'Dora');
      expect((await c.get('/')).status).to.equal(200);

      await redis.kill();
      const t0 = Date.now();
      const down = await c.get('/');
      expect(Date.now() - t0).to.be.below(2_000);
      expect(down.status).to.equal(503);
      expect(down.body).to.include("Hearth's database is unavailable");
      const loginDown = await c.get('/login');
      expect(loginDown.status).to.equal(503);

      await redis.restart();
      let back = await c.get('/');
      for (let i = 0; i < 50 && back.status !== 200; i++) {
        await sleep(100);
        back = await c.get('/');
      }
      expect(back.status).to.equal(200);
      expect(back.body).to.include('Dora');
    } finally {
      await c.close();
      await hearth.close();
      await redis.stop();
    }
  });
});
