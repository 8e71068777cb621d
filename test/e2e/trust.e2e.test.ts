// The trust page and sharing a room in a real browser: the sign-in page leads to /trust, its QR code (as drawn) decodes to Hearth's address; screenshots wide and on a phone.
import { expect } from 'chai';
import type { Page } from 'puppeteer';
import { newUser, screenshot, type TestUser } from '../helpers/browser.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';
import { decodeQrPng } from '../helpers/qr.js';

const ANDROID_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

/** noSideScroll — the page fits the viewport's width. */
const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

/** qrAsDrawn — the QR code named "QR code for <url>", screenshotted as the browser draws it, decoded. */
async function qrAsDrawn(page: Page, url: string): Promise<string | null> {
  // By its accessible name (Chromium reports role=img as "image" in its tree; the attribute is checked too).
  const qr = await page.locator(`::-p-aria([name="QR code for ${url}"])`).setTimeout(30_000).waitHandle();
  try {
    expect(await qr.evaluate((e) => [e.tagName.toLowerCase(), e.getAttribute('role')])).to.deep.equal(['svg', 'img']);
    return decodeQrPng(Buffer.from(await qr.screenshot({ type: 'png' })));
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
});
