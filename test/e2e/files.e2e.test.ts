import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { createRoom, joinCall, openRoom, PC_HOOK, TOAST_LOG } from '../helpers/call.js';
import { randomFile } from '../helpers/files.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';

// The Shared files page in real Chromium, two people: Ana shares, Ben finds, downloads, verifies and
// saves; Stop sharing takes the item away; a share made in a room is seen only in that room.

const MiB = 1024 * 1024;

type Person = TestUser & { downloads: string };

/** PREPARING_LOG — keeps every "Preparing <name>… N %" line the page shows in `window.__preparing` (they go as soon as hashing ends). */
const PREPARING_LOG = `(() => {
  window.__preparing = [];
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      const t = n.nodeType === 1 ? n.textContent : '';
      const m = /Preparing .+… \\d+ %/.exec(t || '');
      if (m && !window.__preparing.includes(m[0])) window.__preparing.push(m[0]);
    }
  }).observe(document, { childList: true, subtree: true });
})()`;

/** person — a registered user in their own browser context; Save downloads land in `downloads`. */
async function person(browser: Browser, origin: string, username: string, displayName: string): Promise<Person> {
  const downloads = tempDir(`dl-${username}`);
  const user = { ...(await newUser(browser, username, { downloadPath: downloads, height: 900, scripts: [PC_HOOK, TOAST_LOG, PREPARING_LOG] })), downloads };
  await registerInBrowser(user, origin, username, displayName);
  return user;
}

/** openFiles — goes to /files (by the header link) and waits until the page's engine is up and its socket open. */
async function openFiles(page: Page, origin: string): Promise<void> {
  if (new URL(page.url()).origin !== origin) await page.goto(origin);
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Shared files"][role="link"])').click()]);
  expect(new URL(page.url()).pathname).to.equal('/files');
  await filesReady(page);
}

async function filesReady(page: Page): Promise<void> {
  await page.waitForFunction(() => !!window.__hearth?.files && !!window.__hearth.signaling?.isOpen, { polling: 100, timeout: 15_000 });
}

/** shareFiles — clicks the button `selector` finds and picks `files` (or a folder) in the file chooser. */
async function shareFiles(page: Page, selector: string, files: string[]): Promise<void> {
  const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 10_000 }), page.locator(selector).setTimeout(10_000).click()]);
  await chooser.accept(files);
}

/** rowText — the visible text of the row (li[data-id]) of item `id` inside `scope`. */
const rowText = (page: Page, scope: string, id: string) => page.$eval(`${scope} li[data-id="${id}"]`, (li) => (li as HTMLElement).innerText);

const SHARED = '::-p-aria([name="Shared files"][role="region"])';
const MINE = '::-p-aria([name="Your shares"][role="region"])';
const DOWNLOADS = '::-p-aria([name="Downloads"][role="region"])';

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** downloaded — waits for a finished download called `name` in `dir`. */
async function downloaded(dir: string, name: string, timeout = 15_000): Promise<string> {
  const file = path.join(dir, name);
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (existsSync(file) && !readdirSync(dir).some((f) => f.endsWith('.crdownload'))) return file;
    await sleep(100);
  }
  throw new Error(`${name} was not downloaded into ${dir}: ${readdirSync(dir).join(', ')}`);
}

/** localSha256 — the SHA-256 of the page's verified local copy of `sha256` (read through the engine, hashed in the page). */
const localSha256 = (page: Page, sha256: string): Promise<string | null> => page.evaluate(async (id) => {
  const file = await window.__hearth!.files!.fileOf(id);
  if (!file) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}, sha256);

describe('Shared files (e2e, Chromium)', function () {
  this.timeout(180_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ana: Person;
  let ben: Person;
  let dir: string;
  let notes: { file: string; sha256: string };

  before(async function () {
    this.timeout(90_000);
    dir = tempDir('shared-src');
    hearth = await startTestHearth({}, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    // A few chunks and a short last one.
    notes = await randomFile(dir, 'holiday-notes.bin', 3 * MiB + 12_345);
    ana = await person(browser, hearth.origin, 'ana', 'Ana Lima');
    ben = await person(browser, hearth.origin, 'ben', 'Ben Okafor');
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
    for (const d of [dir, ana?.downloads, ben?.downloads]) if (d) rmSync(d, { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const u of [ana, ben]) {
      if (!u) continue;
      console.log(u.name, u.errors, await u.page.evaluate(() => ({ items: window.__hearth?.files?.items(), mine: window.__hearth?.files?.mine(), downloads: window.__hearth?.files?.downloads() })).catch(() => null));
      await screenshot(u.page, `files-failed-${u.name}`).catch(() => undefined);
    }
  });

  it('shows clear empty states before anyone shares', async () => {
    await openFiles(ana.page, hearth.origin);
    await openFiles(ben.page, hearth.origin);
    await ben.page.locator(`${SHARED} ::-p-text(Nobody is sharing anything right now.)`).setTimeout(10_000).wait();
    await ben.page.locator(`${MINE} ::-p-text(You are not sharing anything.)`).setTimeout(10_000).wait();
    // With JavaScript the Share buttons are there.
    await ben.page.locator('::-p-aria([name="Share files"][role="button"])').wait();
    await ben.page.locator('::-p-aria([name="Share a folder"][role="button"])').wait();
    await screenshot(ben.page, 'files-empty');
  });

  it('Ana shares a file; Ben sees it held by Ana, finds it as he types, downloads it from her and it verifies', async () => {
    await shareFiles(ana.page, '::-p-aria([name="Share files"][role="button"])', [notes.file]);
    // Ana: her share is Available.
    await ana.page.locator(`${MINE} li[data-id="${notes.sha256}"] ::-p-text(Available)`).setTimeout(30_000).wait();
    expect(await rowText(ana.page, MINE, notes.sha256)).to.match(/holiday-notes\.bin[\s\S]*3.2 MB/);

    // Ben: listed, held by Ana, with its size.
    await ben.page.locator(`${SHARED} ::-p-aria(Download holiday-notes.bin)`).setTimeout(15_000).wait();
    expect(await rowText(ben.page, SHARED, notes.sha256)).to.match(/holiday-notes\.bin[\s\S]*3.2 MB[\s\S]*Ana Lima/);
    // Ana sees herself as "You".
    await ana.page.locator(`${SHARED} li[data-id="${notes.sha256}"] ::-p-text(You)`).setTimeout(10_000).wait();

    // Live search: a part of the name keeps it, anything else empties the list; the URL keeps q.
    const search = ben.page.locator('::-p-aria([name="Search shared files"][role="searchbox"])');
    await search.fill('zebra');
    await ben.page.locator(`${SHARED} ::-p-text(No shared files match “zebra”.)`).setTimeout(5_000).wait();
    expect(await ben.page.$(`${SHARED} li[data-id="${notes.sha256}"]`)).to.equal(null);
    expect(new URL(ben.page.url()).search).to.equal('?q=zebra');
    await search.fill('DAY-NOT');
    await ben.page.locator(`${SHARED} ::-p-aria(Download holiday-notes.bin)`).setTimeout(5_000).wait();
    expect(new URL(ben.page.url()).search).to.equal('?q=DAY-NOT');
    await screenshot(ben.page, 'files-search');

    await ben.page.locator(`${SHARED} ::-p-aria(Download holiday-notes.bin)`).click();
    const bar = await ben.page.waitForSelector(`${DOWNLOADS} ::-p-aria([name="Downloading holiday-notes.bin"][role="progressbar"])`, { timeout: 10_000 });
    await ben.page.locator(`${DOWNLOADS} li[data-id="${notes.sha256}"] ::-p-text(Verified)`).setTimeout(60_000).wait();
    expect(await bar!.evaluate((b) => b.getAttribute('aria-valuenow'))).to.equal('100');
    // The Download button went with the click: the focus followed to the download's row.
    expect(await ben.page.evaluate(() => document.activeElement?.textContent)).to.equal('Save');
    expect(await rowText(ben.page, DOWNLOADS, notes.sha256)).to.match(/From 1 person[\s\S]*Ana Lima[\s\S]*100 %/);
    expect(await localSha256(ben.page, notes.sha256)).to.equal(notes.sha256);
    await screenshot(ben.page, 'files-downloaded');

    // Save hands over the same bytes.
    await ben.page.locator(`${DOWNLOADS} li[data-id="${notes.sha256}"] ::-p-aria([name="Save"][role="button"])`).click();
    expect(await sha256File(await downloaded(ben.downloads, 'holiday-notes.bin'))).to.equal(notes.sha256);
    expect(ana.errors.concat(ben.errors)).to.deep.equal([]);
  });

  it('Ana shares a folder (Share a folder); Ben downloads it with its tree and every file verifies', async () => {
    const top = path.join(dir, 'Trip photos');
    const parts = [await randomFile(top, 'a.bin', 1 * MiB + 5), await randomFile(path.join(top, 'day 1'), 'b.bin', 40_000), await randomFile(path.join(top, 'day 1', 'raw'), 'c.bin', 2 * MiB)];
    await shareFiles(ana.page, '::-p-aria([name="Share a folder"][role="button"])', [top]);
    const id = await ana.page.waitForFunction(() => window.__hearth!.files!.mine().find((s) => s.kind === 'folder' && s.held)?.id ?? false, { polling: 100, timeout: 30_000 }).then((h) => h.jsonValue() as Promise<string>);
    await ben.page.locator('::-p-aria([name="Search shared files"][role="searchbox"])').fill('');
    await ben.page.locator(`${SHARED} ::-p-aria(Download folder Trip photos)`).setTimeout(15_000).click();
    expect(await rowText(ben.page, SHARED, id)).to.match(/Trip photos[\s\S]*Folder · 3 files[\s\S]*Ana Lima/);
    await ben.page.locator(`${DOWNLOADS} li[data-id="${id}"] ::-p-text(Verified)`).setTimeout(60_000).wait();
    const tree = await ben.page.evaluate((i) => window.__hearth!.files!.items().find((x) => x.id === i)!.files.map((f) => ({ path: f.path, sha256: f.sha256 })), id);
    expect(tree.map((f) => f.path).sort()).to.deep.equal(['a.bin', 'day 1/b.bin', 'day 1/raw/c.bin']);
    for (const f of tree) {
      expect(f.sha256).to.equal(parts.find((p) => f.path.endsWith(path.basename(p.file)))!.sha256);
      expect(await localSha256(ben.page, f.sha256), f.path).to.equal(f.sha256);
    }
    expect(ana.errors.concat(ben.errors)).to.deep.equal([]);
  });

  it('looks right wide and at phone width, light and dark', async () => {
    const page = ben.page;
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
      await page.setViewport({ width: 1280, height: 900 });
      // Buttons ease into the new colours (150 ms transitions): let them settle before the picture.
      await sleep(400);
      await screenshot(page, `files-wide-${scheme}`);
      await page.setViewport({ width: 375, height: 800 });
      await screenshot(page, `files-phone-${scheme}`);
      // Nothing sticks out sideways on a phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(375);
    }
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
    await page.setViewport({ width: 1280, height: 900 });
  });

  it('Stop sharing takes the item off Ben’s list; Ben’s verified copy stays shared by him', async () => {
    const draft = await randomFile(dir, 'draft.bin', 300 * 1024);
    await shareFiles(ana.page, '::-p-aria([name="Share files"][role="button"])', [draft.file]);
    await ben.page.locator('::-p-aria([name="Search shared files"][role="searchbox"])').fill('');
    await ben.page.locator(`${SHARED} ::-p-aria(Download draft.bin)`).setTimeout(30_000).wait();

    await ana.page.locator(`${MINE} li[data-id="${draft.sha256}"] ::-p-aria([name="Stop sharing"][role="button"])`).setTimeout(10_000).click();
    await ben.page.waitForSelector(`${SHARED} li[data-id="${draft.sha256}"]`, { hidden: true, timeout: 10_000 });
    await ana.page.waitForSelector(`${MINE} li[data-id="${draft.sha256}"]`, { hidden: true, timeout: 10_000 });

    // The file Ben downloaded is offered by him now: listed as his ("You"), with no Download button.
    await ben.page.locator(`${MINE} li[data-id="${notes.sha256}"] ::-p-text(Available)`).setTimeout(10_000).wait();
    expect(await rowText(ben.page, SHARED, notes.sha256)).to.match(/You/);
    expect(await ben.page.$(`${SHARED} ::-p-aria(Download holiday-notes.bin)`)).to.equal(null);
  });

  it('a share made in a room is listed in the room only', async () => {
    const roomFile = await randomFile(dir, 'room-only.bin', 256 * 1024);
    const lobbyFile = await randomFile(dir, 'for-everyone.bin', 200 * 1024);
    const slug = await createRoom(hearth, 'ana', 'Planning');
    const anaRoom = await ana.ctx.newPage();
    const benRoom = await ben.ctx.newPage();
    for (const p of [anaRoom, benRoom]) {
      await p.setViewport({ width: 1280, height: 900 });
      await openRoom(p, hearth.origin, slug);
      // Before joining the call, the panel says how to take part.
      await p.locator('::-p-aria([name="Shared in this room"][role="region"]) ::-p-text(Join the call)').setTimeout(10_000).wait();
      await joinCall(p);
    }
    await shareFiles(anaRoom, '::-p-aria([name="Share in this room"][role="button"])', [roomFile.file]);
    const ROOM = '::-p-aria([name="Shared in this room"][role="region"])';
    await benRoom.locator(`${ROOM} ::-p-aria(Download room-only.bin)`).setTimeout(30_000).wait();
    expect(await rowText(benRoom, ROOM, roomFile.sha256)).to.match(/room-only\.bin[\s\S]*Ana Lima/);
    await anaRoom.locator(`${ROOM} li[data-id="${roomFile.sha256}"] ::-p-aria([name="Stop sharing"][role="button"])`).wait();
    // Downloaded in the room, from the room's panel.
    await benRoom.bringToFront();
    await benRoom.locator(`${ROOM} ::-p-aria(Download room-only.bin)`).click();
    await benRoom.locator(`${ROOM} li[data-id="${roomFile.sha256}"] ::-p-text(Verified)`).setTimeout(30_000).wait();
    expect(await localSha256(benRoom, roomFile.sha256)).to.equal(roomFile.sha256);
    await screenshot(benRoom, 'files-room');
    await benRoom.setViewport({ width: 375, height: 800 });
    await screenshot(benRoom, 'files-room-phone');

    // Ana leaves the call: she no longer holds it there (Ben's own copy keeps it listed). She joins
    // again: the page still has her file, and she holds it again without choosing it anew.
    await anaRoom.bringToFront();
    await anaRoom.locator('::-p-aria(Leave)').click();
    await anaRoom.locator(`${ROOM} ::-p-text(Join the call)`).setTimeout(10_000).wait();
    await benRoom.waitForFunction((id) => window.__hearth!.files!.items().some((i) => i.id === id && i.holders.every((h) => h.displayName !== 'Ana Lima')), { polling: 100, timeout: 15_000 }, roomFile.sha256);
    await joinCall(anaRoom);
    await benRoom.waitForFunction((id) => window.__hearth!.files!.items().some((i) => i.id === id && i.holders.some((h) => h.displayName === 'Ana Lima')), { polling: 100, timeout: 15_000 }, roomFile.sha256);
    await anaRoom.locator(`${ROOM} li[data-id="${roomFile.sha256}"] ::-p-aria([name="Stop sharing"][role="button"])`).setTimeout(10_000).wait();

    // A lobby share made after it reaches Ben's /files page, and the room's share never does.
    await ana.page.bringToFront();
    await shareFiles(ana.page, '::-p-aria([name="Share files"][role="button"])', [lobbyFile.file]);
    await ben.page.bringToFront();
    await ben.page.locator('::-p-aria([name="Search shared files"][role="searchbox"])').fill('');
    await ben.page.locator(`${SHARED} ::-p-aria(Download for-everyone.bin)`).setTimeout(30_000).wait();
    expect(await ben.page.evaluate((id) => window.__hearth!.files!.items().some((i) => i.id === id), roomFile.sha256)).to.equal(false);
    expect(await ben.page.$(`${SHARED} li[data-id="${roomFile.sha256}"]`)).to.equal(null);
    // Nor does the lobby's share show in the room.
    expect(await benRoom.evaluate((id) => window.__hearth!.files!.items().some((i) => i.id === id), lobbyFile.sha256)).to.equal(false);
    await anaRoom.close();
    await benRoom.close();
    expect(ana.errors.concat(ben.errors)).to.deep.equal([]);
  });

  it('shows Preparing <name>… N % while a big file is read, and after a reload Share again brings an Offline share back', async () => {
    const big = await randomFile(dir, 'big-video.mp4', 48 * MiB);
    await shareFiles(ana.page, '::-p-aria([name="Share files"][role="button"])', [big.file]);
    await ana.page.locator(`${MINE} li[data-id="${big.sha256}"] ::-p-text(Available)`).setTimeout(60_000).wait();
    const seen = await ana.page.evaluate(() => (window as unknown as { __preparing: string[] }).__preparing);
    expect(seen.some((t) => /^Preparing big-video\.mp4… \d+ %$/.test(t)), JSON.stringify(seen)).to.equal(true);
    // A video has Play for the others: it opens the player, Close player closes it.
    await ben.page.locator(`${SHARED} ::-p-aria(Play big-video.mp4)`).setTimeout(15_000).click();
    await ben.page.locator('dialog[open] ::-p-aria([name="Close player"][role="button"])').setTimeout(10_000).click();
    await ben.page.waitForSelector('dialog[open]', { hidden: true, timeout: 5_000 });

    // A reload forgets the picked file: the share is Offline until Ana picks it again.
    await ana.page.reload();
    await filesReady(ana.page);
    await ana.page.locator(`${MINE} li[data-id="${big.sha256}"] ::-p-text(Offline)`).setTimeout(15_000).wait();
    await ben.page.waitForSelector(`${SHARED} li[data-id="${big.sha256}"]`, { hidden: true, timeout: 15_000 });
    await shareFiles(ana.page, `${MINE} li[data-id="${big.sha256}"] ::-p-aria([name="Share again"][role="button"])`, [big.file]);
    await ana.page.locator(`${MINE} li[data-id="${big.sha256}"] ::-p-text(Available)`).setTimeout(60_000).wait();
    await ben.page.locator(`${SHARED} ::-p-aria(Play big-video.mp4)`).setTimeout(15_000).wait();
    await screenshot(ana.page, 'files-ana');
    expect(ana.errors.concat(ben.errors)).to.deep.equal([]);
  });
});
