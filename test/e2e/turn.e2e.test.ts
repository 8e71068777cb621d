// Relayed media in real browsers: `npm start` with TURN=managed and ICE_TRANSPORT_POLICY=relay, a call and a 16 MiB transfer through its coturn.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'puppeteer';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig } from '../../src/server/config.js';
import { startHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import { ROOT_DIR } from '../../src/server/paths.js';
import { lanIPv4, startManagedTurn, type ManagedTurn } from '../../src/server/turn/managed-turn.js';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { caller, createRoom, joinCall, openRoom, PC_HOOK, waitDecoding } from '../helpers/call.js';
import { randomFile } from '../helpers/files.js';
import { testTls, type TestHearth } from '../helpers/hearth.js';
import { sharedRedis } from '../helpers/root-hooks.js';
import { HttpClient } from '../helpers/http-client.js';
import { childPid, freePort, stopChild, tempDir, track } from '../helpers/processes.js';

const MAIN = path.join(ROOT_DIR, 'dist', 'server', 'main.js');
const MiB = 1024 * 1024;
const PASSWORD = 'correct horse battery';

interface Pair {
  local: string;
  remote: string;
}

/**
 * selectedPairs — for each connected RTCPeerConnection of the page, the candidate types of the
 * pair its transport selected (getStats: transport.selectedCandidatePairId).
 */
const selectedPairs = (page: Page): Promise<Pair[]> => page.evaluate(async () => {
  const out: Pair[] = [];
  for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected')) {
    const stats = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.set(s.id as string, s));
    for (const s of stats.values()) {
      if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
      const pair = stats.get(s.selectedCandidatePairId as string)!;
      out.push({ local: String(stats.get(pair.localCandidateId as string)?.candidateType), remote: String(stats.get(pair.remoteCandidateId as string)?.candidateType) });
    }
  }
  return out;
});

/** rtcConfigs — what each RTCPeerConnection of the page runs with now. */
const rtcConfigs = (page: Page): Promise<{ policy: string; urls: string[] }[]> => page.evaluate(() =>
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected').map((pc) => {
    const c = pc.getConfiguration();
    return { policy: String(c.iceTransportPolicy), urls: (c.iceServers ?? []).flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls])) };
  }));

interface Row {
  transferId: string;
  direction: 'send' | 'receive';
  status: string;
  sha256: string | null;
}

const rows = (page: Page): Promise<Row[]> => page.evaluate(() => (window as any).__hearth.transfers.list());

async function waitRow(page: Page, pred: string, timeout = 90_000): Promise<Row> {
  const handle = await page.waitForFunction(`(window.__hearth?.transfers?.list() ?? []).find((t) => ${pred}) ?? false`, { polling: 200, timeout });
  return (await handle.jsonValue()) as Row;
}

describe('relayed media through the managed TURN server (TURN=managed, ICE_TRANSPORT_POLICY=relay)', function () {
  this.timeout(180_000);
  let hearth: ChildProcess;
  let out = '';
  let origin: string;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;

  before(async function () {
    this.timeout(90_000);
    // coturn denies loopback peers, so browsers reach Hearth, and coturn relays, on a LAN address.
    const lan = lanIPv4();
    if (!lan.length) throw new Error('this machine has no LAN IPv4 address (ip -4 addr): the relay test needs one, as coturn refuses loopback peers');
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
    const ip = lan[0]!.address;
    const port = await freePort();
    const { certsDir } = await testTls();
    hearth = track(spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH, LOG_LEVEL: 'warn', PORT: String(port), HOST: '0.0.0.0', DATA_DIR: tempDir('turn-e2e'), CERTS_DIR: certsDir,
        TURN: 'managed', TURN_PORT: String(await freePort()), TURN_RELAY_PORTS: '49521-49600', ICE_TRANSPORT_POLICY: 'relay',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    hearth.stdout!.on('data', (d) => (out += d));
    hearth.stderr!.on('data', (d) => (out += d));
    for (const end = Date.now() + 45_000; !out.includes('Hearth is running'); await sleep(100)) {
      if (hearth.exitCode !== null || Date.now() > end) throw new Error(`Hearth did not start:\n${out}`);
    }
    expect(childPid(hearth.pid!, 'turnserver'), 'Hearth runs its turnserver').to.not.equal(null);
    origin = `https://${ip}:${port}`;
    browser = await launchBrowser();
    ada = await newUser(browser, 'ada');
    bob = await newUser(browser, 'bob');
    for (const [u, name] of [[ada, 'Ada Lovelace'], [bob, 'Bob Relay']] as const) {
      await u.page.evaluateOnNewDocument(PC_HOOK);
      await registerInBrowser(u, origin, u.name, name, PASSWORD);
    }
  });
  after(async () => {
    await browser?.close();
    if (hearth) await stopChild(hearth);
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log(out, ada?.errors, bob?.errors);
    for (const u of [ada, bob]) if (u) await screenshot(u.page, `turn-failed-${u.name}`).catch(() => undefined);
  });

  it('sends 16 MiB in the lobby: Verified on both sides, over a relay-relay candidate pair', async () => {
    const file = await randomFile(tempDir('turn-files'), 'sixteen.bin', 16 * MiB);
    for (const u of [ada, bob]) {
      await u.page.waitForFunction(() => !!(window as any).__hearth?.transfers && (window as any).__hearth.signaling.isOpen, { polling: 100, timeout: 15_000 });
    }
    const [chooser] = await Promise.all([ada.page.waitForFileChooser(), ada.page.locator('::-p-aria(Send file to Bob Relay)').setTimeout(20_000).click()]);
    await chooser.accept([file.file]);
    await ada.page.waitForFunction(() => (window as any).__hearth.transfers.list().length >= 1, { polling: 100, timeout: 10_000 });
    const transferId = (await rows(ada.page))[0]!.transferId;
    await bob.page.locator('::-p-aria([name="Files offered to you"][role="region"]) ::-p-aria(Accept sixteen.bin from Ada Lovelace)').setTimeout(20_000).click();
    // Checked while the transfer's connection is up: it closes some time after it is idle.
    await waitRow(bob.page, `t.transferId === '${transferId}' && t.status !== 'offered'`);
    for (const u of [ada, bob]) {
      await u.page.waitForFunction(() => (window as any).__pcs.some((p: RTCPeerConnection) => p.connectionState === 'connected'), { polling: 100, timeout: 45_000 });
    }
    const pairs = [...await selectedPairs(ada.page), ...await selectedPairs(bob.page)];
    const got = await waitRow(bob.page, `t.transferId === '${transferId}' && t.status === 'verified'`);
    const sent = await waitRow(ada.page, `t.transferId === '${transferId}' && t.status === 'verified'`);
    expect(got.sha256).to.equal(file.sha256);
    expect(sent.sha256).to.equal(file.sha256);
    expect(pairs, 'a selected pair on each side').to.have.length.of.at.least(2);
    expect(pairs.every((p) => p.local === 'relay' && p.remote === 'relay'), JSON.stringify(pairs)).to.equal(true);
    for (const c of await rtcConfigs(ada.page)) {
      expect(c.policy).to.equal('relay');
      expect(c.urls.every((u) => u.startsWith(`turn:${new URL(origin).hostname}:`)), c.urls.join()).to.equal(true);
    }
  });

  it('two people in a call see each other\'s video moving, over a relay-relay candidate pair', async () => {
    // The room, made by Ada over HTTP (her browser session is another device's).
    const c = new HttpClient(origin.replace(new URL(origin).hostname, '127.0.0.1'), (await testTls()).ca);
    try {
      expect((await c.login('ada', PASSWORD)).status).to.equal(303);
      const made = await c.postForm('/rooms', { _csrf: await c.csrfToken('/'), name: 'Relayed', capacity: '4', passcode: '' });
      expect(made.status).to.equal(303);
      const slug = /^\/r\/([^/?#]+)$/.exec(String(made.headers.location))![1]!;
      for (const u of [ada, bob]) {
        await openRoom(u.page, origin, slug);
        await joinCall(u.page);
      }
    } finally {
      await c.close();
    }
    for (const u of [ada, bob]) await waitDecoding(u.page, 1, { timeout: 45_000 });
    for (const u of [ada, bob]) {
      const pairs = await selectedPairs(u.page);
      expect(pairs, u.name).to.have.length.of.at.least(1);
      expect(pairs.every((p) => p.local === 'relay' && p.remote === 'relay'), `${u.name}: ${JSON.stringify(pairs)}`).to.equal(true);
    }
    await screenshot(ada.page, 'turn-relayed-call');
    expect(ada.errors.concat(bob.errors)).to.deep.equal([]);
  });
});

/** usernames — the TURN username each connected RTCPeerConnection of the page runs with now. */
const usernames = (page: Page): Promise<string[]> => page.evaluate(() =>
  (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected').map((pc) => String(pc.getConfiguration().iceServers?.[0]?.username)));

describe('TURN credentials renewed in a live call (credentials of 4 s, relay only)', function () {
  this.timeout(180_000);
  let turn: ManagedTurn;
  let hearth: TestHearth;
  let browser: Browser;

  before(async function () {
    this.timeout(90_000);
    if (!lanIPv4().length) throw new Error('this machine has no LAN IPv4 address (ip -4 addr): the relay test needs one, as coturn refuses loopback peers');
    turn = (await startManagedTurn(tempDir('turn-renew'), createLogger('silent'), { port: await freePort(), relayPorts: [49601, 49680] }))!;
    const tls = await testTls();
    const base = loadConfig({
      PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir('data'), CERTS_DIR: tls.certsDir, REDIS_URL: sharedRedis().url, LOG_LEVEL: 'silent',
      TURN: 'external', TURN_URLS: turn.urls.join(','), TURN_SECRET: turn.secret, ICE_TRANSPORT_POLICY: 'relay',
    });
    const config = { ...base, turn: { ...base.turn, credentialSeconds: 4 } };
    const running = await startHearth({ config, log: createLogger('silent'), assets: loadAssets(), tls, redisUrl: sharedRedis().url, sessionSecret: 'test-secret-test-secret-test-secret-0123456789', throttle: { registrationsPerHour: 10_000 } });
    hearth = { ...running, config, origin: `https://127.0.0.1:${running.port}` };
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
    await turn?.stop();
  });

  it('live connections take the new credentials, and an ICE restart after the first ones expired still relays', async () => {
    const ada = await caller(browser, hearth, 'renewada', 'Ada Renewed');
    const bob = await caller(browser, hearth, 'renewbob', 'Bob Renewed');
    const slug = await createRoom(hearth, 'renewada', 'Renewal', 4);
    for (const u of [ada, bob]) {
      await openRoom(u.page, hearth.origin, slug);
      await joinCall(u.page);
    }
    for (const u of [ada, bob]) await waitDecoding(u.page, 1, { timeout: 45_000 });
    const [first] = await usernames(ada.page);
    const expiry = (u: string) => Number(u.split(':')[0]);
    // Two renewals later the first credential has expired: coturn would refuse it for a new allocation.
    await ada.page.waitForFunction((u: string) => {
      const now = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected').map((pc) => String(pc.getConfiguration().iceServers?.[0]?.username));
      return now.length > 0 && now.every((n) => Number(n.split(':')[0]) >= Number(u.split(':')[0]) + 4);
    }, { polling: 200, timeout: 30_000 }, first!);
    for (const c of await rtcConfigs(ada.page)) expect(c.policy).to.equal('relay');
    for (;;) {
      if (Math.floor(Date.now() / 1000) > expiry(first!)) break;
      await sleep(200);
    }
    const before = await ada.page.evaluate(async () => {
      const ids: string[] = [];
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected')) {
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) ids.push(String(s.selectedCandidatePairId));
        });
      }
      return ids;
    });
    await ada.page.evaluate(() => (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected').forEach((pc) => pc.restartIce()));
    // The restart gathers new relay candidates with the renewed credential: a new selected pair, still relay-relay, and video still moving.
    await ada.page.waitForFunction(async (old: string[]) => {
      const ids: string[] = [];
      for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((p) => p.connectionState === 'connected')) {
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) ids.push(String(s.selectedCandidatePairId));
        });
      }
      return ids.length > 0 && ids.every((id) => !old.includes(id));
    }, { polling: 250, timeout: 45_000 }, before);
    for (const u of [ada, bob]) {
      await waitDecoding(u.page, 1, { timeout: 45_000 });
      const pairs = await selectedPairs(u.page);
      expect(pairs.every((p) => p.local === 'relay' && p.remote === 'relay'), `${u.name}: ${JSON.stringify(pairs)}`).to.equal(true);
    }
    expect(ada.errors.concat(bob.errors)).to.deep.equal([]);
  });
});
