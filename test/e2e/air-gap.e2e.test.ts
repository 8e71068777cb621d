// Air-gap proof: two people walk every page and flow of Hearth in Chromium while every request of every
// page, worker and service worker is recorded, and every RTCPeerConnection configuration too. Nothing
// may go to an origin other than Hearth's, and no ICE server may be anything but Hearth's own TURN.
import { expect } from 'chai';
import { networkInterfaces } from 'node:os';
import type { Browser, CDPSession, ElementHandle, Page, Target } from 'puppeteer';
import { formControl, launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { joinCall, openRoom, PC_HOOK, TOAST_LOG, waitDecoding } from '../helpers/call.js';
import { randomFile } from '../helpers/files.js';
import { freePort, tempDir } from '../helpers/processes.js';
import { createLogger } from '../../src/server/log.js';
import { lanIPv4, startManagedTurn, type ManagedTurn } from '../../src/server/turn/managed-turn.js';

const OPTS = { timeout: 45_000, polling: 100 } as const;
const ICE_MARK = '__airgap_ice__';

/**
 * ICE_LOG — every configuration given to an RTCPeerConnection (constructor and setConfiguration) and
 * the one the browser then holds (getConfiguration) goes to the console, marked, for the test to read
 * (a page that navigates away keeps nothing). It runs before PC_HOOK, which wraps this class in turn.
 * A string: tsx would wrap named functions in a __name the page lacks.
 */
const ICE_LOG = `(() => {
  const Real = window.RTCPeerConnection;
  if (!Real) return;
  const log = (where, cfg) => {
    try {
      console.debug('${ICE_MARK}' + JSON.stringify({ where, iceServers: cfg && cfg.iceServers ? cfg.iceServers : null, policy: cfg && cfg.iceTransportPolicy || null }));
    } catch (e) {
      console.debug('${ICE_MARK}' + JSON.stringify({ where, unreadable: String(e) }));
    }
  };
  class Watched extends Real {
    constructor(cfg, ...rest) {
      log('constructor', cfg);
      super(cfg, ...rest);
      log('getConfiguration', this.getConfiguration());
    }
  }
  const set = Real.prototype.setConfiguration;
  Real.prototype.setConfiguration = function (cfg) {
    log('setConfiguration', cfg);
    const r = set.call(this, cfg);
    log('getConfiguration', this.getConfiguration());
    return r;
  };
  window.RTCPeerConnection = Watched;
  if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = Watched;
})()`;

interface Seen {
  url: string;
  /** page, worker, service_worker… and what kind of request. */
  from: string;
}

interface IceRecord {
  where: string;
  iceServers: { urls: string | string[] }[] | null;
  policy: string | null;
  unreadable?: string;
}

/**
 * Recorder — attaches to every target of the browser as it appears: pages (their frames and
 * dedicated workers through puppeteer's request events, WebSockets through a CDP session of their
 * own) and service or shared workers (a CDP session with the Network domain).
 */
class Recorder {
  readonly requests: Seen[] = [];
  readonly ice: IceRecord[] = [];
  readonly targets: string[] = [];
  readonly visited: string[] = [];
  private readonly sessions: CDPSession[] = [];
  private readonly pages = new WeakSet<Page>();

  async attach(browser: Browser): Promise<void> {
    browser.on('targetcreated', (t: Target) => void this.watchTarget(t));
    for (const t of browser.targets()) await this.watchTarget(t);
  }

  /** watchPage — call before the page loads anything (newUser's pages are blank until the test navigates). */
  async watchPage(page: Page, who: string): Promise<void> {
    if (this.pages.has(page)) return;
    this.pages.add(page);
    page.on('request', (r) => this.requests.push({ url: r.url(), from: `${who} page ${r.resourceType()}` }));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame() && f.url().startsWith('http')) this.visited.push(`${who} ${new URL(f.url()).pathname}`);
    });
    page.on('console', (m) => {
      if (m.text().startsWith(ICE_MARK)) this.ice.push(JSON.parse(m.text().slice(ICE_MARK.length)) as IceRecord);
    });
    page.on('workercreated', (w) => this.targets.push(`worker ${w.url()}`));
    const cdp = await page.createCDPSession();
    this.sessions.push(cdp);
    cdp.on('Network.webSocketCreated', (e) => this.requests.push({ url: e.url, from: `${who} page websocket` }));
    await cdp.send('Network.enable');
    await page.evaluateOnNewDocument(ICE_LOG);
    await page.evaluateOnNewDocument(PC_HOOK);
    await page.evaluateOnNewDocument(TOAST_LOG);
  }

  private async watchTarget(t: Target): Promise<void> {
    const type = t.type();
    this.targets.push(`${type} ${t.url()}`);
    if (type !== 'service_worker' && type !== 'shared_worker') return;
    this.requests.push({ url: t.url(), from: `${type} script` });
    try {
      const cdp = await t.createCDPSession();
      this.sessions.push(cdp);
      cdp.on('Network.requestWillBeSent', (e) => this.requests.push({ url: e.request.url, from: `${type} ${e.type ?? ''}` }));
      cdp.on('Network.webSocketCreated', (e) => this.requests.push({ url: e.url, from: `${type} websocket` }));
      await cdp.send('Network.enable');
    } catch (err) {
      this.requests.push({ url: `unwatched:${t.url()}`, from: `${type} (could not attach: ${(err as Error).message})` });
    }
  }

  async detach(): Promise<void> {
    for (const s of this.sessions) await s.detach().catch(() => undefined);
  }
}

/** ownHosts — the names Hearth's own TURN may have: the address the test uses and the box's own addresses. */
function ownHosts(origin: string): Set<string> {
  const hosts = new Set([new URL(origin).hostname, 'localhost']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) hosts.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
  return hosts;
}

/**
 * offOrigin — a recorded URL that leaves Hearth: anything but data:, blob:, about:, Hearth's own
 * https/wss origin and, where `plain` is given, its plain-HTTP trust port.
 */
function offOrigin(url: string, origin: string, plain?: string): boolean {
  if (/^(data|blob|about):/.test(url)) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return true;
  }
  if (plain && u.protocol === 'http:' && u.host === new URL(plain).host) return false;
  if (u.protocol !== 'https:' && u.protocol !== 'wss:') return true;
  return u.host !== new URL(origin).host;
}

/** foreignIce — an ICE server URL that is not Hearth's own TURN (turn:/turns: on one of its hosts). */
function foreignIce(records: IceRecord[], hosts: Set<string>): string[] {
  const bad: string[] = [];
  for (const r of records) {
    if (r.unreadable) bad.push(`${r.where}: unreadable configuration (${r.unreadable})`);
    for (const server of r.iceServers ?? []) {
      for (const url of ([] as string[]).concat(server.urls)) {
        const m = /^(turns?):(\[[^\]]+\]|[^:?]+)/i.exec(url);
        if (!m || !hosts.has(m[2]!.toLowerCase())) bad.push(`${r.where}: ${url}`);
      }
    }
  }
  return bad;
}

/** verified — waits until every page lists a transfer of the file with `sha256` as verified. */
async function verified(pages: Page[], sha256: string): Promise<void> {
  for (const p of pages) {
    await p.waitForFunction((sha) => (window as any).__hearth.transfers.list().some((t: { status: string; sha256: string | null }) => t.status === 'verified' && t.sha256 === sha), { ...OPTS, timeout: 60_000 }, sha256);
  }
}

describe('air-gap proof: every page and flow stays on Hearth\'s own origin', function () {
  this.timeout(600_000);
  let hearth: TestHearth;
  let browser: Browser;
  /** Hearth's own TURN: a managed coturn (as npm start runs it) the test Hearth hands out as its TURN server. */
  let turn: ManagedTurn | null = null;
  /** Hearth's plain-HTTP port (HTTP_PORT), where a device that does not trust the CA yet finds /trust. */
  let plain: string;
  const rec = new Recorder();
  const walked: string[] = [];
  let ada: TestUser;
  let bob: TestUser;

  before(async () => {
    // The test Hearth starts no children; main.ts's managed coturn is started here the same way, on a
    // free port (other test Hearths may hold 3478), and given to Hearth like an external one.
    const lan = lanIPv4();
    if (lan.length > 0) {
      turn = await startManagedTurn(tempDir('airgap-turn'), createLogger('silent'), { port: await freePort(), relayPorts: [49800, 49899] });
    }
    const httpPort = await freePort();
    plain = `http://127.0.0.1:${httpPort}`;
    const turnEnv: Record<string, string> = turn ? { TURN: 'external', TURN_URLS: turn.urls.join(','), TURN_SECRET: turn.secret } : { TURN: 'off' };
    hearth = await startTestHearth({ ...turnEnv, HTTP_PORT: String(httpPort) }, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    await rec.attach(browser);
  });
  after(async () => {
    await rec.detach();
    await browser?.close();
    await hearth?.close();
    await turn?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    console.log('      walked before the failure:', walked.join('; '));
    for (const u of [ada, bob]) {
      if (!u) continue;
      console.log(`      ${u.name}: ${u.page.url()} errors ${JSON.stringify(u.errors)} transfers ${JSON.stringify(await u.page.evaluate(() => (window as any).__hearth?.transfers?.list?.() ?? null).catch(() => null))}`);
      await screenshot(u.page, `air-gap-failed-${u.name}`).catch(() => undefined);
    }
  });

  const step = (what: string) => walked.push(what);
  const go = async (page: Page, path: string): Promise<number> => (await page.goto(`${hearth.origin}${path}`))?.status() ?? 0;

  it('walks trust, sign-in, registration, lobby, room, call, chat, screen share, ring, transfers, account, admin and status', async () => {
    const origin = hearth.origin;
    ada = await newUser(browser, 'ada');
    bob = await newUser(browser, 'bob');
    await rec.watchPage(ada.page, 'ada');
    await rec.watchPage(bob.page, 'bob');

    // Before an account: the trust page over plain HTTP (a device without the CA yet), the sign-in
    // page, and its "First time on this device?" link to the trust page over HTTPS.
    expect((await ada.page.goto(`${plain}/trust`))?.status()).to.equal(200);
    await ada.page.waitForSelector('h1');
    step('trust page over plain HTTP on HTTP_PORT');
    expect(await go(ada.page, '/login')).to.equal(200);
    await ada.page.waitForSelector('::-p-aria([name="Sign in"][role="button"])');
    step('sign-in page');
    await Promise.all([ada.page.waitForNavigation(), ada.page.locator('::-p-aria([name="First time on this device?"][role="link"])').click()]);
    expect(new URL(ada.page.url()).pathname).to.equal('/trust');
    await ada.page.waitForSelector('h1');
    step('"First time on this device?" to the trust page /trust over HTTPS');
    await registerInBrowser(ada, origin, 'ada', 'Ada Lovelace');
    await registerInBrowser(bob, origin, 'bob', 'Bob Builder');
    step('registration (two people, the first an admin) and the lobby');

    // Sign out and back in through the form.
    await Promise.all([ada.page.waitForNavigation(), ada.page.locator('::-p-aria([name="Sign out"][role="button"])').click()]);
    await ada.page.locator('::-p-aria([name="Username"][role="textbox"])').fill('ada');
    const password = await formControl(ada.page, 'Password');
    await password.type('correct horse battery');
    await password.dispose();
    await Promise.all([ada.page.waitForNavigation(), ada.page.locator('::-p-aria([name="Sign in"][role="button"])').click()]);
    expect(new URL(ada.page.url()).pathname).to.equal('/');
    step('sign out, sign in');

    // A room from the lobby's New room form; both join its call with fake camera and microphone.
    await ada.page.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await ada.page.locator('::-p-aria(Room name)').fill('Air gap');
    await Promise.all([ada.page.waitForNavigation(), ada.page.locator('::-p-aria(Create room)').click()]);
    const slug = new URL(ada.page.url()).pathname.split('/')[2]!;
    await openRoom(ada.page, origin, slug);
    await joinCall(ada.page);
    await openRoom(bob.page, origin, slug);
    await joinCall(bob.page);
    for (const p of [ada.page, bob.page]) await waitDecoding(p, 1, { timeout: 45_000 });
    step('room page, pre-join, a two-person call decoding video and audio');

    // Sharing the room (where this build has it): the QR code dialog, made on the server.
    const showQr = await ada.page.$('::-p-aria([name="Show QR code"][role="button"])');
    if (showQr) {
      await showQr.click();
      await ada.page.waitForSelector('dialog[open]', OPTS);
      await ada.page.keyboard.press('Escape');
      await ada.page.waitForFunction(() => !document.querySelector('dialog[open]'), OPTS);
      step('room share: Show QR code');
    } else {
      step('room share: no Show QR code on the room page in this build');
    }

    // Chat, with a link in it: nothing is fetched for a link (no previews).
    await ada.page.locator('::-p-aria(Message)').fill('Notes at https://example.org/notes and http://203.0.113.9/x');
    await ada.page.keyboard.press('Enter');
    await bob.page.waitForFunction(() => [...document.querySelectorAll('#chat-messages .chat-message__text')].some((p) => p.textContent?.includes('example.org')), OPTS);
    step('chat (a message with outside links, shown not fetched)');

    // Screen share: the other side gets the screen's tile.
    await ada.page.bringToFront();
    await ada.page.locator('::-p-aria(Share screen)').click();
    await ada.page.waitForSelector('::-p-aria(Stop sharing)', OPTS);
    await bob.page.waitForFunction(() => [...document.querySelectorAll('#call-grid .tile .tile-name')].some((e) => e.textContent === 'Ada Lovelace (screen)'), OPTS);
    await ada.page.locator('::-p-aria(Stop sharing)').click();
    step('screen share');

    // A file in the room, to everyone, over the call's own connections: offered, accepted, verified.
    const dir = tempDir('airgap-files');
    const small = await randomFile(dir, 'notes.bin', 256 * 1024);
    await ada.page.locator('::-p-aria(Send file)').setTimeout(30_000).click();
    await ada.page.waitForSelector('dialog.transfer-send', OPTS);
    const picker = (await ada.page.$('#transfer-files')) as ElementHandle<HTMLInputElement>;
    await picker.uploadFile(small.file);
    await picker.dispose();
    await ada.page.locator('dialog.transfer-send ::-p-aria(Send)').click();
    await bob.page.locator('::-p-aria(Accept notes.bin from Ada Lovelace)').setTimeout(30_000).click();
    await verified([ada.page, bob.page], small.sha256);
    step('room file transfer to everyone, Verified on both sides');

    // Ringing: back in the lobby, Ada calls Bob, whose tab answers; both land in a private call.
    await Promise.all([ada.page.goto(`${origin}/`), bob.page.goto(`${origin}/`)]);
    for (const p of [ada.page, bob.page]) await p.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await ada.page.locator('::-p-aria(Call Bob Builder)').setTimeout(30_000).click();
    await bob.page.waitForSelector('::-p-aria(Incoming call from Ada Lovelace)', OPTS);
    await Promise.all([ada.page.waitForNavigation(OPTS), bob.page.waitForNavigation(OPTS), bob.page.locator('::-p-aria(Accept)').click()]);
    for (const p of [ada.page, bob.page]) await waitDecoding(p, 1, { timeout: 45_000 });
    step('ring from the lobby, accepted: a private call decoding');

    // A file from the lobby: offered, accepted, verified on both sides.
    await Promise.all([ada.page.goto(`${origin}/`), bob.page.goto(`${origin}/`)]);
    for (const p of [ada.page, bob.page]) await p.waitForFunction(() => !!(window as any).__hearth?.transfers && window.__hearth?.signaling?.isOpen, OPTS);
    // Once Ada's lobby has Bob back in the lobby (not in the call they just left).
    await ada.page.waitForFunction(() => [...document.querySelectorAll('#online-list li')].some((li) => li.querySelector('.person__name')?.textContent?.includes('Bob Builder') && li.querySelector('.person__where')?.textContent === 'In the lobby'), OPTS);
    const other = await randomFile(dir, 'minutes.bin', 256 * 1024);
    const [lobbyChooser] = await Promise.all([ada.page.waitForFileChooser(), ada.page.locator('::-p-aria(Send file to Bob Builder)').setTimeout(30_000).click()]);
    await lobbyChooser.accept([other.file]);
    await bob.page.locator('::-p-aria(Accept minutes.bin from Ada Lovelace)').setTimeout(45_000).click();
    await verified([ada.page, bob.page], other.sha256);
    step('lobby file transfer, Verified on both sides');

    // The account page, the admin page and the status page (which polls its figures).
    expect(await go(ada.page, '/account')).to.equal(200);
    await ada.page.waitForSelector('::-p-aria([name="Delete account"][role="button"])', OPTS);
    step('account page');
    expect(await go(ada.page, '/admin')).to.equal(200);
    await ada.page.waitForSelector('::-p-aria([name="Create invite link"][role="button"])', OPTS);
    await Promise.all([ada.page.waitForNavigation(OPTS), ada.page.locator('::-p-aria([name="Create invite link"][role="button"])').click()]);
    await formControl(ada.page, 'New invite link', 30_000);
    step('admin page (an invite link made)');
    expect(await go(ada.page, '/admin/status')).to.equal(200);
    await ada.page.waitForFunction(() => document.querySelectorAll('svg[data-points]').length > 0 && Number(document.querySelector('svg[data-points]')!.getAttribute('data-points')) >= 2, OPTS);
    step('status page (polling its figures)');

    // What a stray visitor meets: an unknown page, a dead reset link.
    expect(await go(bob.page, '/no-such-page')).to.equal(404);
    await go(bob.page, '/reset/not-a-token');
    await bob.page.waitForSelector('h1', OPTS);
    step('not-found page and a dead reset link');

    // Shared files: not a feature of this build (no route), so nothing to walk.
    step('shared files: none in this build');

    // The verdict.
    const requests = rec.requests;
    const away = requests.filter((r) => offOrigin(r.url, origin, plain));
    const hosts = ownHosts(origin);
    const badIce = foreignIce(rec.ice, hosts);
    const byKind = new Map<string, number>();
    for (const r of requests) byKind.set(r.from.replace(/^\w+ /, ''), (byKind.get(r.from.replace(/^\w+ /, '')) ?? 0) + 1);
    // Credentials differ per person and renewal: the summary lists the servers' URLs only.
    const iceSeen = new Set(rec.ice.map((r) => JSON.stringify((r.iceServers ?? []).map((x) => x.urls))));
    console.log([
      '      air-gap walk:',
      ...walked.map((w) => `        - ${w}`),
      `      pages loaded: ${rec.visited.length} (${[...new Set(rec.visited.map((v) => v.split(' ')[1]!.replace(/^\/r\/.+/, '/r/<room>')))].join(', ')})`,
      `      requests recorded: ${requests.length} (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}); away from ${origin}: ${away.length}`,
      `      targets seen: ${[...new Set(rec.targets.map((t) => t.split(' ')[0]))].join(', ')}`,
      `      Hearth's own TURN: ${turn ? turn.urls.join(' ') : 'none (this machine has no LAN IPv4 address for a relay)'}`,
      `      RTCPeerConnection configurations: ${rec.ice.length}, ICE servers in them: ${[...iceSeen].join(' | ')}`,
    ].join('\n'));
    expect(away.map((r) => `${r.from}: ${r.url}`), 'requests to another origin').to.deep.equal([]);
    expect(badIce, 'ICE servers other than Hearth\'s own TURN').to.deep.equal([]);
    // The recorders saw the walk: pages, the socket, the connections.
    expect(requests.some((r) => r.from.endsWith('websocket') && r.url.startsWith(origin.replace('https', 'wss')))).to.equal(true);
    expect(rec.ice.filter((r) => r.where === 'constructor').length).to.be.at.least(4);
    // With Hearth's TURN running, the connections were given it (and only it): the check above saw real entries.
    if (turn) expect(rec.ice.some((r) => (r.iceServers ?? []).some((x) => ([] as string[]).concat(x.urls).some((u) => u.startsWith('turn:'))))).to.equal(true);
    expect([...ada.errors, ...bob.errors]).to.deep.equal([]);
  });
  it('its recorders catch a request to another origin from a page and from a worker, and a foreign ICE server', async () => {
    // A blank page (no Hearth CSP to stop it) asks a port nobody listens on: another origin, and
    // nothing leaves the machine. The worker is a blob: one, as a page could make.
    const probe = await newUser(browser, 'probe');
    await rec.watchPage(probe.page, 'probe');
    const from = rec.requests.length;
    const iceFrom = rec.ice.length;
    await probe.page.goto('about:blank');
    await probe.page.evaluate(async () => {
      await fetch('http://127.0.0.1:9/from-page').catch(() => undefined);
      const src = URL.createObjectURL(new Blob(["fetch('http://127.0.0.1:9/from-worker').catch(() => undefined).then(() => postMessage('done'))"], { type: 'text/javascript' }));
      const w = new Worker(src);
      await new Promise((done) => w.addEventListener('message', done));
      w.terminate();
    });
    await probe.page.evaluate(() => new RTCPeerConnection({ iceServers: [{ urls: 'stun:stun.example.org:3478' }, { urls: ['turn:127.0.0.1:3478', 'turn:turn.example.org'], username: 'u', credential: 'c' }] }).close());
    const deadline = Date.now() + 10_000;
    const caught = () => rec.requests.slice(from).filter((r) => offOrigin(r.url, hearth.origin)).map((r) => r.url);
    while (caught().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(caught()).to.include.members(['http://127.0.0.1:9/from-page', 'http://127.0.0.1:9/from-worker']);
    while (rec.ice.length === iceFrom && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(foreignIce(rec.ice.slice(iceFrom), ownHosts(hearth.origin))).to.deep.equal([
      'constructor: stun:stun.example.org:3478', 'constructor: turn:turn.example.org',
      'getConfiguration: stun:stun.example.org:3478', 'getConfiguration: turn:turn.example.org',
    ]);
    await probe.ctx.close();
  });
});
