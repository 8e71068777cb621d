import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, screenshot, type TestUser } from '../helpers/browser.js';
import { startTestHearth, useHearthAndBrowser, type TestHearth } from '../helpers/hearth.js';
import { tempDir } from '../helpers/processes.js';
import { caller, createRoom, inbound, joinCall, NO_CAMERA, NO_DEVICES, openRoom, PC_HOOK, peerIdOf, tileNames, TOAST_LOG, waitDecoding, waitToast } from '../helpers/call.js';

/** audioEnergyFrom — how much audio energy `page` received from `peerId` over `ms`. */
async function audioEnergyFrom(page: Page, peerId: string, ms = 1_500): Promise<number> {
  const sample = () => page.evaluate(async (id) => {
    const pc = window.__hearth!.mesh!.connection(id);
    let e = 0;
    (await pc!.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') e += s.totalAudioEnergy ?? 0;
    });
    return e;
  }, peerId);
  const a = await sample();
  await sleep(ms);
  return (await sample()) - a;
}

/** tileOf — a snapshot of the tile whose name is `name` (null when there is none). */
async function tileOf(page: Page, name: string): Promise<{ cls: string; muted: boolean; w: number; h: number } | null> {
  return page.evaluate((n) => {
    const tile = [...document.querySelectorAll('#call-grid .tile')].find((t) => t.querySelector('.tile-name')?.textContent === n);
    if (!tile) return null;
    const v = tile.querySelector('video')!;
    return { cls: tile.className, muted: !tile.querySelector('.tile-muted')!.hasAttribute('hidden'), w: v.videoWidth, h: v.videoHeight };
  }, name);
}

const waitTile = (page: Page, name: string, present = true, timeout = 10_000) => page.waitForFunction((n, p) =>
  [...document.querySelectorAll('#call-grid .tile .tile-name')].some((e) => e.textContent === n) === p, { polling: 100, timeout }, name, present);

/** screenFrames — frames decoded on inbound video that is 800x450 (the fake screen; the camera is 4:3 or 16:9 at another size). */
async function screenFrames(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let f = 0;
    for (const pc of __pcs.filter((p) => p.connectionState === 'connected')) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.frameWidth === 800 && s.frameHeight === 450) f += s.framesDecoded ?? 0;
      });
    }
    return f;
  });
}

describe('the call in a real browser', function () {
  this.timeout(90_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let grace: TestUser;
  let linus: TestUser;
  let slug: string;
  const names = { ada: 'Ada Lovelace', grace: 'Grace Hopper', linus: 'Linus Pauling' };

  before(async () => {
    hearth = await startTestHearth();
    browser = await launchBrowser();
    ada = await caller(browser, hearth, 'ada', names.ada);
    grace = await caller(browser, hearth, 'grace', names.grace);
    linus = await caller(browser, hearth, 'linus', names.linus);
    slug = await createRoom(hearth, 'ada', 'Standup', 6);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });
  afterEach(function () {
    // Page errors anywhere fail the test that caused them.
    const errors = [ada, grace, linus].flatMap((u) => u?.errors.splice(0) ?? []);
    if (this.currentTest?.state === 'passed') expect(errors).to.deep.equal([]);
  });

  it('three people each decode the two others and hear them; everyone sees three named tiles', async () => {
    for (const u of [ada, grace, linus]) {
      await openRoom(u.page, hearth.origin, slug);
      // Pre-join: the selects are labelled and filled, the meter moves with the fake microphone's beeps.
      expect(await u.page.$eval('#prejoin-status', (e) => e.textContent)).to.equal('Your camera and microphone are ready.');
      await u.page.waitForFunction(() => (document.querySelector('#camera-select') as HTMLSelectElement).options[0]?.text === 'fake_device_0');
      await u.page.waitForFunction(() => (document.querySelector('#mic-level') as HTMLMeterElement).value > 0, { timeout: 5_000 });
      await joinCall(u.page);
    }
    await waitToast(ada.page, `${names.linus} joined`);
    for (const u of [ada, grace, linus]) await waitDecoding(u.page, 2);
    for (const [u, self] of [[ada, names.ada], [grace, names.grace], [linus, names.linus]] as const) {
      const tiles = await tileNames(u.page);
      expect(tiles).to.have.length(3);
      expect(tiles[0]).to.equal(`${self} (you)`);
      expect([...tiles].sort()).to.deep.equal([names.ada, names.grace, names.linus].map((n) => (n === self ? `${n} (you)` : n)).sort());
      // Your own video is muted (never plays your voice back) and the others' are not.
      const muted = await u.page.$$eval('#call-grid .tile video', (vs) => vs.map((v) => (v as HTMLVideoElement).muted && v.hasAttribute('muted')));
      expect(muted).to.deep.equal([true, false, false]);
      // Members: each person once.
      expect(await u.page.$$eval('#room-members > li', (lis) => lis.length)).to.equal(3);
    }
    await screenshot(ada.page, 'call-three-desktop');
    // Phone width (isMobile/hasTouch would make puppeteer reload the page and drop the call).
    await grace.page.setViewport({ width: 390, height: 844 });
    await sleep(500);
    await screenshot(grace.page, 'call-three-phone');
    expect(await grace.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).to.equal(false);
    await grace.page.setViewport({ width: 1280, height: 860 });
  });

  it('a second tab of the same person is a second tile but one member, and nobody is told twice', async () => {
    const tab = await ada.ctx.newPage();
    await tab.evaluateOnNewDocument(PC_HOOK);
    await tab.evaluateOnNewDocument(TOAST_LOG);
    await openRoom(tab, hearth.origin, slug);
    await joinCall(tab);
    await waitDecoding(tab, 3);
    for (const u of [grace, linus]) {
      await u.page.waitForFunction(() => document.querySelectorAll('#call-grid .tile').length === 4);
      expect(await u.page.$$eval('#room-members > li', (lis) => lis.map((li) => li.querySelector('.person__name')!.textContent))).to.have.length(3);
      expect((await tileNames(u.page)).filter((n) => n === names.ada)).to.have.length(2);
      expect(await u.page.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts.filter((t) => t.startsWith('Ada')).length)).to.equal(0);
    }
    await tab.close();
    for (const u of [grace, linus]) await u.page.waitForFunction(() => document.querySelectorAll('#call-grid .tile').length === 3);
    await sleep(1_700); // past the delay of a "left" toast: one tab closing is not Ada leaving
    expect(await grace.page.evaluate(() => (window as unknown as { __toasts: string[] }).__toasts.filter((t) => t.startsWith('Ada')).length)).to.equal(0);
  });

  it('mute shows the muted microphone to everyone and the audio goes silent; camera off shows the placeholder', async () => {
    const adaId = await peerIdOf(ada.page);
    const loud = await audioEnergyFrom(grace.page, adaId);
    expect(loud).to.be.greaterThan(0);
    await ada.page.locator('::-p-aria(Mute microphone)').click();
    await ada.page.waitForSelector('::-p-aria(Unmute microphone)');
    for (const u of [grace, linus]) await u.page.waitForFunction((n) => [...document.querySelectorAll('#call-grid .tile')].some((t) => t.querySelector('.tile-name')?.textContent === n && !t.querySelector('.tile-muted')!.hasAttribute('hidden')), {}, names.ada);
    expect((await tileOf(ada.page, `${names.ada} (you)`))!.muted).to.equal(true);
    expect(await ada.page.evaluate(() => window.__hearth!.media!.audio!.enabled)).to.equal(false);
    // Silence, not just quieter: under 1 % of the energy before (the fake microphone beeps
    // constantly). Audio already in the jitter buffer may still play for a moment.
    let quiet = Infinity;
    for (let i = 0; i < 6 && !(quiet < loud / 100); i++) quiet = await audioEnergyFrom(grace.page, adaId, 1_000);
    expect(quiet).to.be.lessThan(loud / 100);

    // Keyboard: M unmutes again.
    await ada.page.keyboard.press('m');
    await ada.page.waitForSelector('::-p-aria(Mute microphone)');
    await grace.page.waitForFunction((n) => [...document.querySelectorAll('#call-grid .tile')].some((t) => t.querySelector('.tile-name')?.textContent === n && t.querySelector('.tile-muted')!.hasAttribute('hidden')), {}, names.ada);

    await ada.page.locator('::-p-aria(Turn off camera)').click();
    await ada.page.waitForSelector('::-p-aria(Turn on camera)');
    for (const u of [grace, linus]) await u.page.waitForFunction((n) => [...document.querySelectorAll('#call-grid .tile--camera-off .tile-name')].some((e) => e.textContent === n), {}, names.ada);
    expect(await ada.page.evaluate(() => window.__hearth!.media!.video)).to.equal(null); // the camera is released
    await screenshot(grace.page, 'call-camera-off');
    await ada.page.locator('::-p-aria(Turn on camera)').click();
    await ada.page.waitForSelector('::-p-aria(Turn off camera)');
    await grace.page.waitForFunction((n) => [...document.querySelectorAll('#call-grid .tile')].some((t) => t.querySelector('.tile-name')?.textContent === n && !t.classList.contains('tile--camera-off')), {}, names.ada);
    await waitDecoding(grace.page, 2);
  });

  it('a shared screen arrives as its own tile decoding 800x450, and goes away when sharing stops (button or browser UI)', async () => {
    await ada.page.locator('::-p-aria(Share screen)').click();
    await ada.page.waitForSelector('::-p-aria(Stop sharing)');
    await Promise.all([grace, linus].map(async (u) => {
      await waitTile(u.page, `${names.ada} (screen)`);
      await u.page.waitForFunction((n) => {
        const t = [...document.querySelectorAll('#call-grid .tile--screen')].find((x) => x.querySelector('.tile-name')?.textContent === n);
        return (t?.querySelector('video') as HTMLVideoElement | null)?.videoWidth === 800;
      }, { timeout: 15_000 }, `${names.ada} (screen)`);
      // Decoding, not a frozen first frame: the 800x450 frame count keeps rising.
      const a = await screenFrames(u.page);
      let b = a;
      for (let i = 0; i < 10 && b <= a; i++) {
        await sleep(500);
        b = await screenFrames(u.page);
      }
      expect(b).to.be.greaterThan(a);
      const tile = (await tileOf(u.page, `${names.ada} (screen)`))!;
      expect([tile.w, tile.h]).to.deep.equal([800, 450]);
      expect(await tileNames(u.page)).to.have.length(4);
    }));
    expect(await tileNames(ada.page)).to.include('Your screen');
    await screenshot(linus.page, 'call-screen-share');

    await ada.page.locator('::-p-aria(Stop sharing)').click();
    for (const u of [grace, linus]) await waitTile(u.page, `${names.ada} (screen)`, false);
    expect(await tileNames(ada.page)).to.not.include('Your screen');

    // Stopped from the browser's own "Stop sharing" bar: the track ends.
    await ada.page.keyboard.press('s');
    await waitTile(grace.page, `${names.ada} (screen)`);
    await ada.page.evaluate(() => {
      const v = [...document.querySelectorAll<HTMLVideoElement>('#call-grid .tile--screen video')][0]!;
      const track = (v.srcObject as MediaStream).getVideoTracks()[0]!;
      track.stop();
      track.dispatchEvent(new Event('ended')); // what Chromium fires when its own UI stops the capture
    });
    await ada.page.waitForSelector('::-p-aria(Share screen)');
    for (const u of [grace, linus]) await waitTile(u.page, `${names.ada} (screen)`, false);
    await waitDecoding(linus.page, 2);
  });

  it('two people sharing at the same moment (an offer collision) each get the other\'s screen', async () => {
    // Both renegotiate at once: perfect negotiation must settle the glare without losing either offer.
    await Promise.all([ada.page.evaluate(() => (document.querySelector('[aria-label="Share screen"]') as HTMLButtonElement).click()),
      grace.page.evaluate(() => (document.querySelector('[aria-label="Share screen"]') as HTMLButtonElement).click())]);
    await Promise.all([
      waitTile(ada.page, `${names.grace} (screen)`), waitTile(grace.page, `${names.ada} (screen)`),
      waitTile(linus.page, `${names.ada} (screen)`), waitTile(linus.page, `${names.grace} (screen)`),
    ]);
    await linus.page.waitForFunction(() => [...document.querySelectorAll<HTMLVideoElement>('#call-grid .tile--screen video')].filter((v) => v.videoWidth === 800).length === 2, { timeout: 15_000 });
    await screenshot(linus.page, 'call-two-screens');
    for (const u of [ada, grace]) await u.page.locator('::-p-aria(Stop sharing)').click();
    await linus.page.waitForFunction(() => document.querySelectorAll('#call-grid .tile--screen').length === 0, { timeout: 10_000 });
    await waitDecoding(linus.page, 2);
  });

  it('an ICE restart renegotiates and the media keeps flowing', async () => {
    const graceId = await peerIdOf(grace.page);
    const ufrag = (page: Page, id: string) => page.evaluate((p) => /a=ice-ufrag:(\S+)/.exec(window.__hearth!.mesh!.connection(p)!.localDescription!.sdp)?.[1], id);
    const before = await ufrag(ada.page, graceId);
    await ada.page.evaluate((p) => window.__hearth!.mesh!.connection(p)!.restartIce(), graceId);
    await ada.page.waitForFunction((p, old) => {
      const pc = window.__hearth!.mesh!.connection(p)!;
      return pc.signalingState === 'stable' && /a=ice-ufrag:(\S+)/.exec(pc.localDescription!.sdp)?.[1] !== old;
    }, { timeout: 10_000 }, graceId, before);
    await waitDecoding(ada.page, 2);
    await waitDecoding(grace.page, 2);
  });

  it('a local video file plays to the room as its own tile and is gone when it ends or is stopped', async () => {
    // A 6-second WebM made in the page (MediaRecorder on a canvas): no binary fixture in the repo.
    const b64 = await ada.page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 320;
      c.height = 180;
      const g = c.getContext('2d')!;
      const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm' });
      const chunks: Blob[] = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      const t0 = performance.now();
      const timer = setInterval(() => {
        g.fillStyle = '#203040';
        g.fillRect(0, 0, 320, 180);
        g.fillStyle = '#f59e0b';
        g.fillRect(((performance.now() - t0) / 10) % 300, 70, 40, 40);
      }, 40);
      rec.start(500);
      await new Promise((r) => setTimeout(r, 6_000));
      rec.stop();
      await new Promise((r) => (rec.onstop = r));
      clearInterval(timer);
      const buf = new Uint8Array(await new Blob(chunks, { type: 'video/webm' }).arrayBuffer());
      let s = '';
      for (const x of buf) s += String.fromCharCode(x);
      return btoa(s);
    });
    const file = path.join(tempDir('film'), 'clip.webm');
    writeFileSync(file, Buffer.from(b64, 'base64'));

    const [chooser] = await Promise.all([ada.page.waitForFileChooser(), ada.page.locator('::-p-aria(Play a video file)').click()]);
    await chooser.accept([file]);
    await ada.page.waitForSelector('::-p-aria(Stop the video file)');
    await Promise.all([grace, linus].map(async (u) => {
      await waitTile(u.page, `${names.ada} (video file)`);
      await u.page.waitForFunction((n) => {
        const t = [...document.querySelectorAll('#call-grid .tile--screen')].find((x) => x.querySelector('.tile-name')?.textContent === n);
        return (t?.querySelector('video') as HTMLVideoElement | null)?.videoWidth === 320;
      }, { timeout: 5_000 }, `${names.ada} (video file)`);
    }));
    expect(await tileNames(ada.page)).to.include('Your video file');
    await screenshot(grace.page, 'call-video-file');
    // It ends by itself after 6 s: the tile goes away everywhere.
    for (const u of [ada, grace, linus]) await waitTile(u.page, u === ada ? 'Your video file' : `${names.ada} (video file)`, false, 15_000);
    await ada.page.waitForSelector('::-p-aria(Play a video file)');

    // Started again and stopped with the button.
    const [again] = await Promise.all([ada.page.waitForFileChooser(), ada.page.locator('::-p-aria(Play a video file)').click()]);
    await again.accept([file]);
    await waitTile(grace.page, `${names.ada} (video file)`);
    await ada.page.locator('::-p-aria(Stop the video file)').click();
    await waitTile(grace.page, `${names.ada} (video file)`, false, 5_000);
  });

  it('Leave removes the tile for the others at once; a closed tab does too', async () => {
    await linus.page.locator('::-p-aria(Leave)').click();
    for (const u of [ada, grace]) await waitTile(u.page, names.linus, false, 3_000);
    await waitToast(ada.page, `${names.linus} left`);
    expect(await linus.page.$eval('#prejoin-status', (e) => e.textContent)).to.match(/You left the call/);
    expect(await linus.page.evaluate(() => window.__hearth!.media!.audio === null && window.__hearth!.media!.video === null)).to.equal(true);
    expect(await linus.page.evaluate(() => __pcs.every((pc) => pc.connectionState === 'closed'))).to.equal(true);

    // Join again, then close the tab.
    await joinCall(linus.page);
    await waitDecoding(linus.page, 2);
    await waitTile(ada.page, names.linus);
    await linus.page.close();
    for (const u of [ada, grace]) await waitTile(u.page, names.linus, false, 5_000);
    expect(await tileNames(ada.page)).to.deep.equal([`${names.ada} (you)`, names.grace]);
    await waitDecoding(ada.page, 1);
  });

  it('a dropped signaling socket reconnects as the same peer: the call keeps its connections and media, without a reload', async () => {
    const graceId = await peerIdOf(grace.page);
    const adaId = await peerIdOf(ada.page);
    // Mark the live peer connections on both sides, to tell afterwards whether they were rebuilt.
    const mark = (page: Page, other: string) => page.evaluate((o) => {
      const pc = window.__hearth!.mesh!.connection(o) as (RTCPeerConnection & { mark?: boolean }) | undefined;
      if (pc) pc.mark = true;
      return !!pc;
    }, other);
    const marked = (page: Page, other: string) => page.evaluate((o) => !!(window.__hearth!.mesh!.connection(o) as (RTCPeerConnection & { mark?: boolean }) | undefined)?.mark, other);
    expect(await mark(grace.page, adaId)).to.equal(true);
    expect(await mark(ada.page, graceId)).to.equal(true);
    await grace.page.evaluate(() => {
      const w = window as unknown as { rejoined: boolean };
      w.rejoined = false;
      window.__hearth!.signaling!.on('joined', () => (w.rejoined = true));
      window.__hearth!.signaling!.drop();
    });
    await grace.page.waitForFunction(() => (window as unknown as { rejoined: boolean }).rejoined, { timeout: 10_000 });
    expect(await peerIdOf(grace.page)).to.equal(graceId);
    // Ada saw Grace's connection break and come back, and kept her tile and connection meanwhile.
    await ada.page.waitForFunction((id) => !document.querySelector(`[data-key="peer:${id}"] .tile-status:not([hidden])`), { timeout: 10_000 }, graceId);
    expect(await marked(grace.page, adaId), 'Grace kept her connection to Ada').to.equal(true);
    expect(await marked(ada.page, graceId), 'Ada kept her connection to Grace').to.equal(true);
    await waitDecoding(grace.page, 1);
    await waitDecoding(ada.page, 1);
    // The same person is one tile, not two.
    expect(await tileNames(ada.page)).to.deep.equal([`${names.ada} (you)`, names.grace]);
    expect(await tileNames(grace.page)).to.deep.equal([`${names.grace} (you)`, names.ada]);
    expect(await grace.page.evaluate(() => performance.getEntriesByType('navigation').length)).to.equal(1);
  });

  it('a reconnect that cannot resume (new peer id) rebuilds the connections and the call recovers', async () => {
    const before = await peerIdOf(grace.page);
    await grace.page.evaluate(() => {
      (window.__hearth!.signaling as unknown as { resume: string | null }).resume = null;
      window.__hearth!.signaling!.drop();
    });
    await grace.page.waitForFunction((old) => {
      const id = window.__hearth!.call!.self?.peerId;
      return !!id && id !== old;
    }, { timeout: 10_000 }, before);
    await waitDecoding(grace.page, 1);
    await waitDecoding(ada.page, 1);
    expect(await tileNames(ada.page)).to.deep.equal([`${names.ada} (you)`, names.grace]);
    expect(await tileNames(grace.page)).to.deep.equal([`${names.grace} (you)`, names.ada]);
  });

  it('without a camera (permission denied) one joins with audio only; the others see the placeholder and hear them', async () => {
    const margaret = await caller(browser, hearth, 'margaret', 'Margaret Hamilton', [NO_CAMERA]);
    try {
      await openRoom(margaret.page, hearth.origin, slug);
      const status = await margaret.page.$eval('#prejoin-status', (e) => e.textContent ?? '');
      expect(status).to.match(/camera.*blocked.*microphone only/i);
      await joinCall(margaret.page);
      await waitDecoding(margaret.page, 2);
      for (const u of [ada, grace]) {
        await u.page.waitForFunction(() => [...document.querySelectorAll('#call-grid .tile--camera-off .tile-name')].some((e) => e.textContent === 'Margaret Hamilton'));
      }
      const mId = await peerIdOf(margaret.page);
      expect(await audioEnergyFrom(ada.page, mId, 2_000)).to.be.greaterThan(0);
      const stats = await inbound(ada.page);
      expect(stats).to.have.length(2);
      await screenshot(ada.page, 'call-audio-only-peer');
      expect(margaret.errors).to.deep.equal([]);
    } finally {
      await margaret.ctx.close();
    }
    for (const u of [ada, grace]) await waitTile(u.page, 'Margaret Hamilton', false, 5_000);
  });

  it('with no camera or microphone at all one joins to listen and watch', async () => {
    const lurker = await caller(browser, hearth, 'lurker', 'Quiet Listener', [NO_DEVICES]);
    try {
      await openRoom(lurker.page, hearth.origin, slug);
      expect(await lurker.page.$eval('#prejoin-status', (e) => e.textContent)).to.equal('No camera or microphone was found. You can still join to listen and watch.');
      await joinCall(lurker.page);
      await waitDecoding(lurker.page, 2); // video and audio from both others
      expect(await lurker.page.evaluate(() => window.__hearth!.mesh!.peerIds().every((id) =>
        window.__hearth!.mesh!.connection(id)!.getTransceivers().every((t) => t.currentDirection === 'recvonly')))).to.equal(true);
      for (const u of [ada, grace]) {
        await u.page.waitForFunction(() => [...document.querySelectorAll('#call-grid .tile--camera-off')].some((t) =>
          t.querySelector('.tile-name')?.textContent === 'Quiet Listener' && !t.querySelector('.tile-muted')!.hasAttribute('hidden')));
      }
      expect(lurker.errors).to.deep.equal([]);
    } finally {
      await lurker.ctx.close();
    }
    for (const u of [ada, grace]) await waitTile(u.page, 'Quiet Listener', false, 5_000);
  });
});

describe('a full room, and a room that goes away', function () {
  this.timeout(90_000);
  let hearth: TestHearth;
  let browser: Browser;
  let ada: TestUser;
  let grace: TestUser;
  let linus: TestUser;
  let slug: string;

  before(async () => {
    hearth = await startTestHearth();
    browser = await launchBrowser();
    ada = await caller(browser, hearth, 'ada', 'Ada Lovelace');
    grace = await caller(browser, hearth, 'grace', 'Grace Hopper');
    linus = await caller(browser, hearth, 'linus', 'Linus Pauling');
    slug = await createRoom(hearth, 'ada', 'Pair', 2);
  });
  after(async () => {
    await browser?.close();
    await hearth?.close();
  });

  it('waits for a seat: from the full page, and after losing the race for the last seat', async () => {
    for (const u of [ada, grace]) {
      await openRoom(u.page, hearth.origin, slug);
      await joinCall(u.page);
    }
    await linus.page.goto(`${hearth.origin}/r/${slug}`);
    expect(await linus.page.$eval('.room-page', (e) => (e as HTMLElement).dataset.state)).to.equal('full');
    await linus.page.waitForSelector('::-p-text(This room is full (2 of 2))');
    await linus.page.locator('::-p-aria(Wait for a seat)').click();
    await linus.page.waitForSelector('::-p-text(Waiting for a seat…)');
    await screenshot(linus.page, 'room-full-waiting');
    await Promise.all([linus.page.waitForNavigation(), grace.page.locator('::-p-aria(Leave)').click()]);
    expect(await linus.page.$eval('.room-page', (e) => (e as HTMLElement).dataset.state)).to.equal('ready');
    await openRoom(linus.page, hearth.origin, slug);
    await joinCall(linus.page);
    await waitDecoding(linus.page, 1);

    // Grace's page still says "ready", but the seat is gone: Join is refused and she can wait.
    await grace.page.locator('::-p-aria(Join)').click();
    await grace.page.waitForSelector('::-p-text(This room is full (2 of 2))');
    await grace.page.locator('::-p-aria(Wait for a seat)').click();
    await screenshot(grace.page, 'room-full-after-join');
    await ada.page.locator('::-p-aria(Leave)').click();
    await grace.page.waitForSelector('#call:not([hidden])', { timeout: 10_000 });
    await waitDecoding(grace.page, 1);
    expect(await tileNames(linus.page)).to.deep.equal(['Linus Pauling (you)', 'Grace Hopper']);
  });

  it('when the owner deletes the room, the call ends for everyone and the page says so', async () => {
    const owner = await hearth.app.users.findByUsername('ada');
    expect(await hearth.app.rooms.remove(slug, owner!.id)).to.equal('ok');
    await hearth.app.hub.roomClosed(slug); // what POST /r/<slug>/delete does
    for (const u of [grace, linus]) {
      await u.page.waitForSelector('::-p-text(This call has ended)');
      await u.page.waitForSelector('::-p-text(The owner deleted this room)');
      expect(await u.page.$eval('#call', (e) => (e as HTMLElement).hidden)).to.equal(true);
      expect(await u.page.evaluate(() => __pcs.every((pc) => pc.connectionState === 'closed'))).to.equal(true);
      expect(await u.page.evaluate(() => window.__hearth!.media!.video === null && window.__hearth!.media!.audio === null)).to.equal(true);
      expect(await u.page.$eval('#chat-input', (e) => (e as HTMLTextAreaElement).disabled)).to.equal(true);
    }
    await screenshot(grace.page, 'room-deleted');
    expect([ada, grace, linus].flatMap((u) => u.errors)).to.deep.equal([]);
  });
});

describe('a server restart during a call', function () {
  this.timeout(90_000);
  const env = useHearthAndBrowser();

  it('keeps the media flowing browser to browser; both tabs come back as the same peers and keep their connections', async () => {
    const ada = await caller(env.browser, env.hearth, 'ada', 'Ada Lovelace');
    const grace = await caller(env.browser, env.hearth, 'grace', 'Grace Hopper');
    const slug = await createRoom(env.hearth, 'ada', 'Restart');
    for (const u of [ada, grace]) {
      await openRoom(u.page, env.hearth.origin, slug);
      await joinCall(u.page);
    }
    for (const u of [ada, grace]) await waitDecoding(u.page, 1);
    const ids = { ada: await peerIdOf(ada.page), grace: await peerIdOf(grace.page) };
    const watch = (page: Page, other: string) => page.evaluate((o) => {
      const w = window as unknown as { rejoins: number; closes: number };
      (window.__hearth!.mesh!.connection(o) as RTCPeerConnection & { mark?: boolean }).mark = true;
      w.rejoins = 0;
      w.closes = 0;
      window.__hearth!.signaling!.on('joined', () => w.rejoins++);
      window.__hearth!.signaling!.onState((s) => { if (s === 'reconnecting') w.closes++; });
    }, other);
    await watch(ada.page, ids.grace);
    await watch(grace.page, ids.ada);

    const port = new URL(env.hearth.origin).port;
    await env.hearth.close();
    for (const u of [ada, grace]) await u.page.waitForFunction(() => (window as unknown as { closes: number }).closes > 0, { polling: 100, timeout: 10_000 });
    // While the server is away, the call goes on: frames keep arriving over the peer connection.
    const during = await inbound(ada.page);
    await sleep(1_000);
    expect((await inbound(ada.page))[0]!.frames, 'frames decoded while the server is down').to.be.above(during[0]!.frames);

    env.hearth = await startTestHearth({ PORT: port }, { flush: false });
    for (const u of [ada, grace]) await u.page.waitForFunction(() => (window as unknown as { rejoins: number }).rejoins > 0, { polling: 100, timeout: 20_000 });
    expect(await peerIdOf(ada.page)).to.equal(ids.ada);
    expect(await peerIdOf(grace.page)).to.equal(ids.grace);
    for (const [u, other] of [[ada, ids.grace], [grace, ids.ada]] as const) {
      expect(await u.page.evaluate((o) => !!(window.__hearth!.mesh!.connection(o) as (RTCPeerConnection & { mark?: boolean }) | undefined)?.mark, other), `${u.name} kept the connection`).to.equal(true);
      await u.page.waitForFunction(() => !document.querySelector('#call-grid .tile-status:not([hidden])'), { polling: 100, timeout: 10_000 });
      expect(await tileNames(u.page)).to.have.length(2);
      await waitDecoding(u.page, 1);
    }
    // The server knows them as members again: the lobby shows the room with both.
    expect((await env.hearth.app.rooms.members(slug)).map((m) => m.peerId).sort()).to.deep.equal([ids.ada, ids.grace].sort());
    // The browser logs each refused reconnect attempt while the server was away; nothing else.
    expect([...ada.errors, ...grace.errors].filter((e) => !/ERR_CONNECTION_REFUSED/.test(e))).to.deep.equal([]);
  });
});
