import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, linkSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { PC_HOOK, TOAST_LOG } from '../helpers/call.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';
import { randomFile } from '../helpers/files.js';

const MiB = 1024 * 1024;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface Row {
  /** This browser's own key for the transfer (the receiver never keys anything by the sender's id). */
  id: string;
  /** The id both sides know (the sender's). */
  transferId: string;
  direction: 'send' | 'receive';
  name: string;
  size: number;
  status: string;
  done: number;
  sha256: string | null;
  error: string | null;
  waitingForFile: boolean;
  counters: { bytes: number; resent: number; rejected: number; sessions: number; stalls: number };
}

/** OFFERS — the receiver's list of offers waiting for an answer. */
const OFFERS = '::-p-aria([name="Files offered to you"][role="region"])';

/**
 * MALLORY_TOOLS — a hostile signed-in user's page: speaks the transfer protocol directly through
 * its own signaling socket (a string: tsx would wrap named functions in a __name the page lacks).
 */
const MALLORY_TOOLS = `(() => {
  window.__mallory = {
    got: [],
    listening: false,
    id() {
      const b = crypto.getRandomValues(new Uint8Array(12));
      return btoa(String.fromCharCode(...b)).replace(/\\+/g, '-').replace(/\\//g, '_');
    },
    send(to, app, data) {
      return window.__hearth.signaling.sendSignal(to, { kind: 'app', app, data });
    },
    listen() {
      if (this.listening) return;
      this.listening = true;
      window.__hearth.signaling.on('signal', (m) => this.got.push(m));
    },
    declinesFrom(peer) {
      return this.got.filter((m) => m.from === peer && m.payload.kind === 'app' && m.payload.data && m.payload.data.t === 'decline').map((m) => m.payload.data.offerId);
    },
    async offerSdp() {
      const pc = new RTCPeerConnection();
      pc.createDataChannel('hf:mallory-probe');
      await pc.setLocalDescription();
      await new Promise((done) => {
        if (pc.iceGatheringState === 'complete') done();
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') done(); });
        setTimeout(done, 3000);
      });
      return pc.localDescription.sdp;
    },
  };
})()`;

type Person = TestUser & { downloads: string };

/** alias — the same bytes under another name (a hard link: no copy). */
function alias(src: string, name: string): string {
  const file = path.join(path.dirname(src), name);
  if (!existsSync(file)) linkSync(src, file);
  return file;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * person — a registered user in their own browser context; Save downloads land in `downloads`.
 * Every page records its RTCPeerConnections (`__pcs`) and toasts (`__toasts`).
 */
async function person(browser: Browser, origin: string, username: string, displayName: string, scripts: string[] = []): Promise<Person> {
  const downloads = tempDir(`dl-${username}`);
  const user = { ...(await newUser(browser, username, { downloadPath: downloads, height: 900, scripts: [PC_HOOK, TOAST_LOG, ...scripts] })), downloads };
  await registerInBrowser(user, origin, username, displayName);
  await ready(user.page);
  return user;
}

/** ready — the lobby's transfer manager is up and the signaling socket open. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => !!(window as any).__hearth?.transfers && (window as any).__hearth.signaling.isOpen, { polling: 100, timeout: 15_000 });
}

const rows = (page: Page): Promise<Row[]> => page.evaluate(() => (window as any).__hearth.transfers.list());

/** waitRow — until a transfer row matches `pred` (a JS expression over `t`, evaluated in the page). */
async function waitRow(page: Page, pred: string, timeout = 60_000): Promise<Row> {
  const handle = await page.waitForFunction(`(window.__hearth?.transfers?.list() ?? []).find((t) => ${pred}) ?? false`, { polling: 100, timeout });
  return (await handle.jsonValue()) as Row;
}

/** sendFiles — clicks "Send file to <name>" and picks `files` in the chooser; returns the new rows' ids. */
async function sendFiles(from: Page, toName: string, files: string[]): Promise<string[]> {
  const before = new Set((await rows(from)).map((r) => r.id));
  // A locator retries if a lobby update replaces the button between finding and clicking it.
  const [chooser] = await Promise.all([from.waitForFileChooser(), from.locator(`::-p-aria(Send file to ${toName})`).setTimeout(10_000).click()]);
  await chooser.accept(files);
  await from.waitForFunction((n) => (window as any).__hearth.transfers.list().length >= n, { polling: 50, timeout: 5_000 }, before.size + files.length);
  return (await rows(from)).filter((r) => !before.has(r.id)).map((r) => r.id);
}

/** offersWaiting — the rows of the receiver's "Files offered to you" list. */
const offersWaiting = (page: Page): Promise<number> => page.$$eval('li[data-offer-id]', (rows) => rows.length);

/** answer — clicks Accept or Decline on the offer of `what` (a file name, or "3 files") from `from`, in the offers list. */
async function answer(page: Page, label: 'Accept' | 'Decline', what: string, from = 'Ada Lovelace'): Promise<void> {
  const name = `${OFFERS} ::-p-aria(${label} ${what} from ${from})`;
  await page.locator(name).setTimeout(10_000).click();
  await page.waitForSelector(name, { hidden: true, timeout: 5_000 });
}

/** same — a row predicate: the transfer the sender calls `id` (on either side). */
const same = (id: string | undefined) => `t.transferId === '${id}'`;

/** peerIdOf — the page's signaling peer id. */
const peerIdOf = (page: Page): Promise<string> => page.evaluate(() => (window as any).__hearth.signaling.peerId);

/** pcCount — RTCPeerConnections the page has created since it loaded. */
const pcCount = (page: Page): Promise<number> => page.evaluate(() => (window as any).__pcs.length);

/** storedIncoming — the receiver's IndexedDB records of received files, each with its stored file's SHA-256 (null: no file). */
const storedIncoming = (page: Page): Promise<{ key: string; name: string; state: string; size: number; sha256: string | null; file: string | null }[]> => page.evaluate(async () => {
  const db: IDBDatabase = await new Promise((res, rej) => {
    const r = indexedDB.open('hearth-transfers');
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const recs: any[] = await new Promise((res, rej) => {
    const r = db.transaction('in').objectStore('in').getAll();
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  db.close();
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-transfers', { create: true });
  const out = [];
  for (const rec of recs) {
    let file: string | null = null;
    try {
      const bytes = await (await (await dir.getFileHandle(rec.id)).getFile()).arrayBuffer();
      file = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
    } catch {
      file = null;
    }
    out.push({ key: rec.id, name: rec.name, state: rec.state, size: rec.size, sha256: rec.sha256, file });
  }
  return out;
});

/** clickRow — clicks the button named `label` in the row of transfer `id`. */
async function clickRow(page: Page, id: string, label: string): Promise<void> {
  const btn = await page.waitForSelector(`li[data-transfer-id="${id}"] ::-p-aria(${label})`, { timeout: 10_000 });
  await btn!.click();
}

/** rowText — the visible text of a transfer's row (status, hash). */
const rowText = (page: Page, id: string) => page.$eval(`li[data-transfer-id="${id}"]`, (li) => (li as HTMLElement).innerText);

/** opfsNames — the received files this browser context keeps in the origin-private file system. */
const opfsNames = (page: Page): Promise<string[]> => page.evaluate(async () => {
  const names: string[] = [];
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-transfers', { create: true });
  for await (const k of (dir as any).keys()) names.push(k);
  return names;
});

/** downloaded — waits for a finished download called `name` in `dir`. */
async function downloaded(dir: string, name: string, timeout = 15_000): Promise<string> {
  const file = path.join(dir, name);
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (existsSync(file) && !readdirSync(dir).some((f) => f.endsWith('.crdownload'))) return file;
    await sleep(100);
  }
  throw new Error(`no download ${name} in ${dir}: ${readdirSync(dir).join(', ')}`);
}

const userIdOf = (page: Page) => page.$eval('meta[name="hearth-user"]', (m) => (m as HTMLMetaElement).content);

describe('file transfer in real browsers', function () {
  this.timeout(120_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: Person;
  let bob: Person;
  let mallory: Person;
  let dir: string;
  let fifty: { file: string; sha256: string };

  before(async function () {
    this.timeout(60_000);
    dir = tempDir('files');
    hearth = await startTestHearth({}, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    fifty = await randomFile(dir, 'fifty.bin', 50 * MiB);
    ada = await person(browser, hearth.origin, 'ada', 'Ada Lovelace');
    bob = await person(browser, hearth.origin, 'bob', 'Bob 山田');
    mallory = await person(browser, hearth.origin, 'mallory', 'Mallory', [MALLORY_TOOLS]);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
    // The generated files (over 1 GiB) and downloads must not pile up in /tmp run after run.
    for (const d of [dir, ada?.downloads, bob?.downloads]) if (d) rmSync(d, { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const u of [ada, bob]) {
      if (!u) continue;
      console.log(u.name, JSON.stringify(await rows(u.page).catch(() => null)), u.errors);
      await screenshot(u.page, `transfer-failed-${u.name}`).catch(() => undefined);
    }
  });

  it('sends 50 MiB: both sides show Verified with the SHA-256, and Save gives the same bytes', async () => {
    const [id] = await sendFiles(ada.page, 'Bob 山田', [fifty.file]);
    // The offer is a row in the list of offers: who, what, how big. No modal, and nothing took the focus.
    const offer = await bob.page.waitForSelector(OFFERS, { timeout: 10_000 });
    expect(await offer!.evaluate((d) => (d as HTMLElement).innerText)).to.match(/Ada Lovelace[\s\S]*fifty\.bin[\s\S]*52 MB/);
    expect(await bob.page.$('dialog[open]')).to.equal(null);
    expect(await bob.page.evaluate(() => document.activeElement === document.body)).to.equal(true);
    await screenshot(bob.page, 'transfer-offer');
    await answer(bob.page, 'Accept', 'fifty.bin');
    const mine = await waitRow(bob.page, same(id), 5_000);
    expect(mine.id, 'the receiver keys the file by its own id').to.not.equal(id);
    await bob.page.waitForSelector(`li[data-transfer-id="${mine.id}"] [role="progressbar"][aria-valuenow]`);

    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
    for (const [page, rowId] of [[ada.page, sent.id], [bob.page, got.id]] as const) {
      await page.waitForFunction((i) => document.querySelector(`li[data-transfer-id="${i}"] .transfer__status`)?.textContent === 'Verified', { polling: 100, timeout: 5_000 }, rowId);
      expect(await rowText(page, rowId)).to.include(`SHA-256 ${fifty.sha256}`);
      expect(await page.$eval(`li[data-transfer-id="${rowId}"] [role="progressbar"]`, (b) => b.getAttribute('aria-valuenow'))).to.equal('100');
    }
    expect(sent.counters.resent).to.equal(0);
    await screenshot(bob.page, 'transfer-verified-receiver');
    await screenshot(ada.page, 'transfer-verified-sender');

    await clickRow(bob.page, got.id, 'Save');
    const saved = await downloaded(bob.downloads, 'fifty.bin');
    expect(await sha256File(saved)).to.equal(fifty.sha256);
    expect(ada.errors.concat(bob.errors)).to.deep.equal([]);
  });

  it('resumes after the connection drops at ~50%, resending less than 10%', async () => {
    const file = alias(fifty.file, 'dropped.bin');
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'dropped.bin');
    await waitRow(bob.page, `${same(id)} && t.done >= t.size / 2`);
    await ada.page.evaluate(() => (window as any).__hearth.transfers.dropConnections());
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
    console.log(`      resent after the drop: ${(sent.counters.resent / MiB).toFixed(2)} MiB of ${sent.size / MiB} MiB`);
    expect(sent.counters.sessions, 'a second channel carried the rest').to.be.at.least(2);
    expect(sent.counters.resent, `resent ${sent.counters.resent} bytes`).to.be.below(0.1 * sent.size);
  });

  it('drops and resumes a session that stays alive but moves no bytes (progress watchdog)', async () => {
    const file = alias(fifty.file, 'stalled.bin');
    // Ada's next sending session goes quiet after 20 chunks (5 MiB): its channel stays open and keeps pinging.
    await ada.page.evaluate(() => ((window as any).__hearth.transfers.debug.stallSender = 20));
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'stalled.bin');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`, 90_000);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
    // The silent session was dropped by the receiver's watchdog (not by the keepalive: pings kept flowing).
    expect(got.counters.stalls).to.equal(1);
    expect(sent.counters.sessions).to.be.at.least(2);
    expect(await ada.page.evaluate(() => (window as any).__hearth.transfers.debug.stallSender)).to.equal(0);
  });

  it('resumes after the data channel closes and after both signaling sockets reconnect', async () => {
    const file = alias(fifty.file, 'bumpy.bin');
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'bumpy.bin');
    await waitRow(bob.page, `${same(id)} && t.done >= t.size / 4`);
    await bob.page.evaluate(() => (window as any).__hearth.transfers.closeChannels());
    await waitRow(bob.page, `${same(id)} && t.done >= t.size * 0.6`);
    const peerIds = await Promise.all([ada.page, bob.page].map((p) => p.evaluate(() => (window as any).__hearth.signaling.peerId)));
    // Ada's tab resumes its peer id; Bob's cannot (its token is gone) and comes back as a new peer.
    await bob.page.evaluate(() => ((window as any).__hearth.signaling.resume = null));
    await Promise.all([ada.page, bob.page].map((p) => p.evaluate(() => {
      (window as any).welcomes = 0;
      (window as any).__hearth.signaling.on('welcome', () => (window as any).welcomes++);
      (window as any).__hearth.signaling.drop();
    })));
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.counters.sessions).to.be.at.least(2);
    expect(sent.counters.resent).to.be.below(0.1 * sent.size);
    // Both sockets really reconnected: Ada as the same peer, Bob as a new one.
    for (const p of [ada.page, bob.page]) {
      await ready(p);
      expect(await p.evaluate(() => (window as any).welcomes)).to.equal(1);
    }
    expect(await ada.page.evaluate(() => (window as any).__hearth.signaling.peerId)).to.equal(peerIds[0]);
    expect(await bob.page.evaluate(() => (window as any).__hearth.signaling.peerId)).to.not.equal(peerIds[1]);
  });

  it('resumes without a new Accept when the receiver reloads mid-transfer', async () => {
    const file = alias(fifty.file, 'reloaded.bin');
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'reloaded.bin');
    const before = await waitRow(bob.page, `${same(id)} && t.done >= t.size * 0.4`);
    await bob.page.reload();
    await ready(bob.page);
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
    expect(got.id, 'the same stored file carried on').to.equal(before.id);
    expect(await offersWaiting(bob.page)).to.equal(0);
    // Only what had not reached the disk was sent again.
    expect(sent.counters.resent).to.be.below(0.3 * sent.size);
  });

  it('detects a corrupted chunk, fetches it again, and still verifies', async () => {
    const file = alias(fifty.file, 'corrupted.bin');
    await bob.page.evaluate(() => ((window as any).__hearth.transfers.debug.corrupt = 2));
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'corrupted.bin');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    expect(got.counters.rejected).to.equal(2);
    expect(sent.counters.rejected).to.equal(2);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
  });

  it('reports a SHA-256 mismatch as a failure on both sides (bytes damaged after their chunk check)', async () => {
    const small = await randomFile(dir, 'damaged.bin', 3 * MiB);
    await bob.page.evaluate(() => ((window as any).__hearth.transfers.debug.corruptDisk = 1));
    const [id] = await sendFiles(ada.page, 'Bob 山田', [small.file]);
    await answer(bob.page, 'Accept', 'damaged.bin');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'failed'`, 20_000);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'failed'`, 20_000);
    expect(got.error).to.include('does not match');
    expect(sent.error).to.include('does not match');
    expect(got.sha256).to.not.equal(small.sha256);
    for (const [page, rowId] of [[ada.page, sent.id], [bob.page, got.id]] as const) {
      await page.waitForFunction((i) => /^Failed: .*does not match/.test(document.querySelector(`li[data-transfer-id="${i}"] .transfer__status`)?.textContent ?? ''), { polling: 100, timeout: 5_000 }, rowId);
      expect(await rowText(page, rowId)).to.not.include('Verified');
    }
    expect(await opfsNames(bob.page)).to.not.include(got.id);
  });

  it('declines: nothing is received and the sender is told', async () => {
    const small = await randomFile(dir, 'declined.txt', 10_000);
    const [id] = await sendFiles(ada.page, 'Bob 山田', [small.file]);
    await answer(bob.page, 'Decline', 'declined.txt');
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'declined'`, 10_000);
    expect(sent.done).to.equal(0);
    await ada.page.waitForFunction((i) => document.querySelector(`li[data-transfer-id="${i}"] .transfer__status`)?.textContent === 'Declined by Bob 山田', { polling: 100, timeout: 5_000 }, id);
    expect((await rows(bob.page)).some((r) => r.transferId === id)).to.equal(false);
  });

  for (const side of ['sender', 'receiver'] as const) {
    it(`cancels from the ${side}'s side: both stop and the partial file is deleted`, async () => {
      const file = alias(fifty.file, `cancel-${side}.bin`);
      const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
      await answer(bob.page, 'Accept', `cancel-${side}.bin`);
      const mine = await waitRow(bob.page, `${same(id)} && t.done >= t.size * 0.2`);
      await clickRow(side === 'sender' ? ada.page : bob.page, side === 'sender' ? id! : mine.id, 'Cancel');
      await waitRow(ada.page, `${same(id)} && t.status === 'cancelled'`, 10_000);
      await waitRow(bob.page, `${same(id)} && t.status === 'cancelled'`, 10_000);
      await bob.page.waitForFunction(async (i) => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-transfers', { create: true });
        for await (const k of (dir as any).keys()) if (k === i) return false;
        return true;
      }, { polling: 200, timeout: 5_000 }, mine.id);
    });
  }

  it('keeps the partial and says "Waiting for" when the sender goes offline; the sender picks the file again and it finishes', async () => {
    const file = alias(fifty.file, 'offline.bin');
    const [id] = await sendFiles(ada.page, 'Bob 山田', [file]);
    await answer(bob.page, 'Accept', 'offline.bin');
    await waitRow(bob.page, `${same(id)} && t.done >= t.size * 0.4`);
    await ada.page.goto('about:blank');

    const waiting = await waitRow(bob.page, `${same(id)} && t.status === 'waiting'`, 10_000);
    expect(waiting.done).to.be.above(0).and.below(waiting.size);
    await bob.page.waitForFunction((i) => document.querySelector(`li[data-transfer-id="${i}"] .transfer__status`)?.textContent === 'Waiting for Ada Lovelace', { polling: 100, timeout: 5_000 }, waiting.id);
    expect(await opfsNames(bob.page)).to.include(waiting.id);
    await screenshot(bob.page, 'transfer-waiting');

    // Ada comes back: her page asks for the same file again before going on.
    await ada.page.goto(`${hearth.origin}/`);
    await ready(ada.page);
    await waitRow(ada.page, `${same(id)} && t.status === 'needs-file'`, 10_000);
    await ada.page.waitForSelector(`li[data-transfer-id="${id}"] ::-p-aria(Choose file again)`);
    await screenshot(ada.page, 'transfer-pick-again');
    // A different file is refused.
    const other = await randomFile(dir, 'not-it.bin', 1000);
    let [chooser] = await Promise.all([ada.page.waitForFileChooser(), clickRow(ada.page, id!, 'Choose file again')]);
    await chooser.accept([other.file]);
    await ada.page.waitForFunction(() => [...document.querySelectorAll('.toast--error')].some((t) => t.textContent?.includes('not the file being sent')), { polling: 100, timeout: 5_000 });
    // Same name and size, other bytes: refused by the hashes of the chunks already sent.
    const impostor = await randomFile(path.join(dir, 'impostor'), 'offline.bin', 50 * MiB);
    [chooser] = await Promise.all([ada.page.waitForFileChooser(), clickRow(ada.page, id!, 'Choose file again')]);
    await chooser.accept([impostor.file]);
    await ada.page.waitForFunction(() => [...document.querySelectorAll('.toast--error')].some((t) => t.textContent?.includes('different contents')), { polling: 100, timeout: 15_000 });
    [chooser] = await Promise.all([ada.page.waitForFileChooser(), clickRow(ada.page, id!, 'Choose file again')]);
    await chooser.accept([file]);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
    expect(got.sha256).to.equal(fifty.sha256);
    expect(sent.sha256).to.equal(fifty.sha256);
    expect(sent.counters.bytes, 'the new page sent only the rest').to.be.below(0.8 * sent.size);
  });

  it('sends an empty file', async () => {
    const empty = await randomFile(dir, 'empty.txt', 0);
    const [id] = await sendFiles(ada.page, 'Bob 山田', [empty.file]);
    await answer(bob.page, 'Accept', 'empty.txt');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`, 15_000);
    const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`, 15_000);
    expect(got.sha256).to.equal(EMPTY_SHA256);
    expect(sent.sha256).to.equal(EMPTY_SHA256);
    await clickRow(bob.page, got.id, 'Save');
    expect(statSync(await downloaded(bob.downloads, 'empty.txt')).size).to.equal(0);
  });

  it('sends several files at once and saves unicode and path-like names safely', async () => {
    const names = ['résumé 山田 🎉.txt', '../x', 'a/b'];
    const bobId = await userIdOf(bob.page);
    await ada.page.waitForSelector('::-p-aria(Send file to Bob 山田)', { timeout: 10_000 });
    // Names with path characters cannot come from a real disk, but a hostile peer can send them.
    const ids: string[] = await ada.page.evaluate((ns, userId) => (window as any).__hearth.transfers.send(ns.map((n: string) => new File([`contents of ${n}`], n)), { userId, displayName: 'Bob 山田' }), names, bobId);
    expect(ids).to.have.length(3);
    const offer = await bob.page.waitForSelector(OFFERS, { timeout: 10_000 });
    expect(await offer!.evaluate((d) => (d as HTMLElement).innerText)).to.include('3 files');
    await answer(bob.page, 'Accept', '3 files');
    const got: Row[] = [];
    for (const id of ids) got.push(await waitRow(bob.page, `${same(id)} && t.status === 'verified'`, 20_000));
    const expected = { 'résumé 山田 🎉.txt': 'résumé 山田 🎉.txt', '../x': '_x', 'a/b': 'a_b' } as Record<string, string>;
    for (const [i, row] of got.entries()) {
      await clickRow(bob.page, row.id, 'Save');
      const saved = await downloaded(bob.downloads, expected[names[i]!]!);
      expect(readFileSync(saved, 'utf8')).to.equal(`contents of ${names[i]}`);
    }
    expect(existsSync(path.join(path.dirname(bob.downloads), 'x'))).to.equal(false);
    expect(readdirSync(bob.downloads).every((f) => !f.includes('/'))).to.equal(true);
  });

  it('sends files dropped on a person', async () => {
    await ada.page.waitForSelector('::-p-aria(Send file to Bob 山田)', { timeout: 10_000 });
    const highlighted = await ada.page.evaluate(() => {
      const li = [...document.querySelectorAll<HTMLElement>('#online-list li')].find((l) => l.textContent?.includes('Bob'))!;
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped bytes'], 'dropped-on-bob.txt', { type: 'text/plain' }));
      // (No named helper here: tsx would wrap it in a __name() call the page does not have.)
      for (const type of ['dragenter', 'dragover']) li.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      const on = li.classList.contains('transfer-drop--over');
      li.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      return on && !li.classList.contains('transfer-drop--over');
    });
    expect(highlighted).to.equal(true);
    await answer(bob.page, 'Accept', 'dropped-on-bob.txt');
    const got = await waitRow(bob.page, `t.name === 'dropped-on-bob.txt' && t.status === 'verified'`, 15_000);
    expect(got.sha256).to.equal(createHash('sha256').update('dropped bytes').digest('hex'));
  });

  it('a lying peer cannot flood someone with offers, nor make their browser connect before they accept', async () => {
    // A fresh page: its recorded RTCPeerConnections start from zero.
    await bob.page.reload();
    await ready(bob.page);
    const bobPeer = await peerIdOf(bob.page);
    // Bob's page knows Mallory (the server's lobby list: identity never comes from a peer).
    await bob.page.waitForSelector('::-p-aria(Send file to Mallory)', { timeout: 10_000 });
    await mallory.page.evaluate('window.__mallory.listen()');
    // Mallory, a signed-in user in the lobby, negotiates data connections nobody asked for and sends ten offers.
    const sdp = await mallory.page.evaluate('window.__mallory.offerSdp()') as string;
    await mallory.page.evaluate(`(() => {
      const m = window.__mallory;
      const to = ${JSON.stringify(bobPeer)};
      for (let i = 0; i < 5; i++) {
        const pc = m.id();
        m.send(to, 'transfer-rtc', { k: 'sdp', pc, sdp: { type: 'offer', sdp: ${JSON.stringify(sdp)} } });
        m.send(to, 'transfer-rtc', { k: 'cand', pc, cand: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } });
      }
      for (let i = 0; i < 10; i++) m.send(to, 'transfer', { t: 'offer', offerId: m.id(), files: [{ id: m.id(), name: 'free-money-' + i + '.exe', size: 1000 + i, chunkSize: 262144 }] });
    })()`);
    // Three wait in the list; the other seven are declined for Bob, who is told once.
    await mallory.page.waitForFunction(`window.__mallory.declinesFrom(${JSON.stringify(bobPeer)}).length >= 7`, { polling: 100, timeout: 10_000 });
    for (let i = 0; i < 10; i++) {
      const row = await bob.page.$(`${OFFERS} ::-p-aria(Accept free-money-${i}.exe from Mallory)`);
      expect(row !== null, `offer ${i} listed`).to.equal(i < 3);
    }
    expect(await offersWaiting(bob.page)).to.equal(3);
    const notices = await bob.page.evaluate(() => ((window as any).__toasts as string[]).filter((t) => t.includes('Mallory')));
    expect(notices).to.have.length(1);
    // No modal, no focus on Accept: stray keys accept nothing.
    expect(await bob.page.$('dialog[open]')).to.equal(null);
    expect(await bob.page.evaluate(() => document.activeElement === document.body)).to.equal(true);
    for (const key of ['Enter', 'Space', 'y', 'Enter'] as const) await bob.page.keyboard.press(key);
    expect(await offersWaiting(bob.page)).to.equal(3);
    expect((await rows(bob.page)).filter((r) => r.name.startsWith('free-money'))).to.deep.equal([]);
    // Nothing accepted, so no connection was built (none answered, no address revealed).
    expect(await pcCount(bob.page)).to.equal(0);

    await answer(bob.page, 'Decline', 'free-money-0.exe', 'Mallory');
    // Someone else's offer still gets through, beside Mallory's.
    const gift = await randomFile(dir, 'gift.bin', 2 * MiB);
    const [id] = await sendFiles(ada.page, 'Bob 山田', [gift.file]);
    await bob.page.waitForSelector(`${OFFERS} ::-p-aria(Accept gift.bin from Ada Lovelace)`, { timeout: 10_000 });
    await screenshot(bob.page, 'transfer-offers');
    await bob.page.setViewport({ width: 390, height: 844 });
    await screenshot(bob.page, 'transfer-offers-phone');
    await bob.page.setViewport({ width: 1280, height: 900 });
    expect(await pcCount(bob.page)).to.equal(0);
    await answer(bob.page, 'Accept', 'gift.bin');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`, 20_000);
    expect(got.sha256).to.equal(gift.sha256);
    expect(await pcCount(bob.page), 'one connection, to Ada, after Accept').to.equal(1);

    // Mallory tries again now that Bob has a connection: still refused. (The refused second offer's
    // decline tells us Bob has handled everything sent before it.)
    const last = await mallory.page.evaluate(`(() => {
      const m = window.__mallory;
      const to = ${JSON.stringify(bobPeer)};
      m.send(to, 'transfer-rtc', { k: 'sdp', pc: m.id(), sdp: { type: 'offer', sdp: ${JSON.stringify(sdp)} } });
      const ids = [m.id(), m.id()];
      for (const offerId of ids) m.send(to, 'transfer', { t: 'offer', offerId, files: [{ id: m.id(), name: 'more-money.exe', size: 1, chunkSize: 262144 }] });
      return ids[1];
    })()`) as string;
    await mallory.page.waitForFunction(`window.__mallory.declinesFrom(${JSON.stringify(bobPeer)}).includes(${JSON.stringify(last)})`, { polling: 100, timeout: 10_000 });
    expect(await pcCount(bob.page)).to.equal(1);

    // Answered with the keyboard, a row hands the focus to the next offer's Decline, never to an
    // Accept: Enter pressed again and again declines Mallory's three waiting offers, accepts nothing.
    expect(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).to.match(/^Decline .* from Mallory$/);
    for (let i = 0; i < 3; i++) await bob.page.keyboard.press('Enter');
    await bob.page.waitForFunction(() => document.querySelectorAll('li[data-offer-id]').length === 0, { polling: 100, timeout: 5_000 });
    expect((await rows(bob.page)).filter((r) => r.name.includes('money'))).to.deep.equal([]);
    expect(await bob.page.$(OFFERS), 'the empty list hides').to.equal(null);

    // Offering and withdrawing in a loop: one "withdrew" notice, not one per offer.
    const sync = await mallory.page.evaluate(`(() => {
      const m = window.__mallory;
      const to = ${JSON.stringify(bobPeer)};
      const offer = (offerId, id) => m.send(to, 'transfer', { t: 'offer', offerId, files: [{ id, name: 'bait.exe', size: 1, chunkSize: 262144 }] });
      for (let i = 0; i < 5; i++) {
        const id = m.id();
        offer(m.id(), id);
        m.send(to, 'transfer', { t: 'cancel', ids: [id] });
      }
      const offers = [m.id(), m.id(), m.id(), m.id()];
      const files = offers.map((o) => { const id = m.id(); offer(o, id); return id; });
      m.send(to, 'transfer', { t: 'cancel', ids: files });
      return offers[3];
    })()`) as string;
    await mallory.page.waitForFunction(`window.__mallory.declinesFrom(${JSON.stringify(bobPeer)}).includes(${JSON.stringify(sync)})`, { polling: 100, timeout: 10_000 });
    await bob.page.waitForFunction(() => document.querySelectorAll('li[data-offer-id]').length === 0, { polling: 100, timeout: 5_000 });
    expect(await bob.page.evaluate(() => ((window as any).__toasts as string[]).filter((t) => t === 'Mallory withdrew the offer.').length)).to.equal(1);
  });

  it('a second sender reusing a transfer id cannot touch the first transfer\'s record or stored file', async () => {
    const precious = await randomFile(dir, 'precious.bin', 3 * MiB);
    const [id] = await sendFiles(ada.page, 'Bob 山田', [precious.file]);
    await answer(bob.page, 'Accept', 'precious.bin');
    const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`, 20_000);
    await waitRow(ada.page, `${same(id)} && t.status === 'verified'`, 20_000);
    const before = (await storedIncoming(bob.page)).find((r) => r.name === 'precious.bin')!;
    expect(before).to.include({ state: 'verified', sha256: precious.sha256, file: precious.sha256 });

    // Mallory learned the id (a room's ledger broadcasts them) and offers Bob's other tab a file under it.
    const tab2 = await bob.ctx.newPage();
    try {
      await tab2.goto(`${hearth.origin}/`);
      await ready(tab2);
      await tab2.waitForSelector('::-p-aria(Send file to Mallory)', { timeout: 10_000 });
      const tab2Peer = await peerIdOf(tab2);
      await mallory.page.evaluate(`window.__mallory.send(${JSON.stringify(tab2Peer)}, 'transfer', { t: 'offer', offerId: ${JSON.stringify(id)}, files: [{ id: ${JSON.stringify(id)}, name: 'evil.bin', size: 10, chunkSize: 262144 }] })`);
      await answer(tab2, 'Accept', 'evil.bin', 'Mallory');
      const evil = await waitRow(tab2, `t.name === 'evil.bin'`, 5_000);
      expect(evil.id, 'its own row under its own key').to.not.equal(before.key);
      // …and then cancels it, which deletes what is stored under its key.
      await mallory.page.evaluate(`window.__mallory.send(${JSON.stringify(tab2Peer)}, 'transfer', { t: 'cancel', ids: [${JSON.stringify(id)}] })`);
      await waitRow(tab2, `t.name === 'evil.bin' && t.status === 'cancelled'`, 10_000);
    } finally {
      await tab2.close();
    }
    // Ada's file is untouched: its record, its stored bytes, and Save.
    const after = (await storedIncoming(bob.page)).find((r) => r.key === before.key);
    expect(after).to.deep.equal(before);
    expect((await rows(bob.page)).find((r) => r.id === got.id)?.status).to.equal('verified');
    await clickRow(bob.page, got.id, 'Save');
    expect(await sha256File(await downloaded(bob.downloads, 'precious.bin'))).to.equal(precious.sha256);
  });

  it('deletes partial files older than a day', async () => {
    // A stale partial as a crashed tab would leave it: record plus stored file, last touched 2 days ago.
    await bob.page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-transfers', { create: true });
      const w = await (await dir.getFileHandle('stale-partial-0001', { create: true })).createWritable();
      await w.write(new Uint8Array(1000));
      await w.close();
      const db: IDBDatabase = await new Promise((res, rej) => {
        const r = indexedDB.open('hearth-transfers', 1);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const old = Date.now() - 2 * 24 * 3600 * 1000;
      await new Promise((res, rej) => {
        const tx = db.transaction('in', 'readwrite');
        tx.objectStore('in').put({ id: 'stale-partial-0001', offerId: 'stale-offer-0001', order: 0, scope: 'lobby', peerUserId: 'x', peerName: 'Someone', name: 'old.bin', size: 1000, chunkSize: 262144, state: 'receiving', bitmap: new Uint8Array(1), frontier: 0, hashState: null, sha256: null, createdAt: old, updatedAt: old });
        tx.oncomplete = res;
        tx.onerror = rej;
      });
      db.close();
    });
    expect(await opfsNames(bob.page)).to.include('stale-partial-0001');
    await bob.page.reload();
    await ready(bob.page);
    expect(await opfsNames(bob.page)).to.not.include('stale-partial-0001');
    expect((await rows(bob.page)).some((r) => r.id === 'stale-partial-0001')).to.equal(false);
  });

  it('in a room: sends to everyone over the call\'s connections, resumes, and records the ledger in the chat (verified in the receiver\'s word)', async () => {
    const owner = await hearth.app.users.findByUsername('ada');
    const room = await hearth.app.rooms.create({ name: 'Files', ownerId: owner!.id, capacity: 4, passcodeHash: null });
    try {
      for (const u of [ada, bob]) await u.page.goto(`${hearth.origin}/r/${room.slug}`);
      for (const u of [ada, bob]) {
        await u.page.waitForFunction(() => !(document.querySelector('#prejoin-status')?.textContent ?? 'Starting').startsWith('Starting'), { polling: 100, timeout: 15_000 });
        await u.page.locator('::-p-aria(Join)').click();
        await u.page.waitForSelector('#call:not([hidden])', { timeout: 15_000 });
      }
      await ada.page.waitForFunction(() => (window as any).__hearth.call.roster.size === 1, { polling: 100, timeout: 15_000 });
      const file = alias(fifty.file, 'room.bin');
      await ada.page.locator('::-p-aria(Send file)').click();
      await ada.page.waitForSelector('dialog.transfer-send');
      expect(await ada.page.$eval('#transfer-to', (s) => [...(s as HTMLSelectElement).options].map((o) => o.text))).to.deep.equal(['Everyone in the room', 'Bob 山田']);
      await ((await ada.page.$('#transfer-files')) as ElementHandle<HTMLInputElement>).uploadFile(file);
      await ada.page.locator('dialog.transfer-send ::-p-aria(Send)').click();
      await bob.page.waitForSelector(`${OFFERS} ::-p-aria(Accept room.bin from Ada Lovelace)`, { timeout: 10_000 });
      await screenshot(bob.page, 'transfer-room-offer');
      await answer(bob.page, 'Accept', 'room.bin');
      const [id] = (await rows(ada.page)).filter((r) => r.name === 'room.bin').map((r) => r.id);
      await waitRow(bob.page, `${same(id)} && t.done >= t.size / 2`);
      await ada.page.evaluate(() => (window as any).__hearth.transfers.closeChannels());
      const got = await waitRow(bob.page, `${same(id)} && t.status === 'verified'`);
      const sent = await waitRow(ada.page, `${same(id)} && t.status === 'verified'`);
      expect(got.sha256).to.equal(fifty.sha256);
      expect(sent.counters.sessions).to.be.at.least(2);
      expect(sent.counters.resent).to.be.below(0.1 * sent.size);
      // The chat keeps the ledger: offered to everyone and resumed (the sender's word), delivered and
      // verified with the hash — written from Bob's report of his own check, never from Ada's.
      await bob.page.waitForFunction((h) => [...document.querySelectorAll('#chat-messages .chat-message__text')].some((p) => p.textContent?.includes(h)), { polling: 100, timeout: 10_000 }, fifty.sha256);
      const lines = await bob.page.$$eval('#chat-messages li', (lis) => lis.map((li) => ({
        author: li.querySelector('.chat-message__author')?.textContent ?? '',
        text: li.querySelector('.chat-message__text')?.textContent ?? '',
      })));
      expect(lines).to.deep.include.members([
        { author: 'Ada Lovelace', text: 'Ada Lovelace → everyone: room.bin (52 MB) offered' },
        { author: 'Ada Lovelace', text: 'Ada Lovelace → Bob 山田: room.bin (52 MB) resumed' },
        { author: 'Bob 山田', text: `Ada Lovelace → Bob 山田: room.bin (52 MB) received and verified by Bob 山田, SHA-256 ${fifty.sha256}` },
      ]);
      expect(lines.filter((l) => l.text.includes('verified')), 'one verified entry, from the receiver').to.have.length(1);
      await screenshot(bob.page, 'transfer-room');
    } finally {
      for (const u of [ada, bob]) {
        await u.page.goto(`${hearth.origin}/`);
        await ready(u.page);
      }
    }
  });

  it('keeps the receiver under 150 MiB (JS heap + ArrayBuffers) while receiving 1 GiB, and no process holds the file', async function () {
    this.timeout(600_000);
    // The receiver uses the browser's default profile: in an off-the-record context (what
    // createBrowserContext makes) Chromium keeps OPFS files in the browser process's memory,
    // which would hide exactly the copy this test must rule out.
    const cleoCtx = browser.defaultBrowserContext();
    const cleo: TestUser = { ctx: cleoCtx, page: await cleoCtx.newPage(), name: 'cleo', errors: [] };
    await registerInBrowser(cleo, hearth.origin, 'cleo', 'Cleo');
    await ready(cleo.page);
    const gig = await randomFile(dir, 'one-gib.bin', 1024 * MiB);
    const cdp = await cleo.page.createCDPSession();
    const browserRss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${browser.process()!.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    const rss0 = browserRss();
    type Usage = { usedSize: number; backingStorageSize?: number };
    let peak = 0;
    let workerPeak = 0;
    let rssPeak = 0;
    let samples = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        const u = await cdp.send('Runtime.getHeapUsage') as Usage;
        peak = Math.max(peak, u.usedSize + (u.backingStorageSize ?? 0));
        // The OPFS writer worker is its own isolate: chunks handed to it must stay bounded too.
        for (const w of cleo.page.workers()) {
          const wu = await w.client.send('Runtime.getHeapUsage').catch(() => null) as Usage | null;
          if (wu) workerPeak = Math.max(workerPeak, wu.usedSize + (wu.backingStorageSize ?? 0));
        }
        rssPeak = Math.max(rssPeak, browserRss());
        samples++;
        await sleep(250);
      }
    })();
    const t0 = Date.now();
    const [id] = await sendFiles(ada.page, 'Cleo', [gig.file]);
    await answer(cleo.page, 'Accept', 'one-gib.bin');
    const got = await waitRow(cleo.page, `${same(id)} && t.status === 'verified'`, 500_000);
    stop = true;
    await sampler;
    const secs = (Date.now() - t0) / 1000;
    console.log(`      1 GiB in ${secs.toFixed(1)} s (${(1024 / secs).toFixed(1)} MiB/s); receiver heap + buffers peak ${(peak / MiB).toFixed(1)} MiB (writer worker ${(workerPeak / MiB).toFixed(1)} MiB) over ${samples} samples; browser process RSS +${((rssPeak - rss0) / MiB).toFixed(0)} MiB`);
    expect(got.sha256).to.equal(gig.sha256);
    expect(samples).to.be.above(10);
    expect(peak).to.be.below(150 * MiB);
    expect(workerPeak).to.be.above(0).and.below(150 * MiB);
    // A copy of the file anywhere in the browser process would add ~1 GiB.
    expect(rssPeak - rss0).to.be.below(400 * MiB);
    await waitRow(ada.page, `${same(id)} && t.status === 'verified'`, 10_000);
    await clickRow(cleo.page, got.id, 'Remove');
    await cleo.page.close();
  });
});
