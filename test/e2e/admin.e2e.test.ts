// The Admin page in a real browser: disabling a person ends their lobby and call tabs, an invite link works once, a reset link works once; the page wide and on a phone.
//
// Per-row buttons are found by their accessible names: "Disable <Display Name> (<username>)",
// "Enable …", "Make admin: …", "Remove admin: …", "Reset password for …", "Delete room <name>",
// "Revoke invite <code>"; the link fields by their labels "New invite link" and "Reset link for …".
import { expect } from 'chai';
import type { Page } from 'puppeteer';
import { formControl, newUser, registerInBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { createRoom, joinCall, openRoom } from '../helpers/call.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';

const PASSWORD = 'correct horse battery';

/** button — the button named exactly `name` (names with parentheses need the quoted form). */
const button = (page: Page, name: string) => page.locator(`::-p-aria([name="${name}"][role="button"])`);

/** submit — clicks a button that posts a form and waits for the page it leads to. */
async function submit(page: Page, name: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), button(page, name).click()]);
}

/** onSignInPage — waits (generously) until `page` has gone to the sign-in page by itself. */
async function onSignInPage(page: Page): Promise<void> {
  await page.waitForFunction(() => location.pathname === '/login' && document.readyState === 'complete', { timeout: 20_000, polling: 100 });
}

/** fillRegistration — fills the registration form the page shows (reached through an invite link). */
async function fillRegistration(page: Page, username: string, displayName: string): Promise<void> {
  await page.locator('::-p-aria([name="Username"][role="textbox"])').fill(username);
  await page.locator('::-p-aria([name="Display name"][role="textbox"])').fill(displayName);
  const pw = await formControl(page, 'Password');
  await pw.type(PASSWORD);
  await pw.dispose();
  await submit(page, 'Create account');
}

/** noSideScroll — the page fits the viewport's width. */
const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('the Admin page in a real browser', function () {
  this.timeout(120_000);
  const env = useHearthAndBrowser();
  let admin: TestUser;
  const users: TestUser[] = [];

  before(async () => {
    admin = await newUser(env.browser, 'ada');
    users.push(admin);
    await registerInBrowser(admin, env.hearth.origin, 'ada', 'Ada Lovelace'); // the first account: admin
  });
  // The browser (and every context in it) is closed by useHearthAndBrowser.
  afterEach(() => {
    expect(users.flatMap((u) => u.errors.splice(0))).to.deep.equal([]);
  });

  const person = async (username: string, displayName: string) => {
    const u = await newUser(env.browser, username);
    users.push(u);
    await registerInBrowser(u, env.hearth.origin, username, displayName);
    return u;
  };

  it('Disable sends the person\'s lobby tab and call tab to the sign-in page, and sign-in then says "This account is disabled."', async () => {
    const ben = await person('ben', 'Ben Okafor');
    await person('cleo', 'Cleo Park');
    const slug = await createRoom(env.hearth, 'ben', 'Planning');
    // The lobby tab, with its socket open.
    const lobby = ben.page;
    await lobby.goto(`${env.hearth.origin}/`);
    await lobby.waitForFunction(() => (window as unknown as { __hearth?: { signaling?: { state: string } } }).__hearth?.signaling?.state === 'open', { timeout: 15_000 });
    // The call tab, in the call.
    const call = await ben.ctx.newPage();
    await call.setViewport({ width: 1280, height: 860 });
    await openRoom(call, env.hearth.origin, slug);
    await joinCall(call);

    const page = admin.page;
    await page.goto(`${env.hearth.origin}/admin`);
    await page.waitForSelector('::-p-text(In it now)');
    await screenshot(page, 'admin');
    await submit(page, 'Disable Ben Okafor (ben)');
    await page.waitForSelector('::-p-text(Disabled Ben Okafor (ben). They were signed out everywhere.)');
    expect(await page.$eval('[role="status"].admin-notice', (e) => e.textContent?.trim())).to.include('Disabled Ben Okafor (ben)');

    await Promise.all([onSignInPage(lobby), onSignInPage(call)]);
    // Both tabs loaded the sign-in page at once, and each got a new sign-in form token: only the
    // last one's matches the browser's cookie now, so sign in from a freshly loaded page.
    await call.close();
    await lobby.bringToFront();
    await lobby.reload();
    await lobby.locator('::-p-aria([name="Username"][role="textbox"])').fill('ben');
    const pw = await formControl(lobby, 'Password');
    await pw.type(PASSWORD);
    await pw.dispose();
    await submit(lobby, 'Sign in');
    expect(await lobby.$eval('[role="alert"]', (e) => e.textContent?.trim())).to.equal('This account is disabled.');

    // Enabled again, the same sign-in goes through.
    await page.bringToFront();
    await submit(page, 'Enable Ben Okafor (ben)');
    await lobby.bringToFront();
    const again = await formControl(lobby, 'Password');
    await again.type(PASSWORD);
    await again.dispose();
    await submit(lobby, 'Sign in');
    expect(new URL(lobby.url()).pathname).to.equal('/');
  });

  it('an invite link creates an account while registration is closed, and a second use says "This invitation has been used"', async () => {
    const page = admin.page;
    await page.bringToFront();
    await admin.ctx.overridePermissions(env.hearth.origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    await page.goto(`${env.hearth.origin}/admin`);
    await page.locator('::-p-aria([name="Closed"][role="radio"])').click();
    await submit(page, 'Save');
    await page.waitForSelector('::-p-text(Registration is now: Closed.)');

    await page.locator('::-p-aria([name="Uses"][role="spinbutton"])').fill('1');
    await page.select('select[name="expiry"]', '1d');
    await submit(page, 'Create invite link');
    const field = await formControl(page, 'New invite link');
    const link = await field.evaluate((e) => e.value);
    await field.dispose();
    expect(link).to.match(/\/register\?invite=[A-Za-z0-9_-]{22}$/);
    await button(page, 'Copy link').click();
    await page.waitForSelector('::-p-text(Copied)');
    expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(link);
    await screenshot(page, 'admin-invite');

    // Plain registration is closed…
    const dee = await newUser(env.browser, 'dee');
    users.push(dee);
    await dee.page.goto(`${env.hearth.origin}/register`);
    await dee.page.waitForSelector('::-p-text(Registration is closed on this Hearth.)');
    // …but the link opens the form, once.
    await dee.page.goto(link);
    await dee.page.waitForSelector('::-p-text(You have been invited to this Hearth.)');
    await screenshot(dee.page, 'register-invited');
    await fillRegistration(dee.page, 'dee', 'Dee Invited');
    expect(new URL(dee.page.url()).pathname).to.equal('/');
    await dee.page.waitForSelector('::-p-text(Hello, Dee Invited)');

    const eli = await newUser(env.browser, 'eli');
    users.push(eli);
    await eli.page.goto(link);
    await eli.page.waitForSelector('::-p-text(This invitation has been used.)');
    expect(await eli.page.$('input[name="password"]')).to.equal(null);
    await screenshot(eli.page, 'register-invite-used');

    await page.bringToFront();
    await page.goto(`${env.hearth.origin}/admin`);
    await page.locator('::-p-aria([name="Open"][role="radio"])').click();
    await submit(page, 'Save');
  });

  it('a reset link signs in with the new password, ends the person\'s other tabs, and works only once', async () => {
    const cleoTab = await newUser(env.browser, 'cleo-laptop');
    users.push(cleoTab);
    await cleoTab.page.goto(`${env.hearth.origin}/login`);
    await cleoTab.page.locator('::-p-aria([name="Username"][role="textbox"])').fill('cleo');
    const pw = await formControl(cleoTab.page, 'Password');
    await pw.type(PASSWORD);
    await pw.dispose();
    await submit(cleoTab.page, 'Sign in');
    await cleoTab.page.waitForFunction(() => (window as unknown as { __hearth?: { signaling?: { state: string } } }).__hearth?.signaling?.state === 'open', { timeout: 15_000 });

    const page = admin.page;
    await page.bringToFront();
    await page.goto(`${env.hearth.origin}/admin`);
    await submit(page, 'Reset password for Cleo Park (cleo)');
    const field = await formControl(page, 'Reset link for Cleo Park (cleo)');
    const link = await field.evaluate((e) => e.value);
    await field.dispose();
    expect(link).to.match(/\/reset\/[A-Za-z0-9_-]{43}$/);
    await screenshot(page, 'admin-reset-link');

    const phone = await newUser(env.browser, 'cleo-phone');
    users.push(phone);
    await phone.page.setViewport({ width: 390, height: 844 });
    await phone.page.goto(link);
    await phone.page.waitForSelector('::-p-text(Choose a new password)');
    await screenshot(phone.page, 'reset-password-phone');
    const fresh = await formControl(phone.page, 'New password');
    await fresh.type('a whole new password');
    await fresh.dispose();
    await submit(phone.page, 'Set new password');
    expect(new URL(phone.page.url()).pathname).to.equal('/');
    await phone.page.waitForSelector('::-p-text(Hello, Cleo Park)');

    await onSignInPage(cleoTab.page);
    await cleoTab.page.bringToFront();
    await cleoTab.page.locator('::-p-aria([name="Username"][role="textbox"])').fill('cleo');
    const pw2 = await formControl(cleoTab.page, 'Password');
    await pw2.type('a whole new password');
    await pw2.dispose();
    await submit(cleoTab.page, 'Sign in');
    expect(new URL(cleoTab.page.url()).pathname).to.equal('/');

    await cleoTab.page.goto(link);
    await cleoTab.page.waitForSelector('::-p-text(This link has been used or has expired.)');
    await screenshot(cleoTab.page, 'reset-link-used');
  });

  it('is calm and readable on a phone: nothing scrolls sideways; Copy link needs JavaScript, the link field does not', async () => {
    const page = admin.page;
    await page.bringToFront();
    await page.goto(`${env.hearth.origin}/admin`);
    await page.waitForSelector('::-p-text(Action log)');
    expect(await noSideScroll(page), 'wide').to.equal(true);
    await screenshot(page, 'admin-wide');
    await page.setViewport({ width: 390, height: 844 });
    await page.reload();
    await page.waitForSelector('::-p-text(Action log)');
    expect(await noSideScroll(page), 'phone').to.equal(true);
    await screenshot(page, 'admin-phone');

    await page.setViewport({ width: 1280, height: 860 });

    // Without JavaScript: a reset link is still handed over in a selectable field, with no dead button.
    const plain = await admin.ctx.newPage();
    await plain.setJavaScriptEnabled(false);
    await plain.goto(`${env.hearth.origin}/admin`);
    const reset = await plain.$('button[aria-label="Reset password for Ben Okafor (ben)"]');
    await Promise.all([plain.waitForNavigation(), reset!.click()]);
    const field = await plain.$('input[readonly][value*="/reset/"]');
    expect(field, 'the reset link in a read-only field').to.not.equal(null);
    expect(await plain.$eval('label[for="handover-people"]', (l) => l.textContent)).to.equal('Reset link for Ben Okafor (ben)');
    expect(await plain.$eval('button[data-copy]', (b) => b.hasAttribute('hidden'))).to.equal(true);
    await plain.close();
  });
});
