import { expect } from 'chai';
import { newUser, registerInBrowser, screenshot } from '../helpers/browser.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';

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
});
