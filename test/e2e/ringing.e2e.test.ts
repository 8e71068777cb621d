import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { createRoom, PC_HOOK, waitDecoding } from '../helpers/call.js';

const OPTS = { timeout: 10_000, polling: 100 } as const;

async function waitForText(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => document.body.innerText.includes(t), OPTS, text);
}

describe('ringing in real browsers', function () {
  this.timeout(120_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;

  before(async () => {
    hearth = await startTestHearth({ RING_TIMEOUT_SECONDS: '3' }, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    ada = await newUser(browser, 'ada');
    bob = await newUser(browser, 'bob');
    await ada.page.evaluateOnNewDocument(PC_HOOK);
    await bob.page.evaluateOnNewDocument(PC_HOOK);
    await registerInBrowser(ada, hearth.origin, 'ada', 'Ada');
    await registerInBrowser(bob, hearth.origin, 'bob', 'Bob <i>B</i>');
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });

  async function callBob(): Promise<void> {
    await ada.page.bringToFront();
    await ada.page.goto(`${hearth.origin}/`);
    await ada.page.locator('::-p-aria(Call Bob <i>B</i>)').click();
    await waitForText(ada.page, 'Ringing Bob <i>B</i>…');
  }

  it('shows an incoming-call alertdialog; Decline tells the caller', async () => {
    await bob.page.goto(`${hearth.origin}/`);
    await callBob();
    await bob.page.waitForSelector('::-p-aria(Incoming call from Ada)', OPTS);
    const role = await bob.page.$eval('dialog[open]', (d) => d.getAttribute('role'));
    expect(role).to.equal('alertdialog');
    // The focus is on the dialog, not on Accept: a stray key while typing must not answer.
    expect(await bob.page.evaluate(() => document.activeElement?.tagName)).to.equal('DIALOG');
    await bob.page.keyboard.press('Enter');
    await bob.page.keyboard.press('Space');
    expect(await bob.page.$('dialog[open]'), 'still ringing after stray keys').to.not.equal(null);
    expect(new URL(bob.page.url()).pathname).to.equal('/');
    await screenshot(bob.page, 'ring-incoming');
    await screenshot(ada.page, 'ring-outgoing');
    await bob.page.locator('::-p-aria(Decline)').click();
    await waitForText(ada.page, 'Bob <i>B</i> declined');
    expect(await bob.page.$('dialog[open]')).to.equal(null);
  });

  it('says "No answer" after the timeout, and the callee finds a missed call to call back', async () => {
    await callBob();
    await bob.page.waitForSelector('::-p-aria(Incoming call from Ada)', OPTS);
    await waitForText(ada.page, 'No answer');
    await bob.page.waitForFunction(() => !document.querySelector('dialog[open]'), OPTS);
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForSelector('::-p-aria(Call back)', OPTS);
    await screenshot(bob.page, 'missed-calls');
  });

  it('Accept puts both people in the same private call room, with each other\'s video decoding', async () => {
    // Call back from the missed-calls list: now Bob rings Ada.
    await ada.page.goto(`${hearth.origin}/`);
    await bob.page.bringToFront();
    await bob.page.locator('::-p-aria(Call back)').click();
    await ada.page.waitForSelector('::-p-aria(Incoming call from Bob <i>B</i>)', OPTS);
    await Promise.all([ada.page.waitForNavigation(), bob.page.waitForNavigation(), ada.page.locator('::-p-aria(Accept)').click()]);
    expect(new URL(ada.page.url()).pathname).to.equal(new URL(bob.page.url()).pathname);
    expect(new URL(ada.page.url()).pathname).to.match(/^\/r\//);
    for (const p of [ada.page, bob.page]) await waitDecoding(p, 1);
    await screenshot(ada.page, 'ring-accepted-call');
    expect([...ada.errors, ...bob.errors]).to.deep.equal([]);
  });

  it('a plain link with ?join=1 opens the room without joining (no camera without a click)', async () => {
    const slug = await createRoom(hearth, 'ada', 'Trap');
    await ada.page.goto(`${hearth.origin}/r/${slug}?join=1`);
    await ada.page.waitForSelector('::-p-aria(Join)', OPTS);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await ada.page.$eval('#call', (el) => (el as HTMLElement).hidden)).to.equal(true);
    expect(await ada.page.evaluate(() => window.__hearth?.call?.phase)).to.equal('idle');
    expect(new URL(ada.page.url()).search).to.equal('');
  });
});
