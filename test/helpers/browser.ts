// Launches Debian's Chromium through puppeteer for end-to-end tests: one context per simulated user.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer';
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

/** TestUser — one person: an isolated browser context (own cookies) and a page. */
export interface TestUser {
  ctx: BrowserContext;
  page: Page;
  name: string;
  errors: string[];
}

/** newUser — a fresh context and page; page errors are collected so tests can assert none happened. */
export async function newUser(browser: Browser, name: string): Promise<TestUser> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`[${name}] ${(e as Error).message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|ERR_CERT|Failed to load resource/.test(m.text())) errors.push(`[${name}] console: ${m.text()}`);
  });
  await page.setViewport({ width: 1280, height: 860 });
  return { ctx, page, name, errors };
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

/** registerInBrowser — fills the real registration form and waits for the lobby. */
export async function registerInBrowser(user: TestUser, origin: string, username: string, displayName: string, password = 'correct horse battery'): Promise<void> {
  const { page } = user;
  await page.goto(`${origin}/register`);
  await page.locator('::-p-aria(Username)').fill(username);
  await page.locator('::-p-aria(Display name)').fill(displayName);
  await page.locator('::-p-aria(Password)').fill(password);
  await Promise.all([page.waitForNavigation(), page.locator('::-p-aria(Create account)').click()]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`registration of ${username} did not reach the lobby: ${page.url()}`);
}
