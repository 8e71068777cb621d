import { expect } from 'chai';
import type { Page } from 'puppeteer';
import { formControl, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';

const PASSWORD = 'correct horse battery';

/** signalingOpen — the page's socket is up (the lobby and room islands expose their client). */
const signalingOpen = (page: Page) =>
  page.waitForFunction(() => (window as unknown as { __hearth?: { signaling: { state: string } } }).__hearth?.signaling.state === 'open', { timeout: 20_000 });

/** signInInBrowser — the sign-in form, as a person does it on a second device. */
async function signInInBrowser(user: TestUser, origin: string, username: string, password = PASSWORD): Promise<void> {
  const { page } = user;
  await page.goto(`${origin}/login`);
  await page.locator('::-p-aria([name="Username"][role="textbox"])').fill(username);
  const field = await formControl(page, 'Password');
  await field.type(password);
  await field.dispose();
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Sign in"][role="button"])').click()]);
  expect(new URL(page.url()).pathname).to.equal('/');
}

/** typeInto — types into the form field labelled `label`. */
async function typeInto(page: Page, label: string, text: string): Promise<void> {
  const field = await formControl(page, label);
  await field.type(text);
  await field.dispose();
}

describe('the Account page in a real browser', function () {
  this.timeout(120_000);
  const env = useHearthAndBrowser();
  const users: TestUser[] = [];
  const person = async (name: string) => {
    const u = await newUser(env.browser, name);
    users.push(u);
    return u;
  };

  before(async () => {
    // The first account is the admin; the people below are not.
    const admin = await person('admin');
    await registerInBrowser(admin, env.hearth.origin, 'admin', 'The Admin');
  });
  after(async () => {
    for (const u of users) await u.ctx.close().catch(() => undefined);
  });

  it('opens from the user menu; saves a display name; reads well wide and on a phone', async () => {
    const bea = await person('bea');
    const { page } = bea;
    await registerInBrowser(bea, env.hearth.origin, 'bea', 'Bea Baker');
    // A second device, so the devices table has a Sign out row.
    const other = await person('bea-phone');
    await signInInBrowser(other, env.hearth.origin, 'bea');

    await page.locator('::-p-aria(Account menu for Bea Baker)').click();
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Account"][role="link"])').click()]);
    expect(new URL(page.url()).pathname).to.equal('/account');
    expect(await page.$eval('h1', (h) => h.textContent?.trim())).to.equal('Account');

    const name = page.locator('::-p-aria([name="Display name"][role="textbox"])');
    await name.fill('Beatrice Baker');
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Save display name"][role="button"])').click()]);
    expect(await page.$eval('[role="status"].notice', (n) => n.textContent?.trim())).to.equal('Your display name is saved.');
    // The header greets the new name at once.
    await page.waitForSelector('::-p-aria(Account menu for Beatrice Baker)');

    // Devices: this one marked, the other with its own Sign out, and Sign out everywhere else.
    expect(await page.$$eval('table tbody tr', (rows) => rows.length)).to.equal(2);
    await page.waitForSelector('::-p-text(This device)');
    const perDevice = await page.$$eval('table button[aria-label]', (bs) => bs.map((b) => b.getAttribute('aria-label')));
    expect(perDevice).to.have.length(1);
    expect(perDevice[0]).to.match(/^Sign out Chrome on Linux \(127\.0\.0\.1\), signed in /);
    await page.waitForSelector('::-p-aria([name="Sign out everywhere else"][role="button"])');

    await screenshot(page, 'account');
    await page.setViewport({ width: 390, height: 844 });
    await page.reload();
    await screenshot(page, 'account-phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow, 'no horizontal scrolling on a phone').to.equal(false);
    expect(bea.errors).to.deep.equal([]);
  });

  it('a password change in one browser sends the person\'s other browser (an open lobby) to the sign-in page', async () => {
    const [cy, phone] = [await person('cy'), await person('cy-phone')];
    await registerInBrowser(cy, env.hearth.origin, 'cyd', 'Cyd');
    await signInInBrowser(phone, env.hearth.origin, 'cyd');
    await signalingOpen(phone.page);

    const { page } = cy;
    await page.goto(`${env.hearth.origin}/account`);
    await typeInto(page, 'Current password', PASSWORD);
    await typeInto(page, 'New password', 'a brand new password');
    const phoneLeaves = phone.page.waitForFunction(() => location.pathname === '/login', { timeout: 30_000 });
    await page.bringToFront();
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Change password"][role="button"])').click()]);
    expect(await page.$eval('[role="status"].notice', (n) => n.textContent?.trim())).to.equal('Your password is changed. Your other devices were signed out.');

    await phoneLeaves;
    await phone.page.waitForSelector('::-p-text(Your session has ended. Sign in again to continue.)');
    await screenshot(phone.page, 'account-password-elsewhere');
    // This browser stays signed in, now the only device.
    await page.reload();
    expect(new URL(page.url()).pathname).to.equal('/account');
    await page.waitForSelector('::-p-text(This is the only device signed in to your account.)');
    // The other browser signs in with the new password only.
    await signInInBrowser(phone, env.hearth.origin, 'cyd', 'a brand new password');
    expect(cy.errors).to.deep.equal([]);
  });

  it('Delete account asks for the password, then lands on the sign-in page saying so', async () => {
    const dee = await person('dee');
    await registerInBrowser(dee, env.hearth.origin, 'dee', 'Dee');
    const { page } = dee;
    await page.goto(`${env.hearth.origin}/account`);

    // A wrong password changes nothing.
    await typeInto(page, 'Password', 'not my password');
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Delete account"][role="button"])').click()]);
    expect(await page.$eval('#delete [role="alert"]', (n) => n.textContent?.trim())).to.equal('Your account was not deleted.');
    await page.waitForSelector('::-p-text(That is not your password.)');
    await screenshot(page, 'account-delete-wrong');

    await typeInto(page, 'Password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Delete account"][role="button"])').click()]);
    expect(new URL(page.url()).pathname).to.equal('/login');
    expect(await page.$eval('[role="status"].notice', (n) => n.textContent?.trim())).to.equal('Your account is deleted.');
    await screenshot(page, 'account-deleted');
    expect(await env.hearth.app.users.findByUsername('dee')).to.equal(null);
    // Nothing signs in as that account any more.
    await page.goto(`${env.hearth.origin}/account`);
    expect(new URL(page.url()).pathname).to.equal('/login');
    expect(dee.errors).to.deep.equal([]);
  });
});
