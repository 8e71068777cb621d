// Helpers for call tests and the call benchmark: record RTCPeerConnections, join a room, measure decoding.
import type { Page } from 'puppeteer';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestHearth } from './hearth.js';
import { newUser, registerInBrowser, type TestUser } from './browser.js';
import type { Browser } from 'puppeteer';

declare global {
  // eslint-disable-next-line no-var
  var __pcs: RTCPeerConnection[];
}

// The hooks are source strings: tsx (esbuild) would wrap named functions in a `__name` helper
// that does not exist inside the page.

/** PC_HOOK — records every RTCPeerConnection the page creates in `window.__pcs` (TESTING-WEBRTC.md §5). */
export const PC_HOOK = `(() => {
  const Orig = window.RTCPeerConnection;
  window.__pcs = [];
  const Hooked = function (...a) { const pc = new Orig(...a); window.__pcs.push(pc); return pc; };
  Hooked.prototype = Orig.prototype;
  Object.setPrototypeOf(Hooked, Orig);
  window.RTCPeerConnection = Hooked;
})()`;

/** NO_CAMERA — getUserMedia refuses any request with video, as if camera permission were denied. */
export const NO_CAMERA = `(() => {
  const md = navigator.mediaDevices;
  const orig = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => (c && c.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : orig(c));
})()`;

/** NO_DEVICES — a machine without camera or microphone: nothing to list, nothing to open. */
export const NO_DEVICES = `(() => {
  const md = navigator.mediaDevices;
  md.enumerateDevices = () => Promise.resolve([]);
  md.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
})()`;

/** TOAST_LOG — keeps every toast's text in `window.__toasts` (toasts disappear after a few seconds). */
export const TOAST_LOG = `(() => {
  window.__toasts = [];
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      const t = n.querySelector && n.querySelector('.toast__text');
      if (t) window.__toasts.push(t.textContent);
    }
  }).observe(document, { childList: true, subtree: true });
})()`;

/** waitToast — waits until the page has shown a toast with exactly `text`. */
export async function waitToast(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction((t) => ((window as unknown as { __toasts?: string[] }).__toasts ?? []).includes(t), { timeout }, text);
}

/** caller — a registered user with the PC hook installed. */
export async function caller(browser: Browser, hearth: TestHearth, username: string, displayName: string, hooks: string[] = []): Promise<TestUser> {
  const user = await newUser(browser, username);
  await user.page.evaluateOnNewDocument(PC_HOOK);
  await user.page.evaluateOnNewDocument(TOAST_LOG);
  for (const h of hooks) await user.page.evaluateOnNewDocument(h);
  await registerInBrowser(user, hearth.origin, username, displayName);
  return user;
}

/** createRoom — a room owned by `username`, made directly in the store. */
export async function createRoom(hearth: TestHearth, username: string, name = 'Standup', capacity = 6): Promise<string> {
  const owner = await hearth.app.users.findByUsername(username);
  if (!owner) throw new Error(`no user ${username}`);
  const room = await hearth.app.rooms.create({ name, ownerId: owner.id, capacity, passcodeHash: null });
  return room.slug;
}

/** openRoom — loads /r/<slug> and waits until the camera/microphone attempt has finished. */
export async function openRoom(page: Page, origin: string, slug: string): Promise<void> {
  const settled = () => page.waitForFunction(() => {
    const s = document.querySelector('#prejoin-status')?.textContent ?? '';
    return s !== '' && !s.startsWith('Starting');
  }, { timeout: 15_000 });
  await page.goto(`${origin}/r/${slug}`);
  try {
    await settled();
  } catch (err) {
    const state = await page.evaluate(() => ({ status: document.querySelector('#prejoin-status')?.textContent, island: !!window.__hearth, started: window.__hearth?.media?.started })).catch(() => null);
    // No island at all: its bundle was missing, e.g. while npm run build rewrote public/build. Once more.
    if (state && !state.island) {
      await page.reload();
      await settled();
      return;
    }
    throw new Error(`${(err as Error).message}: the room page did not finish opening camera/microphone: ${JSON.stringify(state)}`);
  }
}

/** joinCall — clicks Join and waits until the call is showing. */
export async function joinCall(page: Page): Promise<void> {
  await page.locator('::-p-aria(Join)').click();
  await page.waitForSelector('#call:not([hidden])', { timeout: 15_000 });
}

/** connectedCount — the page's connected connections (reconnects leave closed ones behind in __pcs). */
export async function connectedCount(page: Page): Promise<number> {
  return page.evaluate(() => __pcs.filter((pc) => pc.connectionState === 'connected').length);
}

export async function waitConnected(page: Page, n: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction((k) => __pcs.filter((pc) => pc.connectionState === 'connected').length >= k, { polling: 100, timeout }, n);
}

/** inbound — per connected connection: frames decoded (all video), audio packets received, widest frame. */
export async function inbound(page: Page): Promise<{ frames: number; audio: number; energy: number; sizes: string[] }[]> {
  return page.evaluate(async () => Promise.all(__pcs.filter((pc) => pc.connectionState === 'connected').map(async (pc) => {
    let frames = 0;
    let audio = 0;
    let energy = 0;
    const sizes: string[] = [];
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        frames += s.framesDecoded ?? 0;
        if (s.frameWidth) sizes.push(`${s.frameWidth}x${s.frameHeight}`);
      } else if (s.kind === 'audio') {
        audio += s.packetsReceived ?? 0;
        energy += s.totalAudioEnergy ?? 0;
      }
    });
    return { frames, audio, energy, sizes };
  })));
}

/**
 * waitDecoding — waits until `n` connections are connected and every one of them decodes
 * video (frames rising between two samples) and receives audio packets.
 */
export async function waitDecoding(page: Page, n: number, opts: { audio?: boolean; timeout?: number } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeout ?? 20_000);
  await waitConnected(page, n, opts.timeout ?? 20_000);
  let last = '';
  while (Date.now() < deadline) {
    const a = await inbound(page);
    await sleep(700);
    const b = await inbound(page);
    const ok = b.length >= n && a.length === b.length && b.every((x, i) => x.frames > a[i]!.frames && (opts.audio === false || x.audio > a[i]!.audio));
    if (ok) return;
    last = JSON.stringify({ a, b });
  }
  throw new Error(`not decoding from ${n} peers: ${last}`);
}

/** tileNames — the names on the call grid's tiles, in order. */
export async function tileNames(page: Page): Promise<string[]> {
  return page.$$eval('#call-grid .tile .tile-name', (els) => els.map((e) => e.textContent ?? ''));
}

/** peerIdOf — the page's own peer id in the room. */
export async function peerIdOf(page: Page): Promise<string> {
  return page.evaluate(() => window.__hearth!.call!.self!.peerId);
}
