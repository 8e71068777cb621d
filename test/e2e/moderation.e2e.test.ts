// Room moderation in Chromium with fake media: the owner removes a person from the call (every
// page of theirs ends its call and keeps Join off), locks the room (a newcomer is refused), and
// the owner's controls and the removed state as they look, wide and on a phone.
import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { caller, createRoom, joinCall, openRoom, PC_HOOK, TOAST_LOG, waitConnected, waitToast } from '../helpers/call.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';

const names = { ada: 'Ada Lovelace', bob: 'Bob Builder', cy: 'Cy Young', dee: 'Dee Dee', eve: 'Eve Online' };

/** text — the page's visible text (what a person reads). */
const text = (page: Page) => page.evaluate(() => document.body.innerText);

/** waitText — until the page shows `s` somewhere. */
const waitText = (page: Page, s: string, timeout = 10_000) => page.waitForFunction((t) => document.body.innerText.includes(t), { timeout, polling: 100 }, s);

/** tileCount — the tiles of the call grid. */
const tileCount = (page: Page) => page.$$eval('#call-grid .tile', (t) => t.length);

/** button — the state of the button named `name` (null when there is none). */
async function button(page: Page, name: string): Promise<{ disabled: boolean } | null> {
  // The accessibility tree of a background tab does not answer: this one in front first.
  await page.bringToFront();
  const el = await page.$(`::-p-aria([name="${name}"][role="button"])`);
  if (!el) return null;
  const disabled = await el.evaluate((b) => (b as HTMLButtonElement).disabled);
  await el.dispose();
  return { disabled };
}

/** atPhoneWidth — runs `fn` with the page 390 px wide (without reloading it), then back to wide. */
async function atPhoneWidth(page: Page, fn: () => Promise<void>): Promise<void> {
  await page.setViewport({ width: 390, height: 844 });
  await sleep(300);
  try {
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), 'no sideways scrolling at 390 px').to.equal(false);
    await fn();
  } finally {
    await page.setViewport({ width: 1280, height: 860 });
  }
}

describe('room moderation in a real browser', function () {
  this.timeout(120_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;
  let cy: TestUser;
  let slug: string;

  before(async () => {
    hearth = await startTestHearth();
    browser = await launchBrowser();
    // The first account is the admin: someone else, so Ada moderates as a plain owner.
    const root = new HttpClient(hearth.origin, (await testTls()).ca);
    expect((await root.register('root')).status).to.equal(303);
    await root.close();
    ada = await caller(browser, hearth, 'ada', names.ada);
    bob = await caller(browser, hearth, 'bob', names.bob);
    cy = await caller(browser, hearth, 'cyrus', names.cy);
    slug = await createRoom(hearth, 'ada', 'Standup', 6);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });
  afterEach(function () {
    const errors = [ada, bob, cy].flatMap((u) => u?.errors.splice(0) ?? []);
    if (this.currentTest?.state === 'passed') expect(errors).to.deep.equal([]);
  });

  it('the owner removes a person: each of their pages ends its call with "You were removed from this room", and Join is refused', async () => {
    for (const page of [ada.page, bob.page, cy.page]) {
      await openRoom(page, hearth.origin, slug);
      await joinCall(page);
    }
    // Bob is in the call from a second page too.
    const bob2 = await bob.ctx.newPage();
    await bob2.evaluateOnNewDocument(PC_HOOK);
    await bob2.evaluateOnNewDocument(TOAST_LOG);
    await openRoom(bob2, hearth.origin, slug);
    await joinCall(bob2);
    await waitConnected(ada.page, 3);
    await ada.page.waitForFunction(() => document.querySelectorAll('#room-members > li').length === 3);

    // The owner's controls: Remove from room on everyone else's row, and Room settings.
    expect(await button(ada.page, `Remove from room: ${names.ada}`)).to.equal(null);
    expect(await button(ada.page, `Remove from room: ${names.bob}`)).to.deep.equal({ disabled: false });
    expect(await button(ada.page, 'Lock room')).to.deep.equal({ disabled: false });
    expect(await text(ada.page)).to.include('Room settings');
    // Nobody else gets them.
    expect(await button(cy.page, `Remove from room: ${names.bob}`)).to.equal(null);
    expect(await button(cy.page, 'Lock room')).to.equal(null);
    await screenshot(ada.page, 'moderation-owner-desktop');
    await atPhoneWidth(ada.page, () => screenshot(ada.page, 'moderation-owner-phone').then(() => undefined));

    await ada.page.locator(`::-p-aria(Remove from room: ${names.bob})`).click();
    // Both of Bob's pages: the call ends with a calm word, camera and microphone off, Join off.
    for (const page of [bob.page, bob2]) {
      await waitText(page, 'You were removed from this room');
      expect(await text(page)).to.include('You can join again in 10 minutes.');
      expect(await page.$eval('#call', (el) => (el as HTMLElement).hidden)).to.equal(true);
      expect(await page.evaluate(() => {
        const m = window.__hearth!.media!;
        return { started: m.started, audio: m.audio, video: m.video, phase: window.__hearth!.call!.phase };
      })).to.deep.equal({ started: false, audio: null, video: null, phase: 'ended' });
      expect(await button(page, 'Join')).to.deep.equal({ disabled: true });
      // Joining anyway (over the page's own socket) is refused by the server.
      const refusal = await page.evaluate((s) => window.__hearth!.signaling!.join(s).then((r) => ('code' in r ? { code: r.code, message: r.message } : r.type)), slug);
      expect(refusal).to.deep.equal({ code: 'banned', message: 'You were removed from this room. You can join again in 10 minutes.' });
    }
    // The others see Bob go (his two tiles), and the owner hears it was done.
    await waitToast(ada.page, `${names.bob} was removed from this room for 10 minutes.`);
    for (const page of [ada.page, cy.page]) {
      await page.waitForFunction(() => document.querySelectorAll('#call-grid .tile').length === 2, { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelectorAll('#room-members > li').length === 2, { timeout: 10_000 });
    }
    expect(await tileCount(cy.page)).to.equal(2);
    await screenshot(bob.page, 'moderation-removed-live');

    // Coming back to the room's page: the same state, Join off.
    await bob.page.goto(`${hearth.origin}/r/${slug}`);
    await waitText(bob.page, 'You were removed from this room');
    expect(await text(bob.page)).to.include('You can join again in 10 minutes.');
    expect(await button(bob.page, 'Join')).to.deep.equal({ disabled: true });
    await screenshot(bob.page, 'moderation-removed-desktop');
    await atPhoneWidth(bob.page, () => screenshot(bob.page, 'moderation-removed-phone').then(() => undefined));
    await bob2.close();
  });

  it('a locked room refuses a newcomer with "This room is locked"; Unlock room lets them in', async () => {
    const dee = await caller(browser, hearth, 'dee', names.dee);
    const eve = await caller(browser, hearth, 'eve', names.eve);
    try {
      // Eve has the page open, ready to join, before the room is locked.
      await openRoom(eve.page, hearth.origin, slug);
      await ada.page.locator('::-p-aria(Lock room)').click();
      await ada.page.locator('::-p-aria(Unlock room)').wait();
      await waitToast(ada.page, 'Room locked. Nobody new can join until you unlock it.');
      // Everyone in the room sees the Locked badge at once.
      for (const page of [ada.page, cy.page]) await page.waitForFunction(() => !(document.querySelector('#room-locked') as HTMLElement).hidden, { timeout: 10_000 });
      expect(await text(cy.page)).to.include('Locked');

      // A newcomer opening the room: told, and no Join.
      await dee.page.goto(`${hearth.origin}/r/${slug}`);
      await waitText(dee.page, 'This room is locked');
      expect(await button(dee.page, 'Join')).to.equal(null);
      await screenshot(dee.page, 'moderation-locked-newcomer');
      // A newcomer who had the page open: Join is refused with the same words.
      await eve.page.locator('::-p-aria(Join)').click();
      await eve.page.waitForFunction(() => document.querySelector('#prejoin-status')?.textContent?.startsWith('This room is locked'), { timeout: 10_000 });
      expect(await eve.page.$eval('#call', (el) => (el as HTMLElement).hidden)).to.equal(true);

      // Unlocked (from the call, no reload): Eve joins.
      await ada.page.locator('::-p-aria(Unlock room)').click();
      await ada.page.locator('::-p-aria(Lock room)').wait();
      await cy.page.waitForFunction(() => (document.querySelector('#room-locked') as HTMLElement).hidden, { timeout: 10_000 });
      await joinCall(eve.page);
      await waitConnected(eve.page, 2);
      expect([...dee.errors, ...eve.errors]).to.deep.equal([]);
    } finally {
      await dee.ctx.close();
      await eve.ctx.close();
    }
  });
});
