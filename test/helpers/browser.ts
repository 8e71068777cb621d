// Launches Debian's Chromium (and Firefox ESR, over WebDriver BiDi) through puppeteer for end-to-end
// tests: one context per simulated user.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import puppeteer, { type Browser, type BrowserContext, type ElementHandle, type JSHandle, type Page } from 'puppeteer';
import { ROOT_DIR } from '../../src/server/paths.js';

export const CHROMIUM = process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ROOT_DIR, 'test-artifacts', 'screenshots');

/** launchBrowser — headless Chromium with fake camera/mic; fails loudly when Chromium is missing. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run npm test (it installs Debian's chromium) or apt-get install chromium`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    acceptInsecureCerts: true,
    protocolTimeout: 120_000,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
}

export const FIREFOX = process.env.HEARTH_FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * FIREFOX_PREFS — what Debian's Firefox ESR needs to join a call headless on one machine
 * (the counterparts of launchBrowser's Chromium flags).
 */
export const FIREFOX_PREFS: Record<string, unknown> = {
  // A synthetic camera (a changing colour pattern) and microphone (a tone), granted without a prompt.
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  // ICE candidates on loopback too (a runner may have nothing else), and raw addresses instead of
  // <uuid>.local names, as Chromium runs with WebRtcHideLocalIpsWithMdns off.
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Remote tiles play with sound, as the page asks, without a click first.
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // No picture-in-picture button over the call's videos (it would cover the tiles in screenshots).
  'media.videocontrols.picture-in-picture.video-toggle.enabled': false,
  // Nothing from the network: no update checks, telemetry or first-run pages.
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/**
 * launchFirefox — headless Debian Firefox ESR through puppeteer's WebDriver BiDi, with a fake camera
 * and microphone; fails loudly when Firefox is missing (npm test installs it).
 */
export async function launchFirefox(): Promise<Browser> {
  if (!existsSync(FIREFOX)) throw new Error(`Firefox not found at ${FIREFOX}: run npm test (it installs Debian's firefox-esr) or apt-get install firefox-esr`);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: true,
    protocolTimeout: 120_000,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

/** TestUser — one person: an isolated browser context (own cookies) and a page. */
export interface TestUser {
  ctx: BrowserContext;
  page: Page;
  name: string;
  errors: string[];
}

/** UserOptions — where Save downloads land, scripts every page runs first, the window height. */
interface UserOptions {
  downloadPath?: string;
  scripts?: string[];
  height?: number;
}

/** newUser — a fresh context and page; page errors are collected so tests can assert none happened. */
export async function newUser(browser: Browser, name: string, opts: UserOptions = {}): Promise<TestUser> {
  const ctx = await browser.createBrowserContext(opts.downloadPath ? { downloadBehavior: { policy: 'allow', downloadPath: opts.downloadPath } } : {});
  const page = await ctx.newPage();
  const user = { ctx, page, name, errors: [] as string[] };
  watchErrors(user);
  await page.setViewport({ width: 1280, height: opts.height ?? 860 });
  for (const script of opts.scripts ?? []) await page.evaluateOnNewDocument(script);
  return user;
}

/** watchErrors — page errors and console errors of the user's current page go to `errors` (call again for a new page). */
export function watchErrors(user: TestUser): void {
  user.page.on('pageerror', (e) => user.errors.push(`[${user.name}] ${(e as Error).message}`));
  user.page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|ERR_CERT|Failed to load resource/.test(m.text())) user.errors.push(`[${user.name}] console: ${m.text()}`);
  });
}

/** screenshot — saves a full-page PNG under test-artifacts/screenshots/ to look at. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  // A background tab paints no frames, and a screenshot of it would wait forever.
  await page.bringToFront();
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

/**
 * formControl — the input, textarea or select labelled `name`. By accessible name first; where a
 * role cannot narrow that query (Firefox's accessibility tree also gives the <label> the name, and
 * a password field has no role there) the label found leads to its control. A file input has no
 * accessible name in either browser's tree, so for it the <label> with that text leads the way.
 */
export async function formControl(page: Page, name: string, timeout = 10_000): Promise<ElementHandle<HTMLInputElement>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const el of await page.$$(`::-p-aria(${name})`)) {
      const control: JSHandle<Element | null> = await el.evaluateHandle((e): Element | null => (e.matches('input, textarea, select') ? e : e.tagName === 'LABEL' ? (e as HTMLLabelElement).control : null));
      await el.dispose();
      if (await control.evaluate((e) => e !== null)) return control as unknown as ElementHandle<HTMLInputElement>;
      await control.dispose();
    }
    const labelled: JSHandle<Element | null> = await page.evaluateHandle((n): Element | null => [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === n)?.control ?? null, name);
    if (await labelled.evaluate((e) => e !== null)) return labelled as unknown as ElementHandle<HTMLInputElement>;
    await labelled.dispose();
    if (Date.now() > deadline) throw new Error(`no form field labelled "${name}" on ${page.url()}`);
    await sleep(100);
  }
}

/** registerInBrowser — fills the real registration form and waits for the lobby. */
export async function registerInBrowser(user: TestUser, origin: string, username: string, displayName: string, password = 'correct horse battery'): Promise<void> {
  const { page } = user;
  await page.goto(`${origin}/register`);
  // Name and role: a bare name also finds the <label> in Firefox's accessibility tree.
  await page.locator('::-p-aria([name="Username"][role="textbox"])').fill(username);
  await page.locator('::-p-aria([name="Display name"][role="textbox"])').fill(displayName);
  // A password field has no ARIA role in Firefox (HTML-AAM gives it none), so not [role="textbox"].
  const passwordField = await formControl(page, 'Password');
  await passwordField.type(password);
  await passwordField.dispose();
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria([name="Create account"][role="button"])').click()]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`registration of ${username} did not reach the lobby: ${page.url()}`);
}
