// Sign-in throttling and the hash queue under attack: concurrent guesses, the daily window, IPv6 /64 keys, busy answers.
import { expect } from 'chai';
import { loadAssets } from '../../src/server/assets.js';
import { PasswordHasher } from '../../src/server/auth/passwords.js';
import { loadConfig, type ThrottleLimits } from '../../src/server/config.js';
import { startHearth, type RunningHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import { CountingHasher, HeldHasher } from '../helpers/hashers.js';
import { testTls } from '../helpers/hearth.js';
import { HttpClient, type Reply } from '../helpers/http-client.js';
import { tempDir } from '../helpers/processes.js';
import { sharedRedis } from '../helpers/root-hooks.js';

interface Running extends RunningHearth {
  /** client — a new cookie-keeping browser talking to `origin` (default: the IPv4 loopback). */
  client(origin?: string): HttpClient;
}

/** start — a real Hearth on an emptied Redis with this hasher, limits and HOST. */
async function start(opts: { hasher?: PasswordHasher; throttle?: Partial<ThrottleLimits>; host?: string } = {}): Promise<Running> {
  const redisUrl = sharedRedis().url;
  const material = await testTls();
  const config = loadConfig({
    PORT: '0', HOST: opts.host ?? '127.0.0.1', DATA_DIR: tempDir('data'), CERTS_DIR: material.certsDir,
    REDIS_URL: redisUrl, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const running = await startHearth({
    config, log: createLogger(config.logLevel), assets: loadAssets(), tls: material, redisUrl,
    sessionSecret: 'test-secret-test-secret-test-secret-0123456789',
    hasher: opts.hasher,
    throttle: { registrationsPerHour: 10_000, ...opts.throttle },
  });
  await running.redis.flushAll();
  const clients: HttpClient[] = [];
  return {
    ...running,
    client(origin = `https://127.0.0.1:${running.port}`) {
      const c = new HttpClient(origin, material.ca);
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await running.close();
    },
  };
}

/** loginForms — `n` browsers, each with a sign-in form loaded, ready to submit at the same moment. */
async function loginForms(h: Running, n: number): Promise<{ c: HttpClient; token: string }[]> {
  return Promise.all(Array.from({ length: n }, async () => {
    const c = h.client();
    return { c, token: await c.csrfToken('/login') };
  }));
}

describe('sign-in throttling under attack (real HTTPS + Redis)', function () {
  this.timeout(60_000);
  let h: Running | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('counts each guess before checking it: 28 wrong and the right one at once → at most 5 are checked', async () => {
    const hasher = new CountingHasher();
    h = await start({ hasher, throttle: { perUserAndIp: 5, perIpPerDay: 1000, blockSeconds: 60 } });
    expect((await h.client().register('target', 'correct horse battery')).status).to.equal(303);
    const forms = await loginForms(h, 29);
    hasher.verifications = 0;
    const replies = await Promise.all(forms.map(({ c, token }, i) =>
      c.postForm('/login', { _csrf: token, username: 'target', password: i === 28 ? 'correct horse battery' : `wrong ${i}` })));
    const statuses = replies.map((r) => r.status);
    const right = statuses[28]!;
    const checked = statuses.filter((s) => s !== 429);
    expect(hasher.verifications, `passwords checked (statuses ${statuses.join(',')})`).to.be.at.most(5);
    expect(checked.length).to.be.at.most(5);
    expect([303, 429]).to.include(right);
    expect(statuses.slice(0, 28).every((s) => s === 401 || s === 429)).to.equal(true);
    if (right === 429) {
      // It came after the limit: refused without being checked, and the pair stays paused.
      expect((await h.client().login('target', 'correct horse battery')).status).to.equal(429);
    }
  });

  it('refuses the right password fired after a burst of wrong ones used the limit', async () => {
    const hasher = new CountingHasher();
    h = await start({ hasher, throttle: { perUserAndIp: 5, perIpPerDay: 1000, blockSeconds: 60 } });
    await h.client().register('target', 'correct horse battery');
    const forms = await loginForms(h, 20);
    hasher.verifications = 0;
    const wrong = await Promise.all(forms.map(({ c, token }, i) => c.postForm('/login', { _csrf: token, username: 'target', password: `wrong ${i}` })));
    expect(wrong.filter((r) => r.status === 401)).to.have.length(5);
    expect(hasher.verifications).to.equal(5);
    const right = await h.client().login('target', 'correct horse battery');
    expect(right.status).to.equal(429);
    expect(hasher.verifications).to.equal(5);
  });

  it('lets the per-address daily limit last its day (no 15-minute block replaces it)', async () => {
    h = await start({ throttle: { perUserAndIp: 1000, perIpPerDay: 3, blockSeconds: 60 } });
    const forms = await loginForms(h, 10);
    const burst = await Promise.all(forms.map(({ c, token }, i) => c.postForm('/login', { _csrf: token, username: `nobody-${i}`, password: 'wrong password' })));
    expect(burst.filter((r) => r.status === 401)).to.have.length(3);
    const later = await h.client().login('someone-else', 'wrong password');
    expect(later.status).to.equal(429);
    expect(Number(later.headers['retry-after']), 'Retry-After (s)').to.be.greaterThan(23 * 3600);
    expect(later.body).to.match(/Try again in 2[34] hours/);
    const ttl = await h.redis.pTTL('throttle:login:ip:127.0.0.1');
    expect(ttl, 'the address counter keeps its 24 h window').to.be.greaterThan(23 * 3600_000);
  });

  it('clears the pair and gives the address its attempt back after a right password', async () => {
    h = await start({ throttle: { perUserAndIp: 3, perIpPerDay: 4, blockSeconds: 60 } });
    const c = h.client();
    await c.register('ada', 'correct horse battery');
    for (let round = 0; round < 3; round++) {
      expect((await h.client().login('ada', 'wrong password')).status).to.equal(401);
      expect((await h.client().login('ada', 'correct horse battery')).status).to.equal(303);
    }
    expect(await h.redis.exists('throttle:login:user-ip:ada|127.0.0.1')).to.equal(0);
    // Three wrong in all so far, three right ones returned their points: one wrong guess is left today.
    expect(Number(await h.redis.get('throttle:login:ip:127.0.0.1'))).to.equal(3);
  });

  it('answers 503 for an unknown username exactly as for a real one when the hash queue is full', async () => {
    const hasher = new HeldHasher({ concurrency: 1, maxQueued: 0 });
    h = await start({ hasher, throttle: { perUserAndIp: 5, perIpPerDay: 1000, blockSeconds: 60 } });
    await h.client().register('realuser', 'correct horse battery');
    const [a, b] = await loginForms(h, 2);
    const release = hasher.hold();
    let known: Reply, unknown: Reply;
    try {
      known = await a!.c.postForm('/login', { _csrf: a!.token, username: 'realuser', password: 'a guess' });
      unknown = await b!.c.postForm('/login', { _csrf: b!.token, username: 'no-such-user', password: 'a guess' });
    } finally {
      await release();
    }
    for (const r of [known, unknown]) {
      expect(r.status).to.equal(503);
      expect(r.headers['retry-after']).to.equal('5');
    }
    const strip = (body: string) => body.replace(/(value|content)="[0-9a-f]+\.[0-9a-f]+"/g, '');
    expect(strip(unknown.body)).to.equal(strip(known.body));
    // A busy answer is not a failed guess: neither counter moved.
    expect(await h.redis.get('throttle:login:user-ip:realuser|127.0.0.1')).to.be.oneOf([null, '0']);
    expect((await h.client().login('realuser', 'correct horse battery')).status).to.equal(303);
  });
});

describe('per-address keys on a dual-stack Hearth (HOST ::)', function () {
  this.timeout(60_000);
  let h: Running;
  before(async () => {
    h = await start({ host: '::', throttle: { perUserAndIp: 5, perIpPerDay: 1000, blockSeconds: 60 } });
  });
  after(async () => h.close());

  it('keys sign-in, registration and passcode limits from ::1 on its /64', async () => {
    const c = h.client(`https://[::1]:${h.port}`);
    expect((await c.register('six', 'correct horse battery')).status).to.equal(303);
    const created = await c.postForm('/rooms', { _csrf: await c.csrfToken('/'), name: 'Locked', capacity: '4', passcode: 'open sesame' });
    expect(created.status).to.equal(303);
    const slug = String(created.headers.location).replace('/r/', '');

    const guest = h.client(`https://[::1]:${h.port}`);
    await guest.register('guest6', 'correct horse battery');
    const wrong = await guest.postForm(`/r/${slug}/passcode`, { _csrf: await guest.csrfToken(`/r/${slug}`), passcode: 'nope' });
    expect(wrong.status).to.equal(401);
    expect((await h.client(`https://[::1]:${h.port}`).login('six', 'wrong password')).status).to.equal(401);

    const keys = (await h.redis.keys('throttle:*')).sort();
    expect(keys).to.include('throttle:register:0:0:0:0::/64');
    expect(keys).to.include('throttle:login:ip:0:0:0:0::/64');
    expect(keys).to.include('throttle:login:user-ip:six|0:0:0:0::/64');
    expect(keys).to.include('throttle:passcode:ip:0:0:0:0::/64');
    expect(keys.filter((k) => k.includes('::1'))).to.deep.equal([]);
  });

  it('counts room passcode guesses before checking them: 20 at once → at most 5 are checked', async () => {
    const owner = h.client();
    await owner.register('keeper4', 'correct horse battery');
    const created = await owner.postForm('/rooms', { _csrf: await owner.csrfToken('/'), name: 'Vault', capacity: '4', passcode: 'open sesame' });
    const slug = String(created.headers.location).replace('/r/', '');
    const guest = h.client();
    await guest.register('burglar', 'correct horse battery');
    const _csrf = await guest.csrfToken(`/r/${slug}`);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      guest.postForm(`/r/${slug}/passcode`, { _csrf, passcode: i === 19 ? 'open sesame' : `guess ${i}` })));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s !== 429).length, statuses.join(',')).to.be.at.most(5);
    if (statuses[19] === 429) expect((await guest.get(`/r/${slug}`)).body).to.include('This room needs a passcode');
  });

  it('counts an IPv4 client of the :: listener (::ffff:127.0.0.1) as 127.0.0.1', async () => {
    expect((await h.client().login('six', 'wrong password')).status).to.equal(401);
    const keys = await h.redis.keys('throttle:login:*127.0.0.1*');
    expect(keys.sort()).to.deep.equal(['throttle:login:ip:127.0.0.1', 'throttle:login:user-ip:six|127.0.0.1']);
  });
});
