// TRUST_PROXY: X-Forwarded-For counts only from a trusted proxy; then sign-in throttles, registration limits and socket caps key on the forwarded client.
import { expect } from 'chai';
import WebSocket from 'ws';
import { CloseCode } from '../../src/shared/protocol.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient, type Reply } from '../helpers/http-client.js';
import { cookieOf } from '../helpers/raw-ws.js';

const THROTTLE = { perUserAndIp: 2, perIpPerDay: 1_000, blockSeconds: 60, registrationsPerHour: 1_000 };

describe('behind a reverse proxy (TRUST_PROXY, real HTTPS + Redis)', function () {
  this.timeout(60_000);
  let h: TestHearth | null = null;
  let ca: Buffer;
  const clients: HttpClient[] = [];
  before(async () => {
    ca = (await testTls()).ca;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await h?.close();
    h = null;
  });

  const client = (): HttpClient => {
    const c = new HttpClient(h!.origin, ca);
    clients.push(c);
    return c;
  };

  /** guess — one wrong sign-in for `username`, sent with `xff` as X-Forwarded-For (none: no header). */
  const guess = async (username: string, xff?: string): Promise<number> => {
    const c = client();
    const headers: Record<string, string> = xff === undefined ? {} : { 'x-forwarded-for': xff };
    const token = await c.csrfToken('/login');
    const r: Reply = await c.postForm('/login', { _csrf: token, username, password: 'not the password' }, headers);
    return r.status;
  };

  const registerTarget = async () => expect((await client().register('target', 'correct horse battery')).status).to.equal(303);

  it('ignores X-Forwarded-For by default: a guesser cannot dodge the sign-in throttle with made-up addresses', async () => {
    h = await startTestHearth({}, { throttle: THROTTLE });
    expect(h.config.trustProxy).to.equal(false);
    await registerTarget();
    expect(await guess('target', '10.0.0.1')).to.equal(401);
    expect(await guess('target', '10.0.0.2')).to.equal(401);
    expect(await guess('target', '10.0.0.3')).to.equal(429);
    expect(await guess('target', '10.9.9.9, 10.0.0.4')).to.equal(429);
    expect(await guess('target')).to.equal(429);
  });

  it('with TRUST_PROXY=loopback keys the throttle on the forwarded client: two clients get two budgets, one is throttled', async () => {
    h = await startTestHearth({ TRUST_PROXY: 'loopback' }, { throttle: THROTTLE });
    expect(h.config.trustProxy).to.deep.equal(['loopback']);
    await registerTarget();
    expect(await guess('target', '192.168.1.10')).to.equal(401);
    expect(await guess('target', '192.168.1.10')).to.equal(401);
    expect(await guess('target', '192.168.1.10')).to.equal(429);
    // Another device behind the same proxy is not blocked by the first one's guesses.
    expect(await guess('target', '192.168.1.11')).to.equal(401);
    // The proxy's own address (no header) is a third, untouched budget.
    expect(await guess('target')).to.equal(401);
    // The first device is still throttled whatever it puts before the proxy's own entry: loopback
    // is trusted, 192.168.1.10 is not, so the walk stops there.
    expect(await guess('target', '10.7.7.7, 192.168.1.10')).to.equal(429);
  });

  it('with TRUST_PROXY=1 believes only the last hop: an address the client made up in front of it is not the client', async () => {
    h = await startTestHearth({ TRUST_PROXY: '1' }, { throttle: THROTTLE });
    expect(h.config.trustProxy).to.equal(1);
    await registerTarget();
    // The proxy appends the address it saw (192.168.1.20) to whatever the client sent.
    expect(await guess('target', '1.1.1.1, 192.168.1.20')).to.equal(401);
    expect(await guess('target', '2.2.2.2, 192.168.1.20')).to.equal(401);
    expect(await guess('target', '3.3.3.3, 192.168.1.20')).to.equal(429);
    expect(await guess('target', '3.3.3.3, 192.168.1.21')).to.equal(401);
  });

  it('keys the new-accounts limit on the forwarded client when trusted, on the socket address when not', async () => {
    const register = async (username: string, xff: string) => {
      const c = client();
      const token = await c.csrfToken('/register');
      const r = await c.postForm('/register', { _csrf: token, username, displayName: username, password: 'correct horse battery' }, { 'x-forwarded-for': xff });
      return r.status;
    };
    h = await startTestHearth({ TRUST_PROXY: '127.0.0.1' }, { throttle: { ...THROTTLE, registrationsPerHour: 1 } });
    expect(await register('first', '192.168.1.30')).to.equal(303);
    expect(await register('second', '192.168.1.30')).to.equal(429);
    expect(await register('third', '192.168.1.31')).to.equal(303);
    await h.close();
    h = await startTestHearth({}, { throttle: { ...THROTTLE, registrationsPerHour: 1 } });
    expect(await register('fourth', '192.168.1.40')).to.equal(303);
    expect(await register('fifth', '192.168.1.41')).to.equal(429);
  });

  it('lists a device under the address its trusted proxy forwarded, and under the socket address when none is trusted', async () => {
    for (const trusted of [true, false]) {
      h = await startTestHearth(trusted ? { TRUST_PROXY: 'loopback' } : {}, { throttle: THROTTLE });
      const c = client();
      const token = await c.csrfToken('/register');
      const forwarded = { 'x-forwarded-for': '192.168.1.77' };
      expect((await c.postForm('/register', { _csrf: token, username: 'devices', displayName: 'Devices', password: 'correct horse battery' }, forwarded)).status).to.equal(303);
      const page = (await c.get('/account', forwarded)).body;
      expect(page.includes('192.168.1.77'), `Devices list, TRUST_PROXY ${trusted ? 'loopback' : 'off'}`).to.equal(trusted);
      expect(page.includes('127.0.0.1'), `Devices list, TRUST_PROXY ${trusted ? 'loopback' : 'off'}`).to.equal(!trusted);
      await h.close();
      h = null;
    }
  });

  describe('the signaling socket cap per address', () => {
    /** socket — opens /ws as `http`'s session with `xff`; resolves 'welcome' or the close code it got. */
    const socket = (http: HttpClient, xff: string, open: WebSocket[]): Promise<'welcome' | number> => {
      const ws = new WebSocket(`${h!.origin.replace('https:', 'wss:')}/ws`, { ca, headers: { cookie: cookieOf(http), origin: h!.origin, 'x-forwarded-for': xff } });
      open.push(ws);
      return new Promise((resolve, reject) => {
        ws.on('message', (data) => {
          if ((JSON.parse(String(data)) as { type: string }).type === 'welcome') resolve('welcome');
        });
        ws.once('close', (code) => resolve(code));
        ws.once('error', reject);
      });
    };

    const signedIn = async (name: string): Promise<HttpClient> => {
      const c = client();
      expect((await c.register(name, 'correct horse battery')).status).to.equal(303);
      return c;
    };

    it('counts sockets per forwarded client when the proxy is trusted', async () => {
      h = await startTestHearth({ TRUST_PROXY: 'loopback' }, { signalingLimits: { socketsPerAddress: 2, socketsPerUser: 100 } });
      const ana = await signedIn('ana');
      const open: WebSocket[] = [];
      try {
        expect(await socket(ana, '192.168.1.50', open)).to.equal('welcome');
        expect(await socket(ana, '192.168.1.50', open)).to.equal('welcome');
        expect(await socket(ana, '192.168.1.50', open)).to.equal(CloseCode.TooManySockets);
        // Another device behind the same proxy has its own cap.
        expect(await socket(ana, '192.168.1.51', open)).to.equal('welcome');
      } finally {
        for (const ws of open) ws.terminate();
      }
    });

    it('ignores X-Forwarded-For on the upgrade when no proxy is trusted', async () => {
      h = await startTestHearth({}, { signalingLimits: { socketsPerAddress: 2, socketsPerUser: 100 } });
      const ana = await signedIn('ana');
      const open: WebSocket[] = [];
      try {
        expect(await socket(ana, '192.168.1.60', open)).to.equal('welcome');
        expect(await socket(ana, '192.168.1.61', open)).to.equal('welcome');
        expect(await socket(ana, '192.168.1.62', open)).to.equal(CloseCode.TooManySockets);
      } finally {
        for (const ws of open) ws.terminate();
      }
    });
  });
});

describe('TRUST_PROXY (config)', () => {
  it('is off by default and reads hops, addresses, subnets and proxy-addr\'s names', () => {
    expect(loadConfig({}).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'off' }).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).to.equal(2);
    expect(loadConfig({ TRUST_PROXY: ' 10.0.0.0/8, loopback ,fd00::/8' }).trustProxy).to.deep.equal(['10.0.0.0/8', 'loopback', 'fd00::/8']);
  });

  it('refuses "true" (anyone could name themselves), 0 hops, and what is not an address, naming the variable', () => {
    for (const bad of ['true', '0', '17', 'proxy.lan', '10.0.0.0/33', '10.0.0.1,,10.0.0.2']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).to.throw(ConfigError, /^TRUST_PROXY=/);
    }
  });
});
