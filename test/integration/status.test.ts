// /metrics and the Status page (real HTTPS, ws, Redis): who may read them, that the scrape is valid Prometheus text whose figures move, and that it answers while Redis is down.
import { expect } from 'chai';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { SESSION_COOKIE } from '../../src/server/auth/session.js';
import { CLIENT_MESSAGE_TYPES } from '../../src/shared/protocol.js';
import { readFigures } from '../../src/client/status/lib/history.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { HttpClient, type Reply } from '../helpers/http-client.js';
import { startRedis, type TestRedis } from '../helpers/processes.js';
import { until, useWorld, type Person } from '../helpers/world.js';

const TOKEN = 'metrics-token-for-tests-0123456789abcdef';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// ---- the text format's own rules (0.0.4), on top of the parser ------------------------------

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? ([^ ]+)( -?\d+)?$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|NaN|[+-]Inf)$/i;

/**
 * families — the scrape parsed by parse-prometheus-text-format, after checking what that parser
 * lets by: every line's shape, one TYPE per family before its samples, families not interleaved.
 */
function families(text: string): Map<string, PrometheusFamily> {
  expect(text.endsWith('\n'), 'ends with a line feed').to.equal(true);
  const typed = new Map<string, string>();
  const finished = new Set<string>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) continue; // a plain comment
      expect(m[2], line).to.match(NAME);
      if (m[1] === 'TYPE') {
        expect(m[3], line).to.be.oneOf(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
        expect(typed.has(m[2]!), `one TYPE for ${m[2]}`).to.equal(false);
        typed.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `a sample line: ${line}`).to.not.equal(null);
    expect(m![3], line).to.match(VALUE);
    const family = [...typed.keys()].find((f) => m![1] === f || (/^(histogram|summary)$/.test(typed.get(f)!) && [`${f}_sum`, `${f}_count`, `${f}_bucket`].includes(m![1]!)));
    expect(family, `a TYPE before ${line}`).to.be.a('string');
    if (family !== current) {
      expect(finished.has(family!), `${family}'s samples together`).to.equal(false);
      if (current) finished.add(current);
      current = family!;
    }
  }
  const parsed = parsePrometheusTextFormat(text);
  return new Map(parsed.map((f) => [f.name, f]));
}

/** sample — the value of `name`'s sample with `labels` (all of them matching), or undefined if there is none. */
function sample(all: Map<string, PrometheusFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = all.get(name);
  const found = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

const MINE = ['hearth_people_online', 'hearth_rooms_live', 'hearth_calls', 'hearth_transfers_in_progress', 'hearth_signaling_messages_total',
  'hearth_signaling_sockets', 'hearth_redis_up', 'hearth_redis_used_memory_bytes', 'hearth_redis_latency_seconds'];

/** expectRefused — a refusal that gives nothing away and starts no session (a signed-in one is only renewed: `session`). */
function expectRefused(r: Reply, status: number, session?: string): void {
  expect(r.status).to.equal(status);
  expect(r.body).to.not.match(/hearth_|# TYPE|process_/);
  const cookies = r.setCookies.filter((c) => c.startsWith(`${SESSION_COOKIE}=`)).map((c) => c.slice(SESSION_COOKIE.length + 1).split(';')[0]);
  expect(cookies, 'a new session cookie').to.deep.equal(session === undefined ? [] : cookies.map(() => session));
}

describe('status and metrics (real HTTPS, ws, Redis)', function () {
  this.timeout(60_000);
  const world = useWorld(() => startTestHearth({ METRICS_TOKEN: TOKEN }));
  let admin: Person;
  let member: Person;
  const keys = async () => (await world.hearth.redis.keys('*')).sort();
  const scrape = async (headers: Record<string, string> = bearer(TOKEN)) => {
    const r = await world.client().get('/metrics', headers);
    expect(r.status, r.body).to.equal(200);
    return families(r.body);
  };
  const noSockets = () => until(() => world.hearth.app.signaling.openSockets === 0, 'the last test\'s sockets to close');

  before(async () => {
    admin = await world.person('root'); // the first account: the admin
    member = await world.person('member');
    expect((await world.hearth.app.users.findById(admin.id))?.isAdmin).to.equal(true);
    expect((await world.hearth.app.users.findById(member.id))?.isAdmin).to.equal(false);
  });

  describe('/metrics refuses everyone but admins and the token', () => {
    it('refuses an anonymous request with 401 and a Bearer challenge, storing nothing', async () => {
      const before = await keys();
      const r = await world.client().get('/metrics');
      expectRefused(r, 401);
      expect(r.headers['www-authenticate']).to.match(/^Bearer realm="Hearth metrics"/);
      expect(await keys()).to.deep.equal(before);
    });

    it('refuses a signed-in person who is not an admin with 403', async () => {
      const before = await keys();
      expectRefused(await member.http.get('/metrics'), 403, member.http.cookies.get(SESSION_COOKIE));
      expect(await keys()).to.deep.equal(before);
    });

    it('refuses a wrong, short, empty or non-Bearer token with 401, even beside a signed-in session', async () => {
      const before = await keys();
      const wrong = [
        bearer(TOKEN.slice(0, -1) + (TOKEN.endsWith('f') ? 'e' : 'f')), bearer(TOKEN.slice(0, 8)), bearer(`${TOKEN}x`), bearer(''),
        { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }, { authorization: TOKEN },
      ];
      for (const headers of wrong) {
        const r = await world.client().get('/metrics', headers);
        expectRefused(r, 401);
        expect(r.headers['www-authenticate']).to.match(/error="invalid_token"/);
      }
      // The admin's own cookie does not rescue a bad token: the header says which credential counts.
      expectRefused(await admin.http.get('/metrics', bearer('x'.repeat(40))), 401, admin.http.cookies.get(SESSION_COOKIE));
      expect(await keys()).to.deep.equal(before);
    });

    it('refuses every token when METRICS_TOKEN is not set', async () => {
      const other = await startTestHearth({}, { flush: false });
      const c = new HttpClient(other.origin, world.ca);
      try {
        expectRefused(await c.get('/metrics', bearer(TOKEN)), 401);
        expectRefused(await c.get('/metrics', bearer('')), 401);
      } finally {
        await c.close();
        await other.close();
      }
    });

    it('answers the token with Prometheus text, and stores nothing: no session, no key', async () => {
      const before = await keys();
      const r = await world.client().get('/metrics', bearer(TOKEN));
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
      expect(r.headers['cache-control']).to.equal('no-store');
      expect(r.setCookies.filter((c) => c.startsWith(`${SESSION_COOKIE}=`))).to.deep.equal([]);
      expect(await keys()).to.deep.equal(before);
      const all = families(r.body);
      for (const name of MINE) expect(all.has(name), name).to.equal(true);
      expect(all.get('hearth_signaling_messages_total')!.type).to.equal('COUNTER');
      expect(all.get('hearth_people_online')!.type).to.equal('GAUGE');
      // The process's own figures: memory, CPU, event-loop delay.
      for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
        expect(all.has(name), name).to.equal(true);
      }
      expect(sample(all, 'hearth_redis_up')).to.equal(1);
      expect(sample(all, 'hearth_redis_used_memory_bytes')).to.be.above(0);
      expect(sample(all, 'hearth_redis_latency_seconds')).to.be.above(0);
    });

    it('answers an admin\'s session with the same text', async () => {
      const r = await admin.http.get('/metrics');
      expect(r.status).to.equal(200);
      expect(r.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
      expect(families(r.body).has('hearth_people_online')).to.equal(true);
    });
  });

  describe('the figures move with what happens', () => {
    it('counts people online, sockets and messages by type when tabs connect and send', async () => {
      await noSockets();
      const before = await scrape();
      const [ana, bo] = [await world.person('ana'), await world.person('bo')];
      const tabs = [await ana.tab(), await ana.tab(), await bo.tab()];
      for (const on of [true, false]) expect(await tabs[0]!.request({ type: 'dnd', on }, 'dnd')).to.include({ type: 'dnd', on });
      const after = await scrape();
      expect(sample(after, 'hearth_signaling_sockets')).to.equal(sample(before, 'hearth_signaling_sockets')! + 3);
      // Two tabs of one person are one person online.
      expect(sample(after, 'hearth_people_online')).to.equal(sample(before, 'hearth_people_online')! + 2);
      const dnd = (all: Map<string, PrometheusFamily>) => sample(all, 'hearth_signaling_messages_total', { type: 'dnd' });
      expect(dnd(after)).to.equal(dnd(before)! + 2);
    });

    it('labels messages only with the protocol\'s types, whatever a client sends', async () => {
      const tab = await (await world.person('mallory')).tab();
      for (const type of ['evil"} 1\nhearth_owned 1', 'x'.repeat(500), '__proto__', 'constructor']) {
        expect(await tab.request({ type, ref: 'r' }, 'welcome')).to.include({ type: 'error' });
      }
      expect(await tab.request({ type: 'dnd', on: 'yes' } as Record<string, unknown>, 'dnd')).to.include({ type: 'error' });
      const all = await scrape();
      const labels = all.get('hearth_signaling_messages_total')!.metrics.map((m) => m.labels?.type);
      expect([...labels].sort()).to.deep.equal([...CLIENT_MESSAGE_TYPES].sort());
      expect(all.has('hearth_owned')).to.equal(false);
    });

    it('counts rooms live, calls, and a transfer until its receiver reports its end', async () => {
      await noSockets();
      const [ada, bob, cy] = [await world.person('ada'), await world.person('bob'), await world.person('cy')];
      const rooms = world.hearth.app.rooms;
      const [call, alone] = [
        await rooms.create({ name: 'Call', ownerId: ada.id, capacity: 6, passcodeHash: null }),
        await rooms.create({ name: 'Alone', ownerId: cy.id, capacity: 6, passcodeHash: null }),
      ];
      const [a, b, c] = [await ada.tab(), await bob.tab(), await cy.tab()];
      const a2 = await ada.tab();
      await a.request({ type: 'join', room: alone.slug }, 'joined');
      await a2.request({ type: 'join', room: alone.slug }, 'joined');
      let all = await scrape();
      // One person in two tabs is not a call.
      expect([sample(all, 'hearth_rooms_live'), sample(all, 'hearth_calls')]).to.deep.equal([1, 0]);
      await a.request({ type: 'join', room: call.slug }, 'joined');
      await b.request({ type: 'join', room: call.slug }, 'joined');
      await c.request({ type: 'join', room: alone.slug }, 'joined');
      all = await scrape();
      expect([sample(all, 'hearth_rooms_live'), sample(all, 'hearth_calls')]).to.deep.equal([2, 2]);

      const transfers = async () => sample(await scrape(), 'hearth_transfers_in_progress');
      const base = await transfers();
      const entry = { type: 'ledger', transferId: 'TRANSFER-1', name: 'film.mkv', size: 4_000_000_000, sha256: null };
      expect(await a.request({ ...entry, to: b.peerId, state: 'offered' }, 'chat')).to.include({ type: 'chat' });
      expect(await transfers()).to.equal(base! + 1);
      // The sender cannot end it by claiming it arrived (refused), and a "to everyone" summary is not a transfer of its own.
      expect(await a.request({ ...entry, to: b.peerId, state: 'verified' }, 'chat')).to.include({ type: 'error' });
      expect(await a.request({ ...entry, transferId: 'EVERYONE-1', to: null, state: 'offered' }, 'chat')).to.include({ type: 'chat' });
      // Someone outside the room cannot report on it at all.
      expect(await c.request({ ...entry, to: null, from: a.peerId, state: 'verified' }, 'chat')).to.include({ type: 'error' });
      expect(await transfers()).to.equal(base! + 1);
      expect(await b.request({ ...entry, to: null, from: a.peerId, sha256: 'c'.repeat(64), state: 'verified' }, 'chat')).to.include({ type: 'chat' });
      expect(await transfers()).to.equal(base);
    });
  });

  describe('/admin/status', () => {
    it('is 403 for a signed-in person who is not an admin, as a page and as JSON; anonymous visitors go to sign in', async () => {
      for (const path of ['/admin/status', '/admin/status.json']) {
        const page = await member.http.get(path);
        expect(page.status, path).to.equal(403);
        expect(page.body).to.not.match(/People online|peopleOnline/);
        const json = await member.http.get(path, { accept: 'application/json' });
        expect(json.status, path).to.equal(403);
        expect(JSON.parse(json.body)).to.deep.equal({ error: { status: 403, message: 'This page is for the people who run this Hearth.' } });
        const anonymous = await world.client().get(path);
        expect(anonymous.status, path).to.equal(303);
        expect(anonymous.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`);
      }
    });

    it('shows an admin every figure with its label, read on the server, and the island that keeps them live', async () => {
      const r = await admin.http.get('/admin/status');
      expect(r.status).to.equal(200);
      expect(r.body).to.include('<title>Status · Hearth</title>');
      const labels = [...r.body.matchAll(/<dt class="status-figure__label">([^<]+)<\/dt>/g)].map((m) => m[1]);
      expect(labels).to.deep.equal(['People online', 'Rooms live', 'Calls', 'Transfers in progress', 'Signaling messages/s', 'Redis memory', 'Redis latency', 'Process memory', 'Event-loop delay']);
      const values = [...r.body.matchAll(/<dd class="status-figure__value">([^<]+)<\/dd>/g)].map((m) => m[1]!);
      expect(values).to.have.length(9);
      expect(values[5]).to.match(/^[\d.]+ (KiB|MiB|GiB)$/);
      expect(values[6]).to.match(/^[\d.]+ ms$/);
      expect(r.body).to.match(/<script type="module" src="\/build\/status-[^"]+\.js"><\/script>/);
      expect(r.body).to.match(/id="status-redis-down"[^>]* hidden/);
    });

    it('answers an admin\'s status.json with one reading', async () => {
      await noSockets();
      await (await world.person('dee')).tab();
      const r = await admin.http.get('/admin/status.json');
      expect(r.status).to.equal(200);
      expect(r.headers['cache-control']).to.equal('no-store');
      const figures = readFigures(JSON.parse(r.body));
      expect(figures, r.body).to.not.equal(null);
      expect(figures).to.deep.include({ peopleOnline: 1, sockets: 1 });
      expect(figures!.redis.up).to.equal(true);
      expect(figures!.process.rssBytes).to.be.above(figures!.process.heapUsedBytes);
    });
  });

  describe('while Redis is down or stuck', () => {
    let redis: TestRedis;
    let h: TestHearth;
    let c: HttpClient;
    const tokenScrape = async () => {
      const r = await c.get('/metrics', bearer(TOKEN));
      expect(r.status, r.body).to.equal(200);
      return families(r.body);
    };
    before(async () => {
      redis = await startRedis({ persist: true });
      h = await startTestHearth({ METRICS_TOKEN: TOKEN }, { redisUrl: redis.url });
      c = new HttpClient(h.origin, world.ca);
    });
    after(async () => {
      await c?.close();
      await h?.close();
      redis?.child.kill('SIGCONT');
      await redis?.stop();
    });

    it('a token scrape still answers: hearth_redis_up 0, the figures from Redis left out, the rest as usual', async () => {
      expect(sample(await tokenScrape(), 'hearth_redis_up')).to.equal(1);
      await redis.kill();
      await until(() => !h.redis.isReady, 'the app to notice');
      const all = await tokenScrape();
      expect(sample(all, 'hearth_redis_up')).to.equal(0);
      for (const name of ['hearth_people_online', 'hearth_rooms_live', 'hearth_calls', 'hearth_redis_used_memory_bytes', 'hearth_redis_latency_seconds']) {
        expect(sample(all, name), name).to.equal(undefined);
      }
      expect(sample(all, 'hearth_signaling_sockets')).to.equal(0);
      expect(sample(all, 'process_resident_memory_bytes')).to.be.above(0);
      // A session cannot be read without Redis: session scrapes and the Status page say so.
      expect((await c.get('/metrics')).status).to.equal(503);
      expect((await c.get('/admin/status.json')).status).to.equal(503);
      await redis.restart();
      await until(() => h.redis.isReady, 'the app to reconnect');
      expect(sample(await tokenScrape(), 'hearth_redis_up')).to.equal(1);
    });

    it('a Redis that stops answering (but keeps its connection) does not hold the scrape: hearth_redis_up 0', async () => {
      await until(() => h.redis.isReady, 'Redis');
      redis.child.kill('SIGSTOP');
      try {
        const all = await tokenScrape();
        expect(sample(all, 'hearth_redis_up')).to.equal(0);
        expect(sample(all, 'hearth_people_online')).to.equal(undefined);
      } finally {
        redis.child.kill('SIGCONT');
      }
      await until(async () => sample(await tokenScrape(), 'hearth_redis_up') === 1, 'Redis to answer again');
    });
  });
});
