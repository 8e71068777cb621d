import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { caller, createRoom, joinCall, openRoom } from '../helpers/call.js';

const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(2)</script>',
  '"><svg onload=alert(3)>',
  'javascript:alert(4)',
  '[click](javascript:alert(5))',
];

/** messages — what the chat list shows: author, text, and the links inside. */
async function messages(page: Page): Promise<{ author: string; text: string; links: { href: string; rel: string; target: string }[] }[]> {
  return page.$$eval('#chat-messages > li', (lis) => lis.map((li) => ({
    author: li.querySelector('.chat-message__author')?.textContent ?? '',
    text: li.querySelector('.chat-message__text')?.textContent ?? '',
    links: [...li.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href') ?? '', rel: a.rel, target: a.target })),
  })));
}

const waitText = (page: Page, text: string) => page.waitForFunction((t) =>
  [...document.querySelectorAll('#chat-messages .chat-message__text')].some((p) => p.textContent === t), { timeout: 10_000 }, text);

/** expectNoInjection — nothing from the hostile payloads became markup, and no dialog opened. */
async function expectNoInjection(page: Page, dialogs: string[]): Promise<void> {
  const found = await page.evaluate(() => ({
    img: document.querySelector('img[src="x"]') !== null,
    script: [...document.querySelectorAll('script')].some((s) => s.textContent?.includes('alert')),
    svg: document.querySelector('#chat svg[onload]') !== null,
    jsLink: document.querySelector('#chat a[href^="javascript"]') !== null,
  }));
  expect(found).to.deep.equal({ img: false, script: false, svg: false, jsLink: false });
  expect(dialogs).to.deep.equal([]);
}

describe('room chat in a real browser', function () {
  this.timeout(90_000);
  let hearth: TestHearth;
  let browser: Browser;
  let users: TestUser[];
  let slug: string;
  const dialogs: string[] = [];

  before(async () => {
    hearth = await startTestHearth();
    browser = await launchBrowser();
    users = [
      await caller(browser, hearth, 'ada', 'Ada Lovelace'),
      await caller(browser, hearth, 'grace', 'Grace <b>Hopper</b>'),
      await caller(browser, hearth, 'linus', 'Linus Pauling'),
    ];
    for (const u of users) u.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    slug = await createRoom(hearth, 'ada', 'Chat room', 6);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });

  it('a message typed by one (Enter sends) appears at the two others; links are clickable and safe', async () => {
    const [ada, grace, linus] = users as [TestUser, TestUser, TestUser];
    for (const u of users) {
      await openRoom(u.page, hearth.origin, slug);
      await joinCall(u.page);
    }
    await ada.page.locator('::-p-aria(Message)').fill('Hello all, agenda at https://example.org/agenda?x=1. See (https://en.wikipedia.org/wiki/Hearth_(disambiguation))!');
    await ada.page.keyboard.press('Enter');
    for (const u of [ada, grace, linus]) await waitText(u.page, 'Hello all, agenda at https://example.org/agenda?x=1. See (https://en.wikipedia.org/wiki/Hearth_(disambiguation))!');
    const [m] = await messages(grace.page);
    expect(m!.author).to.equal('Ada Lovelace');
    expect(m!.links).to.deep.equal([
      { href: 'https://example.org/agenda?x=1', rel: 'noopener noreferrer', target: '_blank' },
      { href: 'https://en.wikipedia.org/wiki/Hearth_(disambiguation)', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    expect(await ada.page.$eval('#chat-input', (t) => (t as HTMLTextAreaElement).value)).to.equal('');
    expect(await grace.page.$eval('#chat-messages > li time', (t) => /^\d\d:\d\d$/.test(t.textContent ?? ''))).to.equal(true);

    // Shift+Enter is a new line, not a send.
    await linus.page.locator('::-p-aria(Message)').click();
    await linus.page.keyboard.type('two');
    await linus.page.keyboard.down('Shift');
    await linus.page.keyboard.press('Enter');
    await linus.page.keyboard.up('Shift');
    await linus.page.keyboard.type('lines');
    await linus.page.locator('::-p-aria(Send)').click();
    for (const u of users) await waitText(u.page, 'two\nlines');

    // Hostile text, and a hostile display name, stay text.
    for (const text of HOSTILE) {
      await grace.page.locator('::-p-aria(Message)').fill(text);
      await grace.page.keyboard.press('Enter');
      for (const u of users) await waitText(u.page, text);
    }
    for (const u of users) await expectNoInjection(u.page, dialogs);
    const all = await messages(ada.page);
    expect(all.slice(2).map((x) => [x.author, x.text, x.links.length])).to.deep.equal(HOSTILE.map((t) => ['Grace <b>Hopper</b>', t, 0]));
    await screenshot(ada.page, 'chat-live');
  });

  it('after a reload the history is there, server-rendered, still as text and with links', async () => {
    const ada = users[0]!;
    await ada.page.reload();
    await ada.page.waitForSelector('#chat-messages > li');
    const all = await messages(ada.page);
    expect(all.map((x) => x.text)).to.deep.equal([
      'Hello all, agenda at https://example.org/agenda?x=1. See (https://en.wikipedia.org/wiki/Hearth_(disambiguation))!',
      'two\nlines',
      ...HOSTILE,
    ]);
    expect(all[0]!.links.map((l) => l.href)).to.deep.equal(['https://example.org/agenda?x=1', 'https://en.wikipedia.org/wiki/Hearth_(disambiguation)']);
    await expectNoInjection(ada.page, dialogs);
    // The server's copy, without any script: escaped markup.
    const html = await (await ada.page.goto(`${hearth.origin}/r/${slug}`))!.text();
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).to.not.include('<img src=x');
  });

  it('before joining, Send posts the form (the no-JavaScript path) and the message shows after the reload', async () => {
    const ada = users[0]!;
    await openRoom(ada.page, hearth.origin, slug);
    await ada.page.locator('::-p-aria(Message)').fill('sent before joining');
    await Promise.all([ada.page.waitForNavigation(), ada.page.locator('::-p-aria(Send)').click()]);
    await waitText(ada.page, 'sent before joining');
    // Those in the call get it live.
    await waitText(users[1]!.page, 'sent before joining');
    await screenshot(ada.page, 'chat-prejoin');
  });

  it('sending too fast is refused with a toast, and the unsent text is kept', async () => {
    const linus = users[2]!;
    let n = 0;
    // The server allows 10 messages per 10 s per person; Linus has sent one.
    for (; n < 12; n++) {
      await linus.page.locator('::-p-aria(Message)').fill(`burst ${n}`);
      await linus.page.keyboard.press('Enter');
      // Stop at the refusal itself (another error toast, from anything else, is not it).
      if (await linus.page.evaluate(() => ((window as unknown as { __toasts: string[] }).__toasts).some((t) => t.includes('too fast')))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await linus.page.waitForFunction(() => ((window as unknown as { __toasts: string[] }).__toasts).some((t) => t.includes('too fast')), { timeout: 10_000 })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; toasts: ${JSON.stringify(await linus.page.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts))}`);
      });
    await linus.page.waitForFunction(() => /^burst \d+$/.test((document.querySelector('#chat-input') as HTMLTextAreaElement).value));
    expect(users.flatMap((u) => u.errors)).to.deep.equal([]);
  });
});
