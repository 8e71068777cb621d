import { expect } from 'chai';
import { newUser, registerInBrowser, screenshot } from '../helpers/browser.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestHearth, useHearthAndBrowser } from '../helpers/hearth.js';

describe('accounts in a real browser', function () {
  this.timeout(60_000);
  const env = useHearthAndBrowser();

  it('registers, signs out and signs in again, returning to where the user was going', async () => {
    const user = await newUser(env.browser, 'ada');
    const { page } = user;
    await page.goto(`${env.hearth.origin}/`);
    expect(new URL(page.url()).pathname).to.equal('/login');
    await screenshot(page, 'login');
    await page.locator('::-p-aria(Create an account)').click();
    await page.waitForSelector('::-p-aria(Create account)');
    await screenshot(page, 'register');

    await registerInBrowser(user, env.hearth.origin, 'ada', 'Ada Lovelace');
    await page.waitForSelector('::-p-text(Ada Lovelace)');
    await screenshot(page, 'lobby-placeholder');

    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Sign out)').click()]);
    expect(new URL(page.url()).pathname).to.equal('/login');
    await page.waitForSelector('::-p-text(You have signed out.)');

    // A wrong password is announced next to the form.
    await page.locator('::-p-aria(Username)').fill('ada');
    await page.locator('::-p-aria(Password)').fill('wrong password');
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Sign in)').click()]);
    const alert = await page.$eval('[role="alert"]', (el) => el.textContent?.trim());
    expect(alert).to.equal('Wrong username or password.');
    await screenshot(page, 'login-error');

    await page.goto(`${env.hearth.origin}/login?next=${encodeURIComponent('/nowhere')}`);
    await page.locator('::-p-aria(Username)').fill('ADA');
    await page.locator('::-p-aria(Password)').fill('correct horse battery');
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Sign in)').click()]);
    expect(new URL(page.url()).pathname).to.equal('/nowhere');
    expect(await page.$eval('h1', (h) => h.textContent)).to.match(/Not found|404/);
    await screenshot(page, 'not-found');

    // Phone width: the sign-in page still fits.
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${env.hearth.origin}/`);
    await screenshot(page, 'lobby-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow, 'no horizontal scrolling on a phone').to.equal(false);
    expect(user.errors).to.deep.equal([]);
    await user.ctx.close();
  });

  it('a tab whose session ends elsewhere (Sign out in another tab) goes to the sign-in page within 2 s and stops retrying', async () => {
    const user = await newUser(env.browser, 'bea');
    await registerInBrowser(user, env.hearth.origin, 'bea', 'Bea');
    const other = await user.ctx.newPage();
    await other.goto(`${env.hearth.origin}/`);
    await other.waitForFunction(() => (window as unknown as { __hearth?: { signaling: { state: string } } }).__hearth?.signaling.state === 'open', { timeout: 10_000 });
    const moved = other.waitForNavigation({ timeout: 5_000 });
    await user.page.bringToFront();
    const t0 = Date.now();
    await Promise.all([user.page.waitForNavigation(), user.page.locator('::-p-aria(Sign out)').click()]);
    await moved;
    expect(Date.now() - t0).to.be.below(2_000);
    const url = new URL(other.url());
    expect(url.pathname).to.equal('/login');
    expect(url.searchParams.get('next')).to.equal('/');
    await other.waitForSelector('::-p-text(Your session has ended. Sign in again to continue.)');
    // The tab that clicked Sign out shows its own notice.
    await user.page.waitForSelector('::-p-text(You have signed out.)');
    await screenshot(other, 'session-ended');
    expect(user.errors).to.deep.equal([]);
    await user.ctx.close();
  });
});

describe('too many tabs in a real browser', function () {
  this.timeout(60_000);
  it('says "Too many Hearth tabs open" instead of retrying for ever', async () => {
    const hearth = await startTestHearth({}, { signalingLimits: { socketsPerUser: 1 } });
    const browser = await launchBrowser();
    try {
      const user = await newUser(browser, 'cyrus');
      await registerInBrowser(user, hearth.origin, 'cyrus', 'Cyrus');
      await user.page.waitForFunction(() => (window as unknown as { __hearth?: { signaling: { state: string } } }).__hearth?.signaling.state === 'open', { timeout: 10_000 });
      const second = await user.ctx.newPage();
      await second.goto(`${hearth.origin}/`);
      await second.waitForSelector('::-p-text(Too many Hearth tabs open. Close some of them, then reload this page.)', { timeout: 10_000 });
      expect(await second.evaluate(() => (window as unknown as { __hearth: { signaling: { state: string } } }).__hearth.signaling.state)).to.equal('closed');
      await screenshot(second, 'too-many-tabs');
    } finally {
      await browser.close();
      await hearth.close();
    }
  });
});
