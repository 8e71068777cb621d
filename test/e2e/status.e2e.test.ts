// The Status page in Chromium: an admin sees every figure with its label, charts that follow the figures, at desktop and phone widths; others are refused.
import { expect } from 'chai';
import type { Page, SerializedAXNode } from 'puppeteer';
import { newUser, registerInBrowser, screenshot } from '../helpers/browser.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';

const LABELS = ['People online', 'Rooms live', 'Calls', 'Transfers in progress', 'Signaling messages/s', 'Redis memory', 'Redis latency', 'Process memory', 'Event-loop delay'];

/** axNodes — every node of the page's accessibility tree, flattened. */
async function axNodes(page: Page): Promise<SerializedAXNode[]> {
  const out: SerializedAXNode[] = [];
  const walk = (n: SerializedAXNode | null | undefined) => {
    if (!n) return;
    out.push(n);
    for (const c of n.children ?? []) walk(c);
  };
  walk(await page.accessibility.snapshot());
  return out;
}

/** charts — the accessible names of the page's charts (role img; Chromium's tree calls it "image"). */
async function charts(page: Page): Promise<string[]> {
  return (await axNodes(page)).filter((n) => n.role === 'img' || n.role === 'image').map((n) => n.name ?? '');
}

/** pointsOf — how many readings the chart named `label…` draws (it says so in data-points). */
function pointsOf(page: Page, label: string): Promise<number> {
  return page.$eval(`svg[aria-label^="${label}:"]`, (svg) => Number(svg.getAttribute('data-points')));
}

describe('the Status page in a real browser', function () {
  this.timeout(90_000);
  const env = useHearthAndBrowser();

  it('shows an admin every figure with its label, and charts that update with each reading', async () => {
    const admin = await newUser(env.browser, 'admin');
    await registerInBrowser(admin, env.hearth.origin, 'root', 'Root Admin');
    const { page } = admin;
    // From the user menu, as an admin finds it.
    await page.locator('::-p-aria(Account menu for Root Admin)').click();
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Status"][role="link"])').click()]);
    expect(new URL(page.url()).pathname).to.equal('/admin/status');
    expect(await page.title()).to.equal('Status · Hearth');
    await page.waitForSelector('::-p-aria([name="Status"][role="heading"])');

    // Every figure is a labelled term with its value, and has a chart named after it.
    const nodes = await axNodes(page);
    const texts = nodes.map((n) => n.name ?? '');
    for (const label of LABELS) expect(texts, label).to.include(label);
    await page.waitForFunction((n) => document.querySelectorAll('svg[role="img"][aria-label]').length === n, { timeout: 10_000 }, LABELS.length);
    const names = await charts(page);
    expect(names.map((n) => n.split(':')[0])).to.deep.equal(LABELS);
    // A page just opened charts the last minute; its charts reach back further as it stays open (5 minutes at most).
    for (const name of names) expect(name).to.match(/^[^:]+: .+, last minute$/);
    expect(names[0]).to.match(/^People online: \d+, last minute$/);

    // Someone comes online: the next readings say so, and each chart grows a point per reading.
    const before = await pointsOf(page, 'People online');
    const bob = await newUser(env.browser, 'bob');
    await registerInBrowser(bob, env.hearth.origin, 'bob', 'Bob');
    await bob.page.waitForFunction(() => (window as unknown as { __hearth?: { signaling?: { state: string } } }).__hearth?.signaling?.state === 'open', { timeout: 10_000 });
    const online = await env.hearth.app.rooms.online();
    const people = new Set(online.map((p) => p.userId)).size;
    await page.waitForSelector(`::-p-aria(People online: ${people}, last minute)`, { timeout: 10_000 });
    await page.waitForFunction((b) => Number(document.querySelector('svg[aria-label^="People online:"]')?.getAttribute('data-points')) >= b + 2, { timeout: 10_000 }, before);
    expect(await page.$eval('svg[aria-label^="People online:"] polyline', (l) => l.getAttribute('points')!.split(' ').length)).to.be.at.least(2);
    expect(await page.$eval('#status-problem', (p) => (p as HTMLElement).hidden)).to.equal(true);

    // A few readings more, for charts worth looking at.
    await page.waitForFunction(() => Number(document.querySelector('svg[aria-label^="Redis latency:"]')?.getAttribute('data-points')) >= 5, { timeout: 20_000 });
    await screenshot(page, 'status-wide');
    await page.setViewport({ width: 390, height: 844 });
    await screenshot(page, 'status-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow, 'no horizontal scrolling on a phone').to.equal(false);
    expect(admin.errors).to.deep.equal([]);

    // Bob is no admin: the page is refused him.
    const refused = await bob.page.goto(`${env.hearth.origin}/admin/status`);
    expect(refused?.status()).to.equal(403);
    await bob.page.waitForSelector('::-p-text(This page is for the people who run this Hearth.)');
    expect(bob.errors).to.deep.equal([]);
    await bob.ctx.close();
    await admin.ctx.close();
  });

  it('shows the figures without JavaScript too (no charts then)', async () => {
    const admin = await newUser(env.browser, 'admin-nojs');
    await registerInBrowser(admin, env.hearth.origin, 'nojs', 'No Script');
    // The first account was the admin; make this one an admin too, as the Admin page would.
    const user = await env.hearth.app.users.findByUsername('nojs');
    expect(await env.hearth.app.users.setRole(user!.id, 'admin')).to.equal('ok');
    await admin.page.setJavaScriptEnabled(false);
    await admin.page.goto(`${env.hearth.origin}/admin/status`);
    const texts = (await axNodes(admin.page)).map((n) => n.name ?? '');
    for (const label of LABELS) expect(texts, label).to.include(label);
    expect(await charts(admin.page)).to.deep.equal([]);
    await admin.ctx.close();
  });
});
