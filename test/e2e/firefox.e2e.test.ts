// Hearth in Firefox: one person in Debian's Firefox ESR (puppeteer over WebDriver BiDi) and one in
// Chromium, in the same call: sign-up, the call both ways, chat both ways, a verified file each way.
// Pages are driven by role and accessible name, as a person sees them; the only thing the test
// adds to a page is PC_HOOK, to read getStats of the connections the page makes.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'puppeteer';
import { formControl, launchBrowser, launchFirefox, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { createRoom, PC_HOOK } from '../helpers/call.js';
import { randomFile } from '../helpers/files.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';

/** WAIT_MS — how long any element may take to show: a role/name query costs 1–3 s in a Firefox call page, more on a busy machine. */
const WAIT_MS = 45_000;

const MiB = 1024 * 1024;
const ONLINE = '::-p-aria([name="Online now"][role="region"])';
const CHAT = '::-p-aria([name="Chat"][role="log"])';
const OFFERS = '::-p-aria([name="Files offered to you"][role="region"])';
const TRANSFERS = '::-p-aria([name="File transfers"][role="region"])';
const PREJOIN = '::-p-aria([name="Get ready to join"][role="region"])';
const SEND_DIALOG = '::-p-aria([name="Send files"][role="dialog"])';

/** visibleText — what the element `selector` finds shows (its innerText); waits for the element. */
async function visibleText(page: Page, selector: string): Promise<string> {
  const el = await page.waitForSelector(selector, { timeout: WAIT_MS });
  try {
    return await el!.evaluate((e) => (e as HTMLElement).innerText);
  } finally {
    await el!.dispose();
  }
}

/** waitText — until the element `selector` finds shows `text`; the error says what it showed instead. */
async function waitText(page: Page, selector: string, text: string, timeout = WAIT_MS): Promise<string> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    // A page that re-renders may replace the element between finding and reading it: read again.
    last = await visibleText(page, selector).catch((e: Error) => `(${e.message})`);
    if (last.includes(text)) return last;
    await sleep(150);
  }
  throw new Error(`"${text}" never showed in ${selector}; it shows:\n${last}`);
}

/**
 * inbound — per live connection of the page: video frames decoded and audio packets received.
 * Both browsers report these on their `inbound-rtp` stats.
 */
const inbound = (page: Page): Promise<{ frames: number; audio: number }[]> => page.evaluate(async () => {
  const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.filter((pc) => pc.connectionState === 'connected');
  return Promise.all(pcs.map(async (pc) => {
    let frames = 0;
    let audio = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.packetsReceived ?? 0;
    });
    return { frames, audio };
  }));
});

/**
 * waitReceiving — until the page has exactly one live connection on which video frames are being
 * decoded and audio packets arrive (both rising between two samples), and the tile named `from`
 * plays video (its size known, its play position moving). Says what it saw if that never happens.
 */
async function waitReceiving(page: Page, from: string, timeout = 30_000): Promise<{ width: number; height: number }> {
  const tile = await page.waitForSelector(`::-p-aria([name="${from}"][role="group"])`, { timeout: WAIT_MS });
  const video = () => tile!.$eval('video', (v) => ({ width: v.videoWidth, height: v.videoHeight, time: v.currentTime }));
  try {
    const deadline = Date.now() + timeout;
    let last = '';
    while (Date.now() < deadline) {
      const [a, va] = [await inbound(page), await video()];
      await sleep(700);
      const [b, vb] = [await inbound(page), await video()];
      const decoding = a.length === 1 && b.length === 1 && b[0]!.frames > a[0]!.frames && b[0]!.audio > a[0]!.audio;
      const playing = vb.width > 0 && vb.height > 0 && vb.time > va.time;
      if (decoding && playing) return { width: vb.width, height: vb.height };
      last = JSON.stringify({ stats: [a, b], tile: [va, vb] });
    }
    throw new Error(`${from}'s video and audio never arrived: ${last}`);
  } finally {
    await tile!.dispose();
  }
}

/** sendToRoom — in a call: Send file, pick `file` under Files, Send (to everyone in the room). */
async function sendToRoom(page: Page, file: string): Promise<void> {
  await page.locator('::-p-aria([name="Send file"][role="button"])').click();
  await page.waitForSelector(SEND_DIALOG, { visible: true, timeout: WAIT_MS });
  const input = await formControl(page, 'Files');
  await input.uploadFile(file);
  await input.dispose();
  await page.locator(`${SEND_DIALOG} ::-p-aria([name="Send"][role="button"])`).click();
  await page.waitForSelector(SEND_DIALOG, { hidden: true, timeout: WAIT_MS });
}

/** accept — clicks Accept on the offer of `name` from `from` in Files offered to you; says what both pages show if it never comes. */
async function accept(receiver: Page, sender: Page, name: string, from: string): Promise<void> {
  const button = `${OFFERS} ::-p-aria([name="Accept ${name} from ${from}"][role="button"])`;
  try {
    await receiver.locator(button).setTimeout(WAIT_MS).click();
  } catch (err) {
    const shows = async (page: Page, selector: string) => visibleText(page, selector).catch(() => '(not shown)');
    throw new Error(`${(err as Error).message}: no "Accept ${name} from ${from}". The receiver's offers: ${await shows(receiver, OFFERS)}; `
      + `the sender's File transfers: ${await shows(sender, TRANSFERS)}`);
  }
  await receiver.waitForSelector(button, { hidden: true, timeout: WAIT_MS });
}

describe('Firefox and Chromium in one call: sign-up, call, chat, a verified file each way', function () {
  // Two browsers on two shared cores: generous limits, so that a busy machine is slow, not red.
  this.timeout(180_000);
  let hearth: TestHearth;
  let chromium: Browser;
  let firefox: Browser;
  let ada: TestUser; // in Chromium
  let fox: TestUser; // in Firefox
  let dir: string;
  const names = { ada: 'Ada Lovelace', fox: 'Renée Füchsin' };

  before(async function () {
    this.timeout(60_000);
    dir = tempDir('firefox-files');
    hearth = await startTestHearth();
    firefox = await launchFirefox(); // first: without Firefox the test fails here, saying how to install it
    chromium = await launchBrowser();
    ada = await newUser(chromium, 'ada');
    fox = await newUser(firefox, 'fox');
    for (const u of [ada, fox]) await u.page.evaluateOnNewDocument(PC_HOOK);
  });
  after(async () => {
    await Promise.all([chromium?.close(), firefox?.close()]);
    await hearth?.close();
  });

  it('drives Debian\'s Firefox ESR over WebDriver BiDi next to Chromium', async () => {
    expect(await firefox.version()).to.match(/^firefox\/\d+/);
    expect(await chromium.version()).to.match(/Chrom/);
  });

  it('signs up in each browser through the form; each sees the other under Online now', async () => {
    await registerInBrowser(fox, hearth.origin, 'fox', names.fox);
    await registerInBrowser(ada, hearth.origin, 'ada', names.ada);
    await waitText(fox.page, ONLINE, names.ada);
    await waitText(ada.page, ONLINE, names.fox);
    await screenshot(fox.page, 'firefox-lobby');
  });

  it('calls: each decodes the other\'s video and receives their audio, and each tile plays', async () => {
    const slug = await createRoom(hearth, 'ada', 'Two browsers', 4);
    for (const u of [fox, ada]) {
      await u.page.goto(`${hearth.origin}/r/${slug}`);
      await waitText(u.page, `${PREJOIN} ::-p-aria([role="status"])`, 'Your camera and microphone are ready.');
      await u.page.locator('::-p-aria([name="Join"][role="button"])').click();
      await u.page.waitForSelector('::-p-aria([name="Call controls"][role="toolbar"])', { visible: true, timeout: WAIT_MS });
    }
    const inFirefox = await waitReceiving(fox.page, names.ada);
    const inChromium = await waitReceiving(ada.page, names.fox);
    expect(inFirefox.width, 'Chromium\'s camera as Firefox shows it').to.be.above(0);
    expect(inChromium.width, 'Firefox\'s camera as Chromium shows it').to.be.above(0);
    await screenshot(fox.page, 'firefox-call');
    await screenshot(ada.page, 'firefox-call-chromium-side');
  });

  it('chat: a message typed in each browser (Enter sends) shows in the other', async () => {
    const hello = { fox: 'Grüß dich from Firefox 🦊', ada: 'Hello back from Chromium' };
    await fox.page.locator('::-p-aria([name="Message"][role="textbox"])').fill(hello.fox);
    await fox.page.keyboard.press('Enter');
    await waitText(ada.page, CHAT, hello.fox);
    await ada.page.locator('::-p-aria([name="Message"][role="textbox"])').fill(hello.ada);
    await ada.page.keyboard.press('Enter');
    const seen = await waitText(fox.page, CHAT, hello.ada);
    expect(seen.indexOf(hello.fox), 'the order of the two messages').to.be.below(seen.indexOf(hello.ada));
    await waitText(ada.page, CHAT, hello.ada);
  });

  for (const [from, to, size] of [['fox', 'ada', 4 * MiB], ['ada', 'fox', 2 * MiB]] as const) {
    it(`sends a file from ${from === 'fox' ? 'Firefox to Chromium' : 'Chromium to Firefox'}: Verified with the right SHA-256 on both sides and in the chat's ledger`, async () => {
      const sender = from === 'fox' ? fox : ada;
      const receiver = to === 'fox' ? fox : ada;
      const name = `from-${from}.bin`;
      const { file, sha256 } = await randomFile(dir, name, size);
      await sendToRoom(sender.page, file);
      await accept(receiver.page, sender.page, name, names[from]);
      for (const u of [receiver, sender]) {
        const row = await waitText(u.page, TRANSFERS, sha256, 120_000);
        expect(row, `${u.name}'s File transfers`).to.include('Verified');
      }
      // The ledger line is written from the receiver's own check of the whole file.
      const ledger = `${names[from]} → ${names[to]}: ${name}`;
      for (const u of [sender, receiver]) {
        const chat = await waitText(u.page, CHAT, `received and verified by ${names[to]}, SHA-256 ${sha256}`, 30_000);
        expect(chat).to.include(ledger);
      }
      await screenshot(receiver.page, `firefox-transfer-${from}-to-${to}`);
    });
  }

  it('raised no page errors in either browser', () => {
    expect([...fox.errors, ...ada.errors]).to.deep.equal([]);
  });
});
