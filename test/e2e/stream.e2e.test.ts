// The stream service worker in Chromium: the Range answers it gives for /files/stream/<sha256> from
// the bytes the controlling page hands it, and (two people) a shared video played without downloading it.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { createRoom, joinCall, openRoom } from '../helpers/call.js';
import { startTestHearth, useHearthAndBrowser, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';

const SHA = 'ab'.repeat(32);
const SIZE = 10 * 1024 * 1024 + 123;
const MiB = 1024 * 1024;

/** byteAt — the synthetic file's byte at `i` (the page and the test compute it alike). */
const byteAt = (i: number) => (i * 7 + (i >> 12)) & 0xff;

/**
 * servePage — registers the worker from the page (as stream-bridge.ts does) and answers its asks for
 * SHA with synthetic bytes, counting what it was asked for (window.__asked).
 */
async function servePage(page: Page): Promise<void> {
  await page.evaluate(async (sha: string, size: number) => {
    const w = window as unknown as { __asked: [number, number][] };
    w.__asked = [];
    const c = navigator.serviceWorker;
    c.addEventListener('message', (e: MessageEvent) => {
      const ask = (e.data as { hearthStream?: { op: string; sha256: string } }).hearthStream;
      const port = e.ports[0];
      if (!ask || !port) return;
      if (ask.sha256 !== sha) {
        port.postMessage({ op: 'refused' });
        return;
      }
      port.onmessage = (m: MessageEvent<{ op: string; start: number; end: number }>) => {
        if (m.data.op !== 'read') return;
        const { start, end } = m.data;
        w.__asked.push([start, end]);
        const bytes = new Uint8Array(end - start);
        for (let i = start; i < end; i++) bytes[i - start] = (i * 7 + (i >> 12)) & 0xff;
        port.postMessage({ op: 'bytes', bytes: bytes.buffer }, [bytes.buffer]);
      };
      port.postMessage({ op: 'opened', size });
    });
    c.startMessages();
    await c.register('/files/sw.js', { scope: '/files', updateViaCache: 'none' });
    await c.ready;
    if (!c.controller) await new Promise((r) => c.addEventListener('controllerchange', r, { once: true }));
  }, SHA, SIZE);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  length: number;
  first: number[];
  last: number[];
}

/** get — fetches `path` from the page with an optional Range, as the page's own request. */
function get(page: Page, path: string, range?: string): Promise<Answer> {
  return page.evaluate(async (p: string, r: string | null) => {
    const res = await fetch(p, { headers: r ? { Range: r } : {} });
    const buf = new Uint8Array(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => { headers[k] = v; });
    return { status: res.status, headers, length: buf.length, first: [...buf.slice(0, 4)], last: [...buf.slice(-4)] };
  }, path, range ?? null);
}

const expected = (start: number, end: number) => ({
  first: [0, 1, 2, 3].map((k) => byteAt(start + k)),
  last: [4, 3, 2, 1].map((k) => byteAt(end - k)),
});

describe('the stream service worker', function () {
  this.timeout(90_000);
  const env = useHearthAndBrowser();

  it('is served at a fixed URL with a scope beyond its folder, as JavaScript, not cached', async () => {
    const user = await newUser(env.browser, 'ana');
    await user.page.goto(`${env.hearth.origin}/trust`);
    const head = await user.page.evaluate(async () => {
      const r = await fetch('/files/sw.js');
      return { status: r.status, type: r.headers.get('content-type'), allowed: r.headers.get('service-worker-allowed'), cache: r.headers.get('cache-control'), body: await r.text() };
    });
    expect(head.status).to.equal(200);
    expect(head.type).to.match(/^text\/javascript/);
    expect(head.allowed).to.equal('/');
    expect(head.cache).to.equal('no-cache');
    expect(head.body).to.include('hearthStream');
    expect(head.body).to.match(/sourceMappingURL=\/build\/workers\/stream-sw-\w+\.js\.map/);
    await user.ctx.close();
  });

  it('answers Range requests from the page that plays the file: 206, bounded, exact bytes; refuses others', async () => {
    const user = await newUser(env.browser, 'ben');
    await registerInBrowser(user, env.hearth.origin, 'ben', 'Ben');
    const { page } = user;
    await page.goto(`${env.hearth.origin}/files`);
    await servePage(page);
    const url = `/files/stream/${SHA}?type=video%2Fmp4`;

    // A closed range inside one piece and across pieces.
    let a = await get(page, url, 'bytes=100-199');
    expect(a.status).to.equal(206);
    expect(a.headers['content-range']).to.equal(`bytes 100-199/${SIZE}`);
    expect(a.headers['content-length']).to.equal('100');
    expect(a.headers['accept-ranges']).to.equal('bytes');
    expect(a.headers['content-type']).to.equal('video/mp4');
    expect(a).to.include({ length: 100 }).and.deep.include(expected(100, 200));

    a = await get(page, url, `bytes=${MiB - 10}-${MiB + 9}`);
    expect(a.headers['content-range']).to.equal(`bytes ${MiB - 10}-${MiB + 9}/${SIZE}`);
    expect(a).to.include({ length: 20 }).and.deep.include(expected(MiB - 10, MiB + 10));

    // Open-ended: a bounded answer (4 MiB), which says where it ends.
    a = await get(page, url, 'bytes=0-');
    expect(a.status).to.equal(206);
    expect(a.headers['content-range']).to.equal(`bytes 0-${4 * MiB - 1}/${SIZE}`);
    expect(a).to.include({ length: 4 * MiB }).and.deep.include(expected(0, 4 * MiB));
    a = await get(page, url, `bytes=${SIZE - 1000}-`);
    expect(a.headers['content-range']).to.equal(`bytes ${SIZE - 1000}-${SIZE - 1}/${SIZE}`);
    expect(a).to.include({ length: 1000 }).and.deep.include(expected(SIZE - 1000, SIZE));
    // The last bytes (a suffix range), and a range past the end.
    a = await get(page, url, 'bytes=-10');
    expect(a.headers['content-range']).to.equal(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expect(a).to.deep.include(expected(SIZE - 10, SIZE));
    a = await get(page, url, `bytes=${SIZE}-`);
    expect(a.status, JSON.stringify(a)).to.equal(416);
    expect(a.headers['content-range']).to.equal(`bytes */${SIZE}`);

    // The page was asked only for what the answers carried, in pieces on 1 MiB boundaries.
    const asked = await page.evaluate(() => (window as unknown as { __asked: [number, number][] }).__asked);
    for (const [s, e] of asked) expect(Math.floor(s / MiB), `${s}-${e} within one piece`).to.equal(Math.floor((e - 1) / MiB));
    const total = asked.reduce((n, [s, e]) => n + e - s, 0);
    expect(total).to.equal(100 + 20 + 4 * MiB + 1000 + 10);

    // A type that is not audio or video is answered as bytes; a file the page does not play is not answered.
    a = await get(page, `/files/stream/${SHA}?type=text%2Fhtml`, 'bytes=0-9');
    expect(a.headers['content-type']).to.equal('application/octet-stream');
    expect(a.headers['x-content-type-options']).to.equal('nosniff');
    a = await get(page, `/files/stream/${'cd'.repeat(32)}?type=video%2Fmp4`, 'bytes=0-9');
    expect(a.status).to.equal(404);
    // Other URLs pass through to the server.
    a = await get(page, '/files/stream/nothex', 'bytes=0-9');
    expect(a.status).to.equal(404);
    a = await get(page, '/healthz');
    expect(a.status).to.equal(200);
    expect(user.errors.filter((e) => !/404|416/.test(e))).to.deep.equal([]);
    await user.ctx.close();
  });
});

/**
 * makeVideo — ~100 MiB of H.264 in MP4 (moov first), 210 s of noise at a constant 4 Mbit/s, so its size
 * is its length and nothing compresses away. Fails loudly without ffmpeg (npm test installs it).
 */
function makeVideo(dir: string): string {
  const file = path.join(dir, 'noise clip.mp4');
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=640x360:r=24,noise=alls=60:allf=t+u',
      '-t', '210', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '4M', '-minrate', '4M', '-maxrate', '4M', '-bufsize', '2M',
      '-x264-params', 'nal-hrd=cbr', '-g', '48', '-movflags', '+faststart', '-an', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('ffmpeg is missing: run npm test (scripts/test-setup.sh installs it) or apt-get install ffmpeg');
    throw new Error(`ffmpeg could not make the test video: ${e.stderr?.toString() ?? e.message}`);
  }
  return file;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** openFiles — /files with its engine up and its socket open. */
async function openFiles(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/files`);
  await page.waitForFunction(() => !!window.__hearth?.files && !!window.__hearth.signaling?.isOpen, { polling: 100, timeout: 15_000 });
}

/** player — the open player's video: where it is and whether it plays. */
const player = (page: Page) => page.evaluate(() => {
  const v = document.querySelector<HTMLVideoElement>('dialog[open] video');
  return v ? { time: v.currentTime, duration: v.duration, paused: v.paused, seeking: v.seeking, error: v.error?.message ?? null, src: v.getAttribute('src') } : null;
});

describe('playing a shared video without downloading it (two people)', function () {
  this.timeout(240_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ana: TestUser;
  let ben: TestUser;
  let video: string;
  let sha256: string;
  let size: number;
  let benDownloads: string;

  before(async function () {
    this.timeout(120_000);
    const dir = tempDir('stream-video');
    video = makeVideo(dir);
    size = statSync(video).size;
    sha256 = await sha256File(video);
    hearth = await startTestHearth({}, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    ana = await newUser(browser, 'ana');
    ben = await newUser(browser, 'ben');
    // Ben's Save downloads land here.
    benDownloads = tempDir('stream-downloads');
    const cdp = await ben.page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: benDownloads, browserContextId: ben.ctx.id, eventsEnabled: false });
    await registerInBrowser(ana, hearth.origin, 'ana', 'Ana Lima');
    await registerInBrowser(ben, hearth.origin, 'ben', 'Ben Okafor');
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const u of [ana, ben]) {
      if (!u) continue;
      console.log(u.name, u.errors, await player(u.page).catch(() => null));
      await screenshot(u.page, `stream-failed-${u.name}`).catch(() => undefined);
    }
  });

  it('Ben plays the video Ana shares, seeks to 80 %, and fetches less than 30 % of it; closing forgets it', async () => {
    expect(size).to.be.within(95 * 1024 * 1024, 110 * 1024 * 1024);
    const canPlay = await ben.page.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E"'));
    expect(canPlay, "this Chromium plays H.264 in MP4").to.not.equal('');

    await openFiles(ana.page, hearth.origin);
    await openFiles(ben.page, hearth.origin);
    const [chooser] = await Promise.all([ana.page.waitForFileChooser({ timeout: 10_000 }), ana.page.locator('::-p-aria(Share files)').click()]);
    await chooser.accept([video]);

    // Ben sees it with Play (a video), and plays it.
    await ben.page.locator('::-p-aria(Play noise clip.mp4)').setTimeout(60_000).click();
    await ben.page.waitForSelector('dialog[open] ::-p-aria([name="noise clip.mp4"][role="heading"])', { timeout: 10_000 });
    await ben.page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('dialog[open] video');
      return !!v && !v.paused && v.currentTime > 1;
    }, { polling: 100, timeout: 20_000 });
    const first = await player(ben.page);
    expect(first!.src).to.equal(`/files/stream/${sha256}?type=video%2Fmp4`);
    expect(first!.duration).to.be.closeTo(210, 1);
    await screenshot(ben.page, 'stream-player');

    // Seeking to 80 % plays from there.
    await ben.page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('dialog[open] video')!;
      v.currentTime = v.duration * 0.8;
    });
    await ben.page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('dialog[open] video');
      return !!v && !v.seeking && !v.paused && v.currentTime > v.duration * 0.8 + 1;
    }, { polling: 100, timeout: 20_000 });

    // Only the ranges the element asked for came from Ana.
    const fetched = await ben.page.evaluate((id) => window.__hearth!.files!.streamed(id), sha256);
    expect(fetched, `fetched ${fetched} of ${size} bytes`).to.be.above(0).and.below(size * 0.3);
    // Nothing was downloaded: no local copy.
    expect(await ben.page.evaluate((id) => window.__hearth!.files!.fileOf(id).then((f) => f !== null), sha256)).to.equal(false);

    // Phone width.
    await ben.page.setViewport({ width: 390, height: 844 });
    await screenshot(ben.page, 'stream-player-phone');
    await ben.page.setViewport({ width: 1280, height: 860 });

    // Escape closes the player; it stops, and the stream is forgotten.
    await ben.page.keyboard.press('Escape');
    await ben.page.waitForFunction(() => !document.querySelector('dialog video'), { timeout: 5_000 });
    expect(await ben.page.evaluate((id) => window.__hearth!.files!.streamed(id), sha256)).to.equal(0);
    // The stream URL no longer plays (the page answers nothing for it).
    const after = await ben.page.evaluate(async (id) => (await fetch(`/files/stream/${id}?type=video%2Fmp4`, { headers: { Range: 'bytes=0-99' } })).status, sha256);
    expect(after).to.equal(404);

    // Again, and Close player.
    await ben.page.locator('::-p-aria(Play noise clip.mp4)').click();
    await ben.page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('dialog[open] video')?.currentTime ?? 0) > 0.5, { polling: 100, timeout: 20_000 });
    await ben.page.locator('dialog[open] ::-p-aria(Close player)').click();
    await ben.page.waitForFunction(() => !document.querySelector('dialog video'), { timeout: 5_000 });
    // Focus goes back to the button that opened it.
    expect(await ben.page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent)).to.include('noise clip.mp4');

    // A page loaded past the worker (a hard reload) is taken over when it plays.
    await ben.page.setBypassServiceWorker(true);
    await ben.page.reload();
    await ben.page.setBypassServiceWorker(false);
    await ben.page.waitForFunction(() => !!window.__hearth?.files && !!window.__hearth.signaling?.isOpen, { polling: 100, timeout: 15_000 });
    expect(await ben.page.evaluate(() => navigator.serviceWorker.controller)).to.equal(null);
    await ben.page.locator('::-p-aria(Play noise clip.mp4)').setTimeout(30_000).click();
    await ben.page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('dialog[open] video')?.currentTime ?? 0) > 0.5, { polling: 100, timeout: 20_000 });
    await ben.page.keyboard.press('Escape');
    await ben.page.waitForFunction(() => !document.querySelector('dialog video'), { timeout: 5_000 });
    expect(ben.errors.filter((e) => !/404/.test(e))).to.deep.equal([]);
    expect(ana.errors).to.deep.equal([]);
  });

  it('Ben saves a downloaded folder into a folder he picks, and as a ZIP where no picker exists: tree, empty folders and hashes equal', async () => {
    // Ana shares a folder (through the engine: the folder chooser cannot pick empty folders).
    // (No named functions inside evaluate: tsx would wrap them in a helper the page lacks.)
    const made = await ana.page.evaluate(async () => {
      const tree: [string, number][] = [['notes.txt', 1000], ['photos/beach 山田 été.jpg', 2 * 1024 * 1024 + 77], ['photos/raw/empty.dat', 0], ['deep/a/b/c.bin', 1024 * 1024]];
      const entries: { path: string; file: File }[] = [];
      const hashes: Record<string, string> = {};
      for (const [k, [p, n]] of tree.entries()) {
        const b = new Uint8Array(n);
        let x = k + 1;
        for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
        entries.push({ path: p, file: new File([b], p.split('/').pop()!) });
        hashes[p] = [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((v) => v.toString(16).padStart(2, '0')).join('');
      }
      await window.__hearth!.files!.shareFolder('Trip ünïcode', entries, ['empty', 'photos/nothing yet']);
      return hashes;
    });
    const id = await ana.page.waitForFunction(() => window.__hearth!.files!.mine().find((s) => s.kind === 'folder' && s.held)?.id ?? false, { polling: 100, timeout: 30_000 }).then((h) => h.jsonValue() as Promise<string>);
    await ben.page.locator('::-p-aria(Download folder Trip ünïcode)').setTimeout(30_000).click();
    const row = `::-p-aria([name="Downloads"][role="region"]) li[data-id="${id}"]`;
    await ben.page.locator(`${row} ::-p-text(Verified)`).setTimeout(60_000).wait();

    // A picker: the folder Ben "picks" is an origin-private one the test reads back.
    // A source string: a function in an object literal would get tsx's name helper.
    await ben.page.evaluate(`Object.defineProperty(window, 'showDirectoryPicker', { configurable: true,
      value: async () => (await navigator.storage.getDirectory()).getDirectoryHandle('picked', { create: true }) })`);
    await ben.page.locator(`${row} ::-p-aria([name="Save"][role="button"])`).click();
    const readBack = () => ben.page.evaluate(async () => {
      const out: Record<string, string> = {};
      const root = await navigator.storage.getDirectory();
      const stack: [FileSystemDirectoryHandle, string][] = [[await root.getDirectoryHandle('picked', { create: true }), '']];
      while (stack.length) {
        const [dir, prefix] = stack.pop()!;
        let any = false;
        for await (const [name, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
          any = true;
          const p = prefix ? `${prefix}/${name}` : name;
          if (h.kind === 'directory') stack.push([h as FileSystemDirectoryHandle, p]);
          else {
            const f = await (h as FileSystemFileHandle).getFile();
            out[p] = [...new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()))].map((v) => v.toString(16).padStart(2, '0')).join('');
          }
        }
        if (!any && prefix) out[`${prefix}/`] = 'dir';
      }
      return out;
    });
    const expectedTree: Record<string, string> = { 'Trip ünïcode/empty/': 'dir', 'Trip ünïcode/photos/nothing yet/': 'dir' };
    for (const [p, sha] of Object.entries(made)) expectedTree[`Trip ünïcode/${p}`] = sha;
    const deadline = Date.now() + 30_000;
    let got = await readBack();
    while (Object.keys(got).length < Object.keys(expectedTree).length && Date.now() < deadline) {
      await sleep(200);
      got = await readBack();
    }
    expect(got).to.deep.equal(expectedTree);

    // No picker: one ZIP, downloaded.
    await ben.page.evaluate(() => {
      Object.defineProperty(window, 'showDirectoryPicker', { configurable: true, value: undefined });
    });
    await ben.page.locator(`${row} ::-p-aria([name="Save"][role="button"])`).click();
    const zip = path.join(benDownloads, 'Trip ünïcode.zip');
    const until = Date.now() + 30_000;
    while (!(existsSync(zip) && !readdirSync(benDownloads).some((f) => f.endsWith('.crdownload'))) && Date.now() < until) await sleep(100);
    expect(readdirSync(benDownloads)).to.include('Trip ünïcode.zip');
    const listed = JSON.parse(execFileSync('python3', ['-c', `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: ('dir' if i.is_dir() else hashlib.sha256(z.read(i)).hexdigest()) for i in z.infolist()}))
`, zip], { encoding: 'utf8' })) as Record<string, string>;
    const expectedZip: Record<string, string> = { 'empty/': 'dir', 'photos/nothing yet/': 'dir', ...made };
    expect(listed).to.deep.equal(expectedZip);
    expect(ben.errors.filter((e) => !/404/.test(e))).to.deep.equal([]);
  });

  /** callWithSharedVideo — Ana and Ben in a call in a new room of Ana's, where Ana has shared the video. */
  async function callWithSharedVideo(title: string): Promise<{ anaRoom: Page; benRoom: Page }> {
    const slug = await createRoom(hearth, 'ana', title);
    const anaRoom = await ana.ctx.newPage();
    const benRoom = await ben.ctx.newPage();
    for (const p of [anaRoom, benRoom]) {
      await p.setViewport({ width: 1280, height: 900 });
      await openRoom(p, hearth.origin, slug);
      await joinCall(p);
    }
    const [chooser] = await Promise.all([anaRoom.waitForFileChooser({ timeout: 10_000 }), anaRoom.locator('::-p-aria([name="Share in this room"][role="button"])').setTimeout(10_000).click()]);
    await chooser.accept([video]);
    return { anaRoom, benRoom };
  }

  it('in a call, Ben plays the video Ana shares in the room, from the room page', async () => {
    const { anaRoom, benRoom } = await callWithSharedVideo('Movie night');
    await benRoom.locator('::-p-aria([name="Shared in this room"][role="region"]) ::-p-aria(Play noise clip.mp4)').setTimeout(60_000).click();
    await benRoom.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('dialog[open] video');
      return !!v && !v.paused && v.currentTime > 1;
    }, { polling: 100, timeout: 20_000 });
    // The room page's own worker registration (scope /r/) answered it.
    expect(await benRoom.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope)).to.equal(`${hearth.origin}/r/`);
    await screenshot(benRoom, 'stream-player-room');
    await benRoom.locator('dialog[open] ::-p-aria(Close player)').click();
    await benRoom.waitForFunction(() => !document.querySelector('dialog video'), { timeout: 5_000 });
    await anaRoom.close();
    await benRoom.close();
  });

  it('in a call, Ben plays the video Ana shares in the room to the room: Ana watches it streamed from her own copy; Stop the video file ends it', async () => {
    const { anaRoom, benRoom } = await callWithSharedVideo('Film club');
    const benTile = 'Ben Okafor (video file)';
    const playToRoom = '::-p-aria([name="Shared in this room"][role="region"]) ::-p-aria([name="Play noise clip.mp4 to the room"][role="button"])';
    await benRoom.locator(playToRoom).setTimeout(60_000).click();

    // Ben's own tile plays the stream URL (nothing downloaded first); the toolbar offers to stop it.
    await benRoom.waitForSelector('::-p-aria(Stop the video file)', { timeout: 20_000 });
    const own = await benRoom.evaluate(() => {
      const t = [...document.querySelectorAll('#call-grid .tile')].find((x) => x.querySelector('.tile-name')?.textContent === 'Your video file');
      return t?.querySelector('video')?.getAttribute('src') ?? null;
    });
    expect(own).to.equal(`/files/stream/${sha256}?type=video%2Fmp4`);
    expect(await benRoom.evaluate((id) => window.__hearth!.files!.fileOf(id).then((f) => f !== null), sha256)).to.equal(false);

    // Ana sees a tile for Ben's video file, and it plays: its picture is the clip's, its time goes on, frames keep coming.
    const tileVideo = (page: Page, name: string) => page.evaluate((n) => {
      const t = [...document.querySelectorAll('#call-grid .tile')].find((x) => x.querySelector('.tile-name')?.textContent === n);
      const v = t?.querySelector('video');
      return v ? { w: v.videoWidth, h: v.videoHeight, time: v.currentTime, paused: v.paused } : null;
    }, name);
    await anaRoom.waitForFunction((n) => {
      const t = [...document.querySelectorAll('#call-grid .tile')].find((x) => x.querySelector('.tile-name')?.textContent === n);
      const v = t?.querySelector('video');
      return !!v && v.videoWidth === 640 && v.videoHeight === 360 && !v.paused && v.currentTime > 0;
    }, { polling: 100, timeout: 20_000 }, benTile);
    const benPeer = await benRoom.evaluate(() => window.__hearth!.call!.self!.peerId);
    /** clipFrames — frames Ana decoded from Ben at the clip's size (his camera is another size). */
    const clipFrames = () => anaRoom.evaluate(async (id) => {
      let f = 0;
      (await window.__hearth!.mesh!.connection(id)!.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && r.frameWidth === 640 && r.frameHeight === 360) f += r.framesDecoded ?? 0;
      });
      return f;
    }, benPeer);
    const before = { time: (await tileVideo(anaRoom, benTile))!.time, frames: await clipFrames() };
    await anaRoom.waitForFunction((n, t) => {
      const tile = [...document.querySelectorAll('#call-grid .tile')].find((x) => x.querySelector('.tile-name')?.textContent === n);
      return (tile?.querySelector('video')?.currentTime ?? 0) > t + 1;
    }, { polling: 100, timeout: 20_000 }, benTile, before.time);
    expect(await clipFrames(), 'frames of the clip decoded').to.be.above(before.frames);
    // Only what the element played came from Ana.
    expect(await benRoom.evaluate((id) => window.__hearth!.files!.streamed(id), sha256)).to.be.above(0).and.below(size * 0.3);
    await screenshot(anaRoom, 'stream-play-to-room');
    await anaRoom.setViewport({ width: 390, height: 844 });
    await screenshot(anaRoom, 'stream-play-to-room-phone');
    await anaRoom.setViewport({ width: 1280, height: 900 });
    await screenshot(benRoom, 'stream-play-to-room-presenter');

    // Stop the video file: the tile goes for both, and the stream is let go.
    await benRoom.locator('::-p-aria(Stop the video file)').click();
    await anaRoom.waitForFunction((n) => ![...document.querySelectorAll('#call-grid .tile .tile-name')].some((e) => e.textContent === n), { polling: 100, timeout: 10_000 }, benTile);
    await benRoom.waitForSelector('::-p-aria(Play a video file)', { timeout: 5_000 });
    expect(await tileVideo(benRoom, 'Your video file')).to.equal(null);
    expect(await benRoom.evaluate((id) => window.__hearth!.files!.streamed(id), sha256)).to.equal(0);
    const after = await benRoom.evaluate(async (id) => (await fetch(`/files/stream/${id}?type=video%2Fmp4`, { headers: { Range: 'bytes=0-99' } })).status, sha256);
    expect(after).to.equal(404);

    // Played again, Leave ends it too; outside the call there is nothing to play to.
    await benRoom.locator(playToRoom).click();
    await anaRoom.waitForFunction((n) => [...document.querySelectorAll('#call-grid .tile .tile-name')].some((e) => e.textContent === n), { polling: 100, timeout: 20_000 }, benTile);
    await benRoom.locator('::-p-aria(Leave)').click();
    await anaRoom.waitForFunction((n) => ![...document.querySelectorAll('#call-grid .tile .tile-name')].some((e) => e.textContent === n), { polling: 100, timeout: 10_000 }, benTile);
    expect(await benRoom.evaluate((id) => window.__hearth!.files!.streamed(id), sha256)).to.equal(0);
    expect(await benRoom.$$('::-p-aria(Play noise clip.mp4 to the room)')).to.have.length(0);
    expect(ben.errors.filter((e) => !/404/.test(e))).to.deep.equal([]);
    expect(ana.errors).to.deep.equal([]);
    await anaRoom.close();
    await benRoom.close();
  });
});
