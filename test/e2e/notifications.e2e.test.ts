import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';

const OPTS = { timeout: 30_000, polling: 100 } as const;

interface Recorded {
  title: string;
  body: string;
  tag: string;
  closed: boolean;
  /** The browser's own events: it showed the notification, or could not. */
  shown: boolean;
  error: boolean;
}

declare global {
  interface Window {
    __notes: Recorded[];
    __lastNote: Notification | null;
    __asked?: number;
  }
}

/**
 * NOTIFICATION_LOG — every Notification the page makes is recorded in `window.__notes` (title, body,
 * tag, closed) and still made by the real API; `__lastNote` is the last one, to click. A string:
 * tsx would wrap named functions in a __name the page lacks.
 */
const NOTIFICATION_LOG = `(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__notes = [];
  window.__lastNote = null;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      const rec = { title, body: options.body || '', tag: options.tag || '', closed: false, shown: false, error: false };
      this.__rec = rec;
      this.addEventListener('show', () => { rec.shown = true; });
      this.addEventListener('error', () => { rec.error = true; });
      window.__notes.push(rec);
      window.__lastNote = this;
    }
    close() {
      this.__rec.closed = true;
      super.close();
    }
  }
  window.Notification = Recorded;
})()`;

const notes = (page: Page): Promise<Recorded[]> => page.evaluate(() => window.__notes);
const visibility = (page: Page): Promise<string> => page.evaluate(() => document.visibilityState);

/** openMenu — opens the header's user menu (a <details>). */
async function openMenu(page: Page): Promise<void> {
  await page.$eval('details.user-menu', (d) => ((d as HTMLDetailsElement).open = true));
}

/** controlText — what the notifications control shows: the button's name, or the line saying the state. */
async function controlText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const item = document.getElementById('notify-item')!;
    if (item.hidden) return '(hidden)';
    const button = document.getElementById('notify-toggle')!;
    const note = document.getElementById('notify-state')!;
    return button.hidden ? note.textContent ?? '' : `button: ${button.textContent?.trim()}`;
  });
}

describe('desktop notifications for rings in a real browser', function () {
  this.timeout(120_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;
  /** Another tab of Bob's, brought to the front so his Hearth tab is hidden. */
  let cover: Page;

  before(async () => {
    hearth = await startTestHearth({ RING_TIMEOUT_SECONDS: '20' }, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    ada = await newUser(browser, 'ada');
    bob = await newUser(browser, 'bob');
    await bob.page.evaluateOnNewDocument(NOTIFICATION_LOG);
    await registerInBrowser(ada, hearth.origin, 'ada', 'Ada Lovelace');
    await registerInBrowser(bob, hearth.origin, 'bob', 'Bob <i>B</i>');
    cover = await bob.ctx.newPage();
    await cover.evaluateOnNewDocument(NOTIFICATION_LOG);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });

  /** hideBob — Bob's Hearth tab goes to the background (his other tab in front); proven by its visibilityState. */
  async function hideBob(): Promise<void> {
    await cover.bringToFront();
    await bob.page.waitForFunction(() => document.visibilityState === 'hidden', OPTS);
  }

  /** ring — Ada calls Bob from her lobby; returns once Bob's page knows of the call. */
  async function ring(): Promise<void> {
    await ada.page.bringToFront();
    await ada.page.goto(`${hearth.origin}/`);
    await ada.page.locator('::-p-aria(Call Bob <i>B</i>)').setTimeout(30_000).click();
    await ada.page.waitForFunction(() => document.body.innerText.includes('Ringing Bob <i>B</i>…'), OPTS);
  }

  it('shows Turn on notifications until asked; a grant turns it into "Notifications are on"', async () => {
    await bob.page.bringToFront();
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await openMenu(bob.page);
    await bob.page.waitForSelector('::-p-aria([name="Turn on notifications"][role="button"])', OPTS);
    expect(await controlText(bob.page)).to.equal('button: Turn on notifications');
    expect(await bob.page.evaluate(() => Notification.permission)).to.equal('default');
    await bob.page.setViewport({ width: 390, height: 760 });
    await screenshot(bob.page, 'notifications-ask-phone');
    await bob.page.setViewport({ width: 1280, height: 860 });

    // The person says yes in the browser's prompt: DevTools grants the permission the moment the page asks.
    await bob.page.exposeFunction('__answerPrompt', () => bob.ctx.overridePermissions(hearth.origin, ['notifications']));
    await bob.page.evaluate(() => {
      const ask = Notification.requestPermission.bind(Notification);
      Notification.requestPermission = async () => {
        window.__asked = (window.__asked ?? 0) + 1;
        await (window as unknown as { __answerPrompt(): Promise<void> }).__answerPrompt();
        return ask();
      };
    });
    await bob.page.locator('::-p-aria([name="Turn on notifications"][role="button"])').click();
    await bob.page.waitForFunction(() => document.getElementById('notify-state')?.textContent === 'Notifications are on', OPTS);
    expect(await bob.page.evaluate(() => window.__asked), 'asked the browser once').to.equal(1);
    expect(await bob.page.$('::-p-aria([name="Turn on notifications"][role="button"])')).to.equal(null);
    // The answer takes the focus (the button it replaced is gone) and is a status line.
    expect(await bob.page.evaluate(() => document.activeElement?.id)).to.equal('notify-state');
    expect(await bob.page.$eval('#notify-state', (p) => p.getAttribute('role'))).to.equal('status');
    await screenshot(bob.page, 'notifications-on');

    // Already granted: a fresh page says so at once, with no button.
    await bob.page.reload();
    await bob.page.waitForFunction(() => document.getElementById('notify-state')?.textContent === 'Notifications are on' && !document.getElementById('notify-item')!.hidden, OPTS);
    expect(await controlText(bob.page)).to.equal('Notifications are on');
  });

  it('a ring to a hidden tab shows "<name> is calling you", tagged per ring; it closes when the caller hangs up', async () => {
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await hideBob();
    expect(await visibility(bob.page)).to.equal('hidden');
    await ring();
    await bob.page.waitForFunction(() => window.__notes.length > 0, OPTS);
    expect(await visibility(bob.page), 'still hidden when it rang').to.equal('hidden');
    const [n] = await notes(bob.page);
    expect(n!.title).to.equal('Ada Lovelace is calling you');
    expect(n!.body).to.equal('Open Hearth to answer.');
    expect(n!.tag).to.match(/^hearth-ring-[\w-]+$/);
    expect(n!.closed).to.equal(false);
    // The browser itself showed it (the real API, not only the recorder).
    await bob.page.waitForFunction(() => window.__notes[0]!.shown || window.__notes[0]!.error, OPTS);
    expect((await notes(bob.page))[0]!.error).to.equal(false);
    // The ring dialog is there too, for when Bob comes back.
    expect(await bob.page.$('dialog[open]')).to.not.equal(null);

    await ada.page.locator('::-p-aria(Cancel)').click();
    await bob.page.waitForFunction(() => window.__notes[0]!.closed, OPTS);
    await bob.page.waitForFunction(() => !document.querySelector('dialog[open]'), OPTS);
    expect(await notes(bob.page)).to.have.length(1);

    // The next ring is a new notification with its own tag (a ring replaces only its own).
    await hideBob();
    await ring();
    await bob.page.waitForFunction(() => window.__notes.length === 2, OPTS);
    const [first, second] = await notes(bob.page);
    expect(second!.title).to.equal('Ada Lovelace is calling you');
    expect(second!.tag).to.not.equal(first!.tag);

    // Clicking it brings Bob to the tab (focus) and closes it; the dialog is there to answer.
    await bob.page.evaluate(() => window.__lastNote!.dispatchEvent(new Event('click')));
    await bob.page.waitForFunction(() => window.__notes[1]!.closed, OPTS);
    await bob.page.bringToFront();
    await bob.page.locator('::-p-aria(Decline)').click();
    await ada.page.waitForFunction(() => document.body.innerText.includes('Bob <i>B</i> declined'), OPTS);
    expect(await notes(bob.page)).to.have.length(2);
  });

  it('a ring answered in another tab of the callee closes the hidden tab\'s notification', async () => {
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    const before = (await notes(bob.page)).length;
    // Bob's other tab is a Hearth lobby too: it is in front, his first tab hidden.
    await cover.goto(`${hearth.origin}/`);
    await cover.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await hideBob();
    await ring();
    await bob.page.waitForFunction((k) => window.__notes.length > k, OPTS, before);
    expect(await cover.evaluate(() => document.visibilityState)).to.equal('visible');
    // The tab in front shows the dialog and no notification of its own (someone is looking at it).
    await cover.waitForSelector('::-p-aria(Incoming call from Ada Lovelace)', OPTS);
    expect(await cover.evaluate(() => window.__notes.length)).to.equal(0);
    await cover.locator('::-p-aria(Decline)').click();
    await bob.page.waitForFunction((k) => window.__notes[k]!.closed, OPTS, before);
    await cover.goto('about:blank');
  });

  it('a ring to a tab someone is looking at shows the dialog and no notification; once the tab is hidden, one comes', async () => {
    await bob.page.bringToFront();
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForFunction(() => window.__hearth?.signaling?.isOpen, OPTS);
    await ring();
    await bob.page.waitForSelector('::-p-aria(Incoming call from Ada Lovelace)', OPTS);
    expect(await visibility(bob.page)).to.equal('visible');
    expect(await notes(bob.page)).to.deep.equal([]);
    // Bob looks away while it still rings: the notification comes then; back at the tab, it goes.
    await hideBob();
    await bob.page.waitForFunction(() => window.__notes.length === 1, OPTS);
    expect((await notes(bob.page))[0]!.title).to.equal('Ada Lovelace is calling you');
    await bob.page.bringToFront();
    await bob.page.waitForFunction(() => window.__notes[0]!.closed, OPTS);
    await bob.page.locator('::-p-aria(Decline)').click();
    await ada.page.waitForFunction(() => document.body.innerText.includes('Bob <i>B</i> declined'), OPTS);
  });

  it('blocked in the browser\'s settings: the control says so, live and after a reload', async () => {
    await bob.page.bringToFront();
    await bob.page.goto(`${hearth.origin}/`);
    await bob.page.waitForFunction(() => document.getElementById('notify-state')?.textContent === 'Notifications are on', OPTS);
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setPermission', { permission: { name: 'notifications' }, setting: 'denied', origin: hearth.origin, browserContextId: bob.ctx.id });
    await bob.page.waitForFunction(() => document.getElementById('notify-state')?.textContent === 'Notifications are blocked in this browser\'s settings', OPTS);
    await bob.page.reload();
    await bob.page.waitForFunction(() => document.getElementById('notify-state')?.textContent === 'Notifications are blocked in this browser\'s settings' && !document.getElementById('notify-item')!.hidden, OPTS);
    expect(await bob.page.$('::-p-aria([name="Turn on notifications"][role="button"])')).to.equal(null);
    await openMenu(bob.page);
    await screenshot(bob.page, 'notifications-blocked');
    // Hidden and rung while blocked: nothing is attempted.
    await hideBob();
    await ring();
    await bob.page.waitForFunction(() => !!document.querySelector('dialog[open]'), OPTS);
    expect(await notes(bob.page)).to.deep.equal([]);
    await ada.page.locator('::-p-aria(Cancel)').click();
    await cdp.detach();
    expect([...ada.errors, ...bob.errors]).to.deep.equal([]);
  });
});
