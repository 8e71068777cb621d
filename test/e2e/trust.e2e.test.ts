// The trust page and sharing a room in a real browser: the sign-in page leads to /trust, its QR code (as drawn) decodes to Hearth's address; screenshots wide and on a phone.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'puppeteer';
import { formControl, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { createRoom, openRoom } from '../helpers/call.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';
import { decodeQrPng } from '../helpers/qr.js';

const ANDROID_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

/** button — the button named exactly `name`. */
const button = (page: Page, name: string) => page.locator(`::-p-aria([name="${name}"][role="button"])`);

/** focused — the accessible text of the focused element. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? null);

/** noSideScroll — the page fits the viewport's width. */
const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/**
 * qrAsDrawn — the QR code named "QR code for <url>", screenshotted as the browser draws it, decoded.
 * A dialog fades in: the screenshot is taken again until it decodes (or 30 s have passed).
 */
async function qrAsDrawn(page: Page, url: string): Promise<string | null> {
  // By its accessible name (Chromium reports role=img as "image" in its tree; the attribute is checked too).
  const qr = await page.locator(`::-p-aria([name="QR code for ${url}"])`).setTimeout(30_000).waitHandle();
  try {
    expect(await qr.evaluate((e) => [e.tagName.toLowerCase(), e.getAttribute('role')])).to.deep.equal(['svg', 'img']);
    for (const end = Date.now() + 30_000; ; await sleep(200)) {
      const decoded = decodeQrPng(Buffer.from(await qr.screenshot({ type: 'png' })));
      if (decoded !== null || Date.now() > end) return decoded;
    }
  } finally {
    await qr.dispose();
  }
}

describe('the trust page in a real browser', function () {
  this.timeout(120_000);
  const env = useHearthAndBrowser();
  const users: TestUser[] = [];
  afterEach(() => {
    expect(users.flatMap((u) => u.errors.splice(0))).to.deep.equal([]);
  });

  it('"First time on this device?" on the sign-in page leads to it; its QR code decodes to Hearth\'s address (wide screenshot)', async () => {
    const u = await newUser(env.browser, 'visitor');
    users.push(u);
    const { page } = u;
    await page.goto(`${env.hearth.origin}/login`);
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="First time on this device?"][role="link"])').click()]);
    expect(new URL(page.url()).pathname).to.equal('/trust');
    await page.locator('::-p-aria([name="Trust this Hearth"][role="heading"])').setTimeout(30_000).wait();
    const address = `https://127.0.0.1:${env.hearth.port}/`;
    expect(await qrAsDrawn(page, address)).to.equal(address);
    const download = await page.locator('::-p-aria([name="Download certificate"][role="link"])').waitHandle();
    expect(await download.evaluate((a) => (a as HTMLAnchorElement).pathname)).to.equal('/ca.crt');
    await download.dispose();
    // Headless Chromium on Linux: its own steps first, the other devices folded.
    expect(await page.evaluate(() => document.querySelector('h3')?.textContent)).to.equal('On this device (Linux and Firefox)');
    expect(await noSideScroll(page)).to.equal(true);
    await screenshot(page, 'trust-wide');
  });

  it('on a phone: its own steps first, readable without sideways scrolling, the QR code still decodes (phone screenshot)', async () => {
    const u = await newUser(env.browser, 'phone');
    users.push(u);
    const { page } = u;
    await page.setUserAgent(ANDROID_UA);
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.goto(`${env.hearth.origin}/trust`);
    expect(await page.evaluate(() => document.querySelector('h3')?.textContent)).to.equal('On this device (Android)');
    const address = `https://127.0.0.1:${env.hearth.port}/`;
    expect(await qrAsDrawn(page, address)).to.equal(address);
    expect(await noSideScroll(page)).to.equal(true);
    await screenshot(page, 'trust-phone');
  });

  describe('sharing a room', () => {
    let sam: TestUser;
    let slug: string;
    before(async () => {
      sam = await newUser(env.browser, 'sam');
      users.push(sam);
      await registerInBrowser(sam, env.hearth.origin, 'sam', 'Sam Reed');
      slug = await createRoom(env.hearth, 'sam', 'Book club');
    });

    it('Copy link puts the room\'s URL on the clipboard; Show QR code opens a dialog whose QR code decodes to it; Escape and Close close it (screenshot)', async () => {
      const { page, ctx } = sam;
      await ctx.overridePermissions(env.hearth.origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
      await openRoom(page, env.hearth.origin, slug);
      const url = `https://127.0.0.1:${env.hearth.port}/r/${slug}`;
      const field = await formControl(page, 'Room link', 30_000);
      expect(await field.evaluate((e) => [e.value, e.readOnly])).to.deep.equal([url, true]);
      await field.dispose();

      await button(page, 'Copy link').setTimeout(30_000).click();
      await page.waitForSelector('::-p-text(Copied)', { timeout: 30_000 });
      expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(url);

      await button(page, 'Show QR code').click();
      const dialog = page.locator('::-p-aria([name="Scan to open this room"][role="dialog"])').setTimeout(30_000);
      await dialog.wait();
      expect(await qrAsDrawn(page, url)).to.equal(url);
      expect(await focused(page)).to.equal('Close');
      await screenshot(page, 'room-share-qr');

      await page.keyboard.press('Escape');
      await page.waitForFunction(() => !document.querySelector('dialog#share-qr-dialog')?.hasAttribute('open'), { timeout: 30_000 });
      expect(await focused(page)).to.equal('Show QR code');
      await button(page, 'Show QR code').click();
      await dialog.wait();
      await button(page, 'Close').click();
      await page.waitForFunction(() => !document.querySelector('dialog#share-qr-dialog')?.hasAttribute('open'), { timeout: 30_000 });
      expect(await focused(page)).to.equal('Show QR code');
    });

    it('on a phone the Share panel fits (screenshot), and without JavaScript the room link is there to select', async () => {
      const { page } = sam;
      await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
      await openRoom(page, env.hearth.origin, slug);
      await button(page, 'Show QR code').setTimeout(30_000).click();
      const url = `https://127.0.0.1:${env.hearth.port}/r/${slug}`;
      expect(await qrAsDrawn(page, url)).to.equal(url);
      expect(await noSideScroll(page)).to.equal(true);
      await screenshot(page, 'room-share-qr-phone');
      await page.keyboard.press('Escape');

      await page.setJavaScriptEnabled(false);
      try {
        await page.goto(`${env.hearth.origin}/r/${slug}`);
        const field = await formControl(page, 'Room link', 30_000);
        expect(await field.evaluate((e) => e.value)).to.equal(url);
        await field.dispose();
        // The buttons need JavaScript, so they are not there without it.
        expect(await page.$$('::-p-aria([name="Copy link"][role="button"])')).to.have.length(0);
        expect(await page.$$('::-p-aria([name="Show QR code"][role="button"])')).to.have.length(0);
      } finally {
        await page.setJavaScriptEnabled(true);
        await page.setViewport({ width: 1280, height: 860 });
      }
    });
  });
});
