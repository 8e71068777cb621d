// Shared files pulled from several people at once, in real Chromium: Ana and Ben hold the same file, Cas downloads it
// from both; holders leave and come back, Cas reloads mid-download, a holder serves a corrupted chunk.
import { expect } from 'chai';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, watchErrors, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';
import { randomFile } from '../helpers/files.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
/**
 * How long a holder takes to read each chunk where a test must catch a download midway: WebRTC ignores
 * network emulation, and DevTools CPU throttling busy-waits a whole core per throttled tab (measured:
 * 84 % of a core at ×4, idle), which on this 2-core machine slows the receiver as much as the holders.
 */
const SLOW_READ_MS = 250;

// Page hooks are source strings: tsx (esbuild) would wrap named functions in a `__name` helper the page lacks.

/**
 * RX_COUNTER — adds up, in sessionStorage (so a reload keeps it), every binary byte this page receives on
 * the shared-files channels it opens: what the downloader really fetched, re-fetches included.
 */
const RX_COUNTER = `(() => {
  const orig = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (label, opts) {
    const dc = orig.call(this, label, opts);
    if (String(label).startsWith('sf:')) dc.addEventListener('message', (e) => {
      if (e.data instanceof ArrayBuffer) sessionStorage.setItem('swarmRx', String(Number(sessionStorage.getItem('swarmRx') || 0) + e.data.byteLength));
    });
    return dc;
  };
})()`;

/**
 * SLOW_READS — test-only: while `window.__slowReadMs` is set, every Blob read of 1 MiB or more (a
 * holder reading chunks) resolves that much later per MiB, as from a slow disk or device; it costs no CPU.
 */
const SLOW_READS = `(() => {
  window.__slowReadMs = 0;
  const read = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = async function () {
    const buf = await read.call(this);
    if (buf.byteLength >= ${MiB} && window.__slowReadMs) await new Promise((r) => setTimeout(r, window.__slowReadMs * buf.byteLength / ${MiB}));
    return buf;
  };
})()`;

const slowReads = (ps: Person[], ms: number) => Promise.all(ps.map((p) => p.page.evaluate((t) => ((window as any).__slowReadMs = t), ms)));

/**
 * CORRUPT_SECOND_READ — test-only: the holder reads chunks with blob.slice(a, b).arrayBuffer();
 * from now on the second read of 1 MiB or more this page makes comes back with one byte flipped
 * (in its first chunk).
 */
const CORRUPT_SECOND_READ = `(() => {
  const start = new WeakMap();
  const slice = Blob.prototype.slice;
  Blob.prototype.slice = function (...a) { const b = slice.apply(this, a); start.set(b, a[0] || 0); return b; };
  const read = Blob.prototype.arrayBuffer;
  window.__corrupt = { reads: 0, chunk: null };
  Blob.prototype.arrayBuffer = async function () {
    const buf = await read.call(this);
    if (buf.byteLength >= ${MiB} && start.has(this) && ++window.__corrupt.reads === 2) {
      new Uint8Array(buf)[12345] ^= 0xff;
      window.__corrupt.chunk = start.get(this) / ${MiB};
    }
    return buf;
  };
})()`;

/**
 * LYING_MANIFEST — test-only: the holder answers a manifest request with its chunk hashes as binary
 * messages; from now on this page flips one byte of the first binary message after each manifest header.
 */
const LYING_MANIFEST = `(() => {
  const send = RTCDataChannel.prototype.send;
  let lie = false;
  window.__lies = 0;
  RTCDataChannel.prototype.send = function (data) {
    if (typeof data === 'string') lie = data.startsWith('{"t":"manifest","n":');
    else if (lie) {
      lie = false;
      const copy = new Uint8Array(data.byteLength);
      copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      copy[0] ^= 0xff;
      window.__lies++;
      return send.call(this, copy);
    }
    return send.call(this, data);
  };
})()`;

/**
 * RAW_DOWNLOADER — test-only, in the downloader's page: `window.__rawChannel(peer, label)` opens a
 * data channel to a holder's tab by hand (its own RTCPeerConnection, negotiated with `files-rtc`
 * messages through the page's signaling socket), so the test can send what no honest engine would.
 */
const RAW_DOWNLOADER = `(() => {
  window.__rawChannel = (peer, label) => new Promise((resolve, reject) => {
    const sig = window.__hearth.signaling;
    const id = 'raw' + Math.random().toString(36).slice(2, 12);
    const pc = new RTCPeerConnection();
    const dc = pc.createDataChannel(label, { ordered: true });
    dc.binaryType = 'arraybuffer';
    const send = (data) => sig.sendSignal(peer, { kind: 'app', app: 'files-rtc', data });
    pc.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) send({ k: 'cand', pc: id, cand: e.candidate.toJSON() }); };
    const off = sig.on('signal', async (m) => {
      if (m.from !== peer || m.payload.kind !== 'app' || m.payload.app !== 'files-rtc') return;
      const d = m.payload.data;
      if (d.k === 'sdp') await pc.setRemoteDescription(d.sdp);
      else if (pc.remoteDescription) await pc.addIceCandidate(d.cand).catch(() => {});
    });
    dc.onopen = () => resolve({ id });
    setTimeout(() => reject(new Error('no channel')), 15000);
    window.__raw = { pc, dc, off, closed: false, got: 0 };
    dc.onclose = () => { window.__raw.closed = true; };
    dc.onmessage = (e) => { window.__raw.got += typeof e.data === 'string' ? 0 : e.data.byteLength; };
    pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => send({ k: 'sdp', pc: id, sdp: { type: 'offer', sdp: pc.localDescription.sdp } }));
  });
})()`;

interface From { userId: string; displayName: string; bytes: number }
interface Download { id: string; name: string; total: number; done: number; state: string; error: string | null; from: From[] }

type Person = TestUser & { display: string };

/** hashWasm — hash-wasm bundled for the page (the app's CSP allows its WebAssembly): `window.createSHA256`. */
async function hashWasm(): Promise<string> {
  const built = await esbuild.build({ stdin: { contents: "import { createSHA256 } from 'hash-wasm'; (window as any).createSHA256 = createSHA256;", loader: 'ts', resolveDir: process.cwd() }, bundle: true, write: false, format: 'iife' });
  // esbuild's service process would outlive the suite (the run checks that tests leave no processes).
  await esbuild.stop();
  return built.outputFiles[0]!.text;
}

/** openFiles — a new page in the person's context on /files, with the engine up and the socket open. */
async function openFiles(p: Person, origin: string): Promise<void> {
  if (!p.page || p.page.isClosed()) {
    p.page = await p.ctx.newPage();
    watchErrors(p);
    await p.page.setViewport({ width: 1280, height: 900 });
    for (const hook of [RX_COUNTER, SLOW_READS]) await p.page.evaluateOnNewDocument(hook);
  }
  await p.page.goto(`${origin}/files`);
  await ready(p.page);
}

/** ready — the files island's engine is exposed and the signaling socket open. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => !!(window as any).__hearth?.files && (window as any).__hearth.signaling?.isOpen, { polling: 100, timeout: 20_000 });
}

/** person — registered in a browser context of their own, on /files, with the page hooks installed. */
async function person(browser: Browser, origin: string, username: string, display: string): Promise<Person> {
  const p = { ...(await newUser(browser, username, { height: 900, scripts: [RX_COUNTER, SLOW_READS] })), display };
  await registerInBrowser(p, origin, username, display);
  await openFiles(p, origin);
  return p;
}

/** share — Share files, the file picked in the chooser; waits until the server lists it as this person's, Available. */
async function share(p: Person, file: string, id: string): Promise<void> {
  const [chooser] = await Promise.all([p.page.waitForFileChooser(), p.page.locator('::-p-aria(Share files)').setTimeout(10_000).click()]);
  await chooser.accept([file]);
  await held(p, id);
}

/** held — the server lists `id` among this person's shares, held by a tab now. */
async function held(p: Person, id: string): Promise<void> {
  await p.page.waitForFunction((i) => (window as any).__hearth.files.mine().some((m: any) => m.id === i && m.held), { polling: 100, timeout: 60_000 }, id);
}

/** download — the row's Download <name>, once the item is listed with `holders` holders. */
async function download(p: Person, id: string, name: string, holders: number): Promise<void> {
  await p.page.waitForFunction((i, n) => (window as any).__hearth.files.items().find((x: any) => x.id === i)?.holders.length === n, { polling: 100, timeout: 20_000 }, id, holders);
  await p.page.evaluate(() => sessionStorage.setItem('swarmRx', '0'));
  await p.page.locator(`::-p-aria(Download ${name})`).setTimeout(10_000).click();
  await waitDownload(p, id, 'true', 10_000);
}

/** waitDownload — until the page's download of `id` matches `pred` (a JS expression over `d`). */
async function waitDownload(p: Person, id: string, pred: string, timeout = 120_000): Promise<Download> {
  const handle = await p.page.waitForFunction(`(() => { const d = window.__hearth.files.downloads().find((x) => x.id === ${JSON.stringify(id)}); return !!d && (${pred}) && d; })()`, { polling: 100, timeout });
  return (await handle.jsonValue()) as Download;
}

const bytesFrom = (d: Download, who: string): number => d.from.find((f) => f.displayName === who)?.bytes ?? 0;

/** savedSha256 — SHA-256 of the page's verified local copy (`fileOf`), hashed in the page in 8 MiB slices. */
async function savedSha256(page: Page, sha256: string, lib: string): Promise<string | null> {
  if (!(await page.evaluate(() => 'createSHA256' in window))) await page.evaluate(lib);
  return page.evaluate(async (sha) => {
    const f: File | null = await (window as any).__hearth.files.fileOf(sha);
    if (!f) return null;
    const h = await (window as any).createSHA256();
    h.init();
    for (let at = 0; at < f.size; at += 8 * 1024 * 1024) h.update(new Uint8Array(await f.slice(at, at + 8 * 1024 * 1024).arrayBuffer()));
    return h.digest('hex') as string;
  }, sha256);
}

/** rowText — the visible text of the row of `id` in the section named `section`. */
const rowText = (page: Page, section: string, id: string) => page.$eval(`::-p-aria([name="${section}"][role="region"]) li[data-id="${id}"]`, (li) => (li as HTMLElement).innerText);

describe('shared files from several people at once (three people, Chromium)', function () {
  this.timeout(240_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ana: Person;
  let ben: Person;
  let cas: Person;
  let dir: string;
  let lib: string;

  before(async function () {
    this.timeout(90_000);
    dir = tempDir('swarm');
    lib = await hashWasm();
    hearth = await startTestHearth({}, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    ana = await person(browser, hearth.origin, 'ana', 'Ana');
    ben = await person(browser, hearth.origin, 'ben', 'Ben');
    cas = await person(browser, hearth.origin, 'cas', 'Cas');
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });
  beforeEach(async () => {
    // A test that failed with a holder away leaves the next ones their people.
    for (const p of [ana, ben]) if (p.page.isClosed()) await openFiles(p, hearth.origin);
    cas.errors.length = 0;
  });
  afterEach(async function () {
    for (const p of [ana, ben]) if (p && !p.page.isClosed()) await slowReads([p], 0).catch(() => undefined);
    if (this.currentTest?.state !== 'failed') return;
    for (const p of [ana, ben, cas]) {
      if (!p || p.page.isClosed()) continue;
      console.log(p.name, JSON.stringify(await p.page.evaluate(() => (window as any).__hearth?.files?.downloads()).catch(() => null)), p.errors);
      await screenshot(p.page, `swarm-failed-${p.name}`).catch(() => undefined);
    }
  });

  it('Ana and Ben share the same 64 MiB: Cas sees one item held by both, gets a fifth or more from each, and the same SHA-256', async () => {
    const f = await randomFile(dir, 'both.bin', SIZE);
    await share(ana, f.file, f.sha256);
    await share(ben, f.file, f.sha256);
    // Holders as fast as loopback finish 64 MiB in a few seconds, the time a new connection may
    // spend settling on its network path; slowed like real devices, the split reflects the scheduler.
    await slowReads([ana, ben], SLOW_READ_MS);
    await cas.page.waitForFunction((i) => (window as any).__hearth.files.items().find((x: any) => x.id === i)?.holders.length === 2, { polling: 100, timeout: 20_000 }, f.sha256);
    const items = await cas.page.evaluate(() => (window as any).__hearth.files.items() as { id: string; name: string }[]);
    expect(items.filter((i) => i.id === f.sha256), 'one item, not one per holder').to.have.length(1);
    // Both names on the one row ("Ana, Ben"; the server does not promise an order).
    await cas.page.waitForFunction((i) => /Ana, Ben|Ben, Ana/.test(document.querySelector(`li[data-id="${i}"]`)?.textContent ?? ''), { polling: 100, timeout: 10_000 }, f.sha256);
    expect(await rowText(cas.page, 'Shared files', f.sha256)).to.match(/Ana, Ben|Ben, Ana/);

    await download(cas, f.sha256, 'both.bin', 2);
    await cas.page.waitForFunction((i) => (document.querySelector(`li[data-id="${i}"][data-state]`) as HTMLElement | null)?.innerText.includes('From 2 people'), { polling: 50, timeout: 60_000 }, f.sha256);
    await screenshot(cas.page, 'swarm-downloading');
    const d = await waitDownload(cas, f.sha256, "d.state === 'verified'");
    const [a, b] = [bytesFrom(d, 'Ana'), bytesFrom(d, 'Ben')];
    console.log(`      Ana sent ${(a / MiB).toFixed(1)} MiB, Ben ${(b / MiB).toFixed(1)} MiB`);
    expect(a, 'Ana sent a fifth or more').to.be.at.least(SIZE / 5);
    expect(b, 'Ben sent a fifth or more').to.be.at.least(SIZE / 5);
    await cas.page.waitForFunction((i) => /Verified/.test((document.querySelector(`li[data-id="${i}"][data-state]`) as HTMLElement | null)?.innerText ?? ''), { polling: 100, timeout: 10_000 }, f.sha256);
    const row = await rowText(cas.page, 'Downloads', f.sha256);
    expect(row).to.include('From 2 people');
    expect(row).to.include('Verified');
    expect(await cas.page.$eval(`li[data-id="${f.sha256}"] ::-p-aria(Downloading both.bin)`, (b) => b.getAttribute('aria-valuenow'))).to.equal('100');
    await screenshot(cas.page, 'swarm-verified');
    expect(await savedSha256(cas.page, f.sha256, lib)).to.equal(f.sha256);
    expect(cas.errors).to.deep.equal([]);
  });

  it('Ana leaves: it goes on from Ben; both leave: Paused; Ben comes back (Share again): it completes and verifies', async () => {
    const f = await randomFile(dir, 'leaving.bin', SIZE);
    await share(ana, f.file, f.sha256);
    await share(ben, f.file, f.sha256);
    await slowReads([ana, ben], SLOW_READ_MS);
    await download(cas, f.sha256, 'leaving.bin', 2);
    await waitDownload(cas, f.sha256, 'd.from.filter((x) => x.bytes > 0).length === 2 && d.done >= d.total / 10');
    await ana.page.close();
    // Cas's list drops Ana; whatever Ana had in flight is asked of Ben, and the bytes keep coming.
    await cas.page.waitForFunction((i) => (window as any).__hearth.files.items().find((x: any) => x.id === i)?.holders.length === 1, { polling: 100, timeout: 20_000 }, f.sha256);
    const afterAna = await waitDownload(cas, f.sha256, 'true');
    const goingOn = await waitDownload(cas, f.sha256, `d.done >= ${afterAna.done + 4 * MiB}`);
    expect(goingOn.state).to.equal('downloading');
    expect(bytesFrom(goingOn, 'Ben')).to.be.above(bytesFrom(afterAna, 'Ben'));
    expect(goingOn.done, 'still midway when Ben leaves').to.be.below(SIZE);

    await ben.page.close();
    const paused = await waitDownload(cas, f.sha256, "d.state === 'paused'", 30_000);
    expect(paused.done).to.be.below(SIZE);
    await cas.page.waitForFunction((i) => (document.querySelector(`li[data-id="${i}"][data-state]`) as HTMLElement | null)?.innerText.includes('Paused — waiting for someone who has this file'), { polling: 100, timeout: 10_000 }, f.sha256);
    await screenshot(cas.page, 'swarm-paused');
    // Who sent what stays attributed while they are away.
    const pausedRow = await rowText(cas.page, 'Downloads', f.sha256);
    expect(pausedRow).to.include('From 2 people');
    expect(pausedRow).to.match(/\bAna\b/);
    expect(pausedRow).to.match(/\bBen\b/);
    // Nothing moves while nobody holds the file.
    expect((await waitDownload(cas, f.sha256, 'true')).done).to.equal(paused.done);

    // Ben comes back in a new tab: his share is listed Offline, Share again picks the same file.
    await openFiles(ben, hearth.origin);
    await ben.page.waitForFunction((i) => (window as any).__hearth.files.mine().some((m: any) => m.id === i && !m.held), { polling: 100, timeout: 20_000 }, f.sha256);
    const again = `::-p-aria([name="Your shares"][role="region"]) li[data-id="${f.sha256}"] ::-p-aria(Share again)`;
    const [chooser] = await Promise.all([ben.page.waitForFileChooser(), ben.page.locator(again).setTimeout(10_000).click()]);
    await chooser.accept([f.file]);
    await held(ben, f.sha256);
    const d = await waitDownload(cas, f.sha256, "d.state === 'verified'");
    expect(d.done).to.equal(SIZE);
    expect(await savedSha256(cas.page, f.sha256, lib)).to.equal(f.sha256);
  });

  it('Cas reloads mid-download: it resumes and fetches again less than 10 % of the file', async () => {
    const f = await randomFile(dir, 'reload.bin', SIZE);
    await share(ana, f.file, f.sha256);
    await share(ben, f.file, f.sha256);
    await slowReads([ana, ben], SLOW_READ_MS);
    await download(cas, f.sha256, 'reload.bin', 2);
    const before = await waitDownload(cas, f.sha256, 'd.done >= d.total / 3');
    expect(before.state).to.equal('downloading');
    await cas.page.reload();
    await ready(cas.page);
    // The download comes back by itself (no click), from where it was.
    const resumed = await waitDownload(cas, f.sha256, 'true', 20_000);
    expect(resumed.done, 'resumed, not restarted').to.be.above(0);
    const d = await waitDownload(cas, f.sha256, "d.state === 'verified'");
    expect(d.done).to.equal(SIZE);
    expect(await savedSha256(cas.page, f.sha256, lib)).to.equal(f.sha256);
    const received = await cas.page.evaluate(() => Number(sessionStorage.getItem('swarmRx')));
    const again = received - SIZE - (SIZE / MiB) * 32; // the manifest: 32 bytes a chunk
    console.log(`      received ${(received / MiB).toFixed(1)} MiB for ${SIZE / MiB} MiB: ${(again / MiB).toFixed(1)} MiB fetched again after the reload at ${(before.done / MiB).toFixed(0)} MiB`);
    expect(again, `fetched again: ${again} bytes`).to.be.below(0.1 * SIZE);
  });

  it('a holder who serves a corrupted chunk is dropped; the file still verifies from the other', async () => {
    const f = await randomFile(dir, 'corrupt.bin', SIZE);
    await share(ana, f.file, f.sha256);
    await share(ben, f.file, f.sha256);
    await ana.page.evaluate(CORRUPT_SECOND_READ);
    await download(cas, f.sha256, 'corrupt.bin', 2);
    await ana.page.waitForFunction(() => (window as any).__corrupt.chunk !== null, { polling: 50, timeout: 60_000 });
    const midway = await waitDownload(cas, f.sha256, 'd.done >= d.total / 2');
    const d = await waitDownload(cas, f.sha256, "d.state === 'verified'");
    const [a, b] = [bytesFrom(d, 'Ana'), bytesFrom(d, 'Ben')];
    console.log(`      Ana's chunk ${await ana.page.evaluate(() => (window as any).__corrupt.chunk)} was corrupted; Ana sent ${(a / MiB).toFixed(1)} MiB, Ben ${(b / MiB).toFixed(1)} MiB`);
    expect(a, 'nothing more from Ana after her bad chunk').to.equal(bytesFrom(midway, 'Ana'));
    expect(a).to.be.below(SIZE / 4);
    expect(b).to.be.above(SIZE / 2);
    expect(await savedSha256(cas.page, f.sha256, lib)).to.equal(f.sha256);
    expect(cas.errors).to.deep.equal([]);
  });

  it('a holder whose manifest does not hash to the announced one is dropped before it sends a chunk', async () => {
    const f = await randomFile(dir, 'lying.bin', 8 * MiB);
    await share(ana, f.file, f.sha256);
    await ana.page.evaluate(LYING_MANIFEST);
    await download(cas, f.sha256, 'lying.bin', 1);
    // Ana's manifest is refused: she is dropped, and with nobody else the download waits.
    await ana.page.waitForFunction(() => (window as any).__lies > 0, { polling: 50, timeout: 30_000 });
    await waitDownload(cas, f.sha256, "d.state === 'paused'", 30_000);
    await share(ben, f.file, f.sha256);
    const d = await waitDownload(cas, f.sha256, "d.state === 'verified'");
    expect(bytesFrom(d, 'Ana'), 'no chunk from Ana').to.equal(0);
    expect(bytesFrom(d, 'Ben')).to.equal(8 * MiB);
    expect(await savedSha256(cas.page, f.sha256, lib)).to.equal(f.sha256);
    expect(cas.errors).to.deep.equal([]);
    // The lie stays in Ana's page: the next test gets her a fresh one.
    await ana.page.close();
  });
  it('a downloader that lies to a holder (out-of-range, flooding, malformed requests) loses only its own channel; the holder goes on serving', async () => {
    const f = await randomFile(dir, 'hostile.bin', 8 * MiB);
    await share(ana, f.file, f.sha256);
    const anaPeer = await ana.page.evaluate(() => (window as any).__hearth.signaling.peerId as string);
    await cas.page.evaluate(RAW_DOWNLOADER);
    const hostile = [
      '{"t":"get","i":[8]}', // chunk 8 of an 8-chunk file: out of range
      JSON.stringify({ t: 'get', i: Array.from({ length: 16 }, () => 0) }), // sent five times: 80 requests queued
      'not json',
      '{"t":"c","i":0}', // a holder's message, from a downloader
    ];
    for (const [k, text] of hostile.entries()) {
      await cas.page.evaluate((peer, label) => (window as any).__rawChannel(peer, label), anaPeer, `sf:${f.sha256}`);
      // The flood: more chunk requests queued at once than any honest downloader keeps in flight.
      const times = k === 1 ? 5 : 1;
      await cas.page.evaluate((t, n) => { for (let i = 0; i < n; i++) (window as any).__raw.dc.send(t); }, text, times);
      await cas.page.waitForFunction(() => (window as any).__raw.closed, { polling: 50, timeout: 15_000 });
      await cas.page.evaluate(() => { (window as any).__raw.off(); (window as any).__raw.pc.close(); });
    }
    // A channel for a file Ana does not hold is closed at once, before anything is sent.
    await cas.page.evaluate((peer) => (window as any).__rawChannel(peer, `sf:${'0'.repeat(64)}`).catch(() => null), anaPeer);
    await cas.page.waitForFunction(() => (window as any).__raw.closed, { polling: 50, timeout: 15_000 });
    expect(await cas.page.evaluate(() => (window as any).__raw.got)).to.equal(0);
    await cas.page.evaluate(() => (window as any).__raw.pc.close());
    // Ana's page is unharmed: Ben downloads the file from her and it verifies.
    await download(ben, f.sha256, 'hostile.bin', 1);
    const d = await waitDownload(ben, f.sha256, "d.state === 'verified'");
    expect(bytesFrom(d, 'Ana')).to.equal(8 * MiB);
    expect(ana.errors).to.deep.equal([]);
  });
});
