import { expect } from 'chai';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';

const onlineNames = (page: Page) => page.$$eval('#online-list .person__name', (els) => els.map((e) => e.textContent?.trim() ?? ''));

describe('lobby in real browsers', function () {
  this.timeout(90_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let bob: TestUser;

  before(async () => {
    hearth = await startTestHearth({}, { heartbeatMs: 1_000 });
    browser = await launchBrowser();
    ada = await newUser(browser, 'ada');
    bob = await newUser(browser, 'bob');
    await registerInBrowser(ada, hearth.origin, 'ada', 'Ada Lovelace');
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });

  it('creates a room from the New room form and lands on its bookmarkable page', async () => {
    const { page } = ada;
    await page.locator('::-p-aria(Room name)').fill('Tea & <b>biscuits</b>');
    const cap = await page.$('::-p-aria(Capacity)');
    await cap!.click({ count: 3 });
    await cap!.type('3');
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Create room)').click()]);
    const url = new URL(page.url());
    expect(url.pathname).to.match(/^\/r\/[a-z]+-[a-z]+-[a-z0-9]{4}$/);
    expect(await page.$eval('h1', (h) => h.textContent)).to.include('Tea & <b>biscuits</b>');
    expect(await page.$('h1 b')).to.equal(null);
    await screenshot(page, 'room-prejoin');
  });

  it('shows people appear and disappear in Online now, live', async () => {
    await ada.page.goto(`${hearth.origin}/`);
    await ada.page.waitForSelector('#online-list .person--self');
    expect(await ada.page.$eval('#online-empty', (e) => (e as HTMLElement).hidden)).to.equal(false);

    await registerInBrowser(bob, hearth.origin, 'bob', 'Bob 山田');
    await ada.page.waitForFunction(() => [...document.querySelectorAll('#online-list .person__name')].some((e) => e.textContent?.includes('Bob 山田')), { timeout: 5_000, polling: 100 });
    expect(await ada.page.$eval('#online-empty', (e) => (e as HTMLElement).hidden)).to.equal(true);
    await bob.page.waitForFunction(() => [...document.querySelectorAll('#online-list .person__name')].some((e) => e.textContent?.includes('Ada Lovelace')), { timeout: 5_000, polling: 100 });
    await screenshot(ada.page, 'lobby-two-online');

    await bob.page.goto('about:blank');
    await ada.page.waitForFunction(() => ![...document.querySelectorAll('#online-list .person__name')].some((e) => e.textContent?.includes('Bob')), { timeout: 5_000, polling: 100 });
    expect(await onlineNames(ada.page)).to.deep.equal(['Ada Lovelace (you)']);
  });

  it('updates Live rooms when a room fills and empties', async () => {
    const owner = await hearth.app.users.findByUsername('ada');
    const room = await hearth.app.rooms.create({ name: 'Two seats', ownerId: owner!.id, capacity: 2, passcodeHash: null });
    await ada.page.goto(`${hearth.origin}/`);
    await bob.page.goto(`${hearth.origin}/`);
    await ada.page.waitForSelector('#online-list .person--self');
    expect(await ada.page.$(`#live-rooms li[data-slug="${room.slug}"]`)).to.equal(null);

    // Bob's tab and a second tab of Ada's take the seats through the real signaling channel.
    await bob.page.waitForFunction(() => (window as any).__hearth?.signaling?.isOpen === true, { timeout: 5_000, polling: 100 });
    // Ada's keyboard focus is on Bob's Call button while the lobby updates around it.
    await (await ada.page.waitForSelector('::-p-aria(Call Bob 山田)'))!.focus();
    await bob.page.evaluate((slug) => (window as any).__hearth.signaling.join(slug), room.slug);
    const badge = (n: string) => ada.page.waitForFunction((slug, text) => document.querySelector(`#live-rooms li[data-slug="${slug}"] .badge .visually-hidden`)?.textContent === text, { timeout: 5_000, polling: 100 }, room.slug, n);
    await badge('1 of 2');
    expect(await ada.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'focus kept through lobby updates').to.equal('Call Bob 山田');
    const adaTab2 = await ada.ctx.newPage();
    await adaTab2.goto(`${hearth.origin}/`);
    await adaTab2.waitForFunction(() => (window as any).__hearth?.signaling?.isOpen === true, { timeout: 5_000, polling: 100 });
    await adaTab2.evaluate((slug) => (window as any).__hearth.signaling.join(slug), room.slug);
    await badge('2 of 2');
    expect(await ada.page.$eval(`#live-rooms li[data-slug="${room.slug}"] .room-item__members`, (e) => e.textContent)).to.include('Bob 山田');
    expect(await ada.page.$eval(`#my-rooms li[data-slug="${room.slug}"] .badge .visually-hidden`, (e) => e.textContent)).to.equal('2 of 2');
    // Bob is shown in the room; Ada (two tabs) is listed once.
    const bobWhere = await ada.page.$eval('#online-list', (l) => [...l.querySelectorAll('li')].find((li) => li.textContent?.includes('Bob'))?.querySelector('.person__where')?.textContent);
    expect(bobWhere).to.equal('In Two seats');
    expect((await onlineNames(ada.page)).filter((n) => n.startsWith('Ada'))).to.have.length(1);
    await screenshot(ada.page, 'lobby-live-room');

    // The page for a third person now says the room is full.
    const carol = await newUser(browser, 'carol');
    await registerInBrowser(carol, hearth.origin, 'carol', 'Carol');
    await carol.page.goto(`${hearth.origin}/r/${room.slug}`);
    expect(await carol.page.$eval('#full-heading', (h) => h.textContent)).to.equal('This room is full (2 of 2)');
    await carol.page.waitForSelector('::-p-aria(Wait for a seat)');
    await carol.page.waitForSelector('::-p-aria(Back to lobby)');
    await screenshot(carol.page, 'room-full');

    await adaTab2.close();
    await ada.page.bringToFront();
    await badge('1 of 2');
    await bob.page.evaluate(() => (window as any).__hearth.signaling.leave());
    await ada.page.waitForFunction((slug) => !document.querySelector(`#live-rooms li[data-slug="${slug}"]`), { timeout: 5_000, polling: 100 }, room.slug);
    expect(await ada.page.$eval('#live-empty', (e) => (e as HTMLElement).hidden)).to.equal(false);
    await carol.ctx.close();
  });

  it('deletes a room from Your rooms (owner only) and 404s its address', async () => {
    await ada.page.goto(`${hearth.origin}/`);
    const before = await ada.page.$$eval('#my-rooms li', (l) => l.length);
    const slug = await ada.page.$eval('#my-rooms li', (li) => (li as HTMLElement).dataset.slug!);
    const li = await ada.page.$(`#my-rooms li[data-slug="${slug}"]`);
    const del = await li!.$('::-p-aria(Delete room)');
    await Promise.all([ada.page.waitForNavigation(), del!.click()]);
    expect(await ada.page.$$eval('#my-rooms li', (l) => l.length)).to.equal(before - 1);
    const res = await ada.page.goto(`${hearth.origin}/r/${slug}`);
    expect(res?.status()).to.equal(404);
    await screenshot(ada.page, 'room-not-found');
    expect([...ada.errors, ...bob.errors]).to.deep.equal([]);
  });
});
