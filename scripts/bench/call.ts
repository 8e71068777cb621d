// Call benchmark: Join → first decoded remote frame and → full mesh for 2, 4 and 6 people in one
// Chromium, next to two bare RTCPeerConnections wired directly in one page (the raw baseline);
// CPU per peer and received frame rates. Run: node --import tsx scripts/bench/call.ts [2 4 6]
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser } from '../../test/helpers/browser.js';
import { caller, createRoom, openRoom } from '../../test/helpers/call.js';
import { startTestHearth } from '../../test/helpers/hearth.js';
import { startRedis } from '../../test/helpers/processes.js';

/** Settling time after the mesh is complete (bandwidth estimates ramp up, encoders adapt) before fps and CPU are measured. */
const SETTLE_MS = 6_000;

/** Records, in page time (epoch ms), the Join click and each remote tile's first video frame. */
const FRAME_PROBE = `(() => {
  window.__bench = { join: 0, frames: {} };
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener('click', (e) => { if (e.target.closest && e.target.closest('#join-button')) window.__bench.join = now(); }, true);
  new MutationObserver(() => {
    for (const v of document.querySelectorAll('#call-grid .tile:not(.tile--self) video')) {
      if (v.__probed) continue;
      v.__probed = true;
      const key = v.closest('.tile').dataset.key;
      v.addEventListener('resize', () => { if (!window.__bench.frames[key] && v.videoWidth > 0) window.__bench.frames[key] = now(); });
    }
  }).observe(document, { childList: true, subtree: true });
})()`;

interface Sample {
  firstFrameMs: number[];
  fullMeshMs: number[];
  cpuPerPeer: number;
  cpuTotal: number;
  /** CPU used by other processes on the machine during the same window. */
  others: number;
  fps: number[];
  sizes: string[];
}

// ---- CPU of the whole Chromium process tree, from /proc ------------------------------------

function cpuTicks(rootPid: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      ticks.set(Number(d), Number(f[11]) + Number(f[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p; p = parent.get(p)) {
      if (p === rootPid) {
        sum += t;
        break;
      }
    }
  }
  return sum;
}

/** machineTicks — busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/**
 * cpuOver — CPU used by the browser over `ms` (1.0 = one full core), and by everything else on
 * the machine meanwhile (other jobs on a shared runner make the figures unreliable: it is printed).
 */
async function cpuOver(browser: Browser, ms: number): Promise<{ ours: number; others: number }> {
  const pid = browser.process()!.pid!;
  const a = cpuTicks(pid);
  const m = machineTicks();
  const t = Date.now();
  await sleep(ms);
  const secs = (Date.now() - t) / 1000;
  const ours = (cpuTicks(pid) - a) / 100 / secs;
  const m2 = machineTicks();
  const cores = os.cpus().length;
  const busy = ((m2.busy - m.busy) / (m2.total - m.total)) * cores;
  return { ours, others: Math.max(0, busy - ours) };
}

// ---- frame rates -------------------------------------------------------------------------------

async function decodedFrames(page: Page): Promise<{ frames: number; size: string }[]> {
  return page.evaluate(async () => {
    const out: { frames: number; size: string }[] = [];
    for (const pc of __pcs.filter((p) => p.connectionState === 'connected')) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) out.push({ frames: s.framesDecoded, size: `${s.frameWidth}x${s.frameHeight}` });
      });
    }
    return out;
  });
}

/** steadyState — received fps of every stream and CPU, measured together over `ms`. */
async function steadyState(browser: Browser, pages: Page[], ms: number): Promise<{ fps: number[]; sizes: string[]; cpu: number; others: number }> {
  const a = await Promise.all(pages.map(decodedFrames));
  const t = Date.now();
  const { ours: cpu, others } = await cpuOver(browser, ms);
  const b = await Promise.all(pages.map(decodedFrames));
  const secs = (Date.now() - t) / 1000;
  const fps: number[] = [];
  const sizes: string[] = [];
  b.forEach((streams, i) => streams.forEach((s, j) => {
    fps.push((s.frames - (a[i]![j]?.frames ?? 0)) / secs);
    sizes.push(s.size);
  }));
  return { fps, sizes, cpu, others };
}

// ---- the raw baseline: two RTCPeerConnections in one page --------------------------------------

// Page code is a string: tsx would wrap named functions in a `__name` helper the page lacks.
const RAW_PAIR = `(async () => {
  const now = () => performance.timeOrigin + performance.now();
  const constraints = { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } } };
  // Both ends send camera and microphone, as in a two-person call; each has its own capture.
  const [sa, sb] = await Promise.all([navigator.mediaDevices.getUserMedia(constraints), navigator.mediaDevices.getUserMedia(constraints)]);
  (window.__raw || []).forEach((pc) => pc.close());
  const t0 = now();
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  window.__pcs = [a, b];
  window.__raw = [a, b];
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const firsts = [a, b].map((pc) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    pc.ontrack = (e) => { video.srcObject = e.streams[0]; };
    return new Promise((resolve) => video.addEventListener('resize', () => resolve(now()), { once: true }));
  });
  for (const t of sa.getTracks()) a.addTrack(t, sa);
  for (const t of sb.getTracks()) b.addTrack(t, sb);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const [fa, fb] = await Promise.all(firsts);
  return { first: Math.min(fa, fb) - t0, full: Math.max(fa, fb) - t0 };
})()`;

async function rawPair(browser: Browser, page: Page, runs: number): Promise<Sample> {
  const first: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(page.url());
    const r = (await page.evaluate(RAW_PAIR)) as { first: number; full: number };
    first.push(r.first);
    full.push(r.full);
  }
  await sleep(SETTLE_MS);
  const s = await steadyState(browser, [page], 5_000);
  return { firstFrameMs: first, fullMeshMs: full, cpuPerPeer: s.cpu / 2, cpuTotal: s.cpu, others: s.others, fps: s.fps, sizes: s.sizes };
}

// ---- Hearth: N people join one after another, as people do ------------------------------------

async function hearthMesh(browser: Browser, pages: Page[], origin: string, slug: string, measureSteady = true): Promise<Sample> {
  const firstFrameMs: number[] = [];
  const fullMeshMs: number[] = [];
  for (const [k, page] of pages.entries()) {
    process.stderr.write(`  ${pages.length} people: #${k + 1} joins\n`);
    await openRoom(page, origin, slug).catch(async (err: Error) => {
      throw new Error(`${err.message}; status: ${await page.$eval('#prejoin-status', (e) => e.textContent).catch(() => '?')}`);
    });
    await page.locator('::-p-aria(Join)').click();
    await page.waitForSelector('#call:not([hidden])');
    if (k === 0) continue;
    // Full mesh: every page so far has a first frame from every other page.
    const upTo = pages.slice(0, k + 1);
    const deadline = Date.now() + 60_000;
    let stamps: { join: number; frames: Record<string, number> }[] = [];
    for (;;) {
      stamps = await Promise.all(upTo.map((p) => p.evaluate(() => (window as unknown as { __bench: { join: number; frames: Record<string, number> } }).__bench)));
      const counts = stamps.map((s) => Object.keys(s.frames).filter((key) => /^peer:[^:]+$/.test(key)).length);
      if (counts.every((c) => c >= k)) break;
      if (Date.now() > deadline) throw new Error(`no full mesh of ${k + 1} within 60 s: ${JSON.stringify(counts)}`);
      await sleep(50);
    }
    const join = stamps[k]!.join;
    const own = Object.values(stamps[k]!.frames);
    firstFrameMs.push(Math.min(...own) - join);
    // Everyone's first frame from the newcomer, and the newcomer's from everyone.
    const latest = Math.max(...own, ...stamps.slice(0, k).map((s) => Math.max(...Object.values(s.frames))));
    if (k === pages.length - 1) fullMeshMs.push(latest - join);
  }
  if (!measureSteady) return { firstFrameMs, fullMeshMs, cpuPerPeer: NaN, cpuTotal: NaN, others: NaN, fps: [], sizes: [] };
  await sleep(SETTLE_MS);
  const s = await steadyState(browser, pages, 5_000);
  return { firstFrameMs, fullMeshMs, cpuPerPeer: s.cpu / pages.length, cpuTotal: s.cpu, others: s.others, fps: s.fps, sizes: s.sizes };
}

// ---- report --------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
};
const ms = (x: number) => `${Math.round(x)} ms`;
const pct = (x: number) => `${Math.round(x * 100)} %`;

function mostCommon(xs: string[]): string {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
}

/** Repetitions per room size (the figures are medians); steady-state numbers come from the last run. */
const RUNS: Record<number, number> = { 2: 5, 3: 3, 4: 3, 5: 2, 6: 2 };

/** main — npm run bench -- call [--sizes 2,4,6] */
export async function main(argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string', default: '2,4,6' } } });
  const sizes = values.sizes.split(',').map(Number).filter((n) => n >= 2);
  const redis = await startRedis();
  const hearth = await startTestHearth({}, { redisUrl: redis.url });
  const browser = await launchBrowser();
  const rows: [string, Sample][] = [];
  try {
    const people = await Promise.all(Array.from({ length: Math.max(...sizes) }, (_, i) => caller(browser, hearth, `bench${i}`, `Bench ${i + 1}`, [FRAME_PROBE])));
    // Warm-up: the first call after launch is 2–3x slower (TESTING-WEBRTC.md §5); it is not measured.
    const warm = await createRoom(hearth, 'bench0', 'Warm-up', 12);
    await hearthMesh(browser, people.slice(0, 2).map((p) => p.page), hearth.origin, warm, false);
    for (const p of people.slice(0, 2)) await p.page.goto('about:blank');

    const rawPage = await (await browser.createBrowserContext()).newPage();
    await rawPage.goto(`${hearth.origin}/login`);
    rows.push(['raw pair', await rawPair(browser, rawPage, RUNS[2]!)]);
    await rawPage.close();

    for (const n of sizes) {
      const pages = people.slice(0, n).map((p) => p.page);
      const runs = RUNS[n] ?? 1;
      const all: Sample[] = [];
      for (let r = 0; r < runs; r++) {
        const slug = await createRoom(hearth, 'bench0', `Bench ${n}.${r}`, 12);
        all.push(await hearthMesh(browser, pages, hearth.origin, slug, r === runs - 1));
        for (const p of pages) await p.goto('about:blank');
        await sleep(1_000);
      }
      const last = all[all.length - 1]!;
      rows.push([`Hearth ${n}`, { ...last, firstFrameMs: all.flatMap((x) => x.firstFrameMs), fullMeshMs: all.flatMap((x) => x.fullMeshMs) }]);
    }
  } finally {
    await browser.close();
    await hearth.close();
    await redis.stop();
  }

  const base = rows[0]![1];
  const baseFirst = median(base.firstFrameMs);
  const baseFull = median(base.fullMeshMs);
  console.log(`\nCall benchmark (one Chromium, fake camera (720p, less in bigger rooms) + mic, loopback; CPU: share of one core, ${os.cpus().length} cores = ${os.cpus().length * 100} %)`);
  console.log(`load average now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; "other jobs" = CPU used by other processes during the fps window\n`);
  const head = ['setup', 'runs', 'join→1st frame', 'ratio', 'join→full mesh', 'ratio', 'received fps median / min', 'received size', 'CPU total', 'CPU per peer', 'other jobs'];
  const table = rows.map(([name, s]) => [
    name,
    String(s.fullMeshMs.length),
    ms(median(s.firstFrameMs)),
    `${(median(s.firstFrameMs) / baseFirst).toFixed(2)}x`,
    ms(median(s.fullMeshMs)),
    `${(median(s.fullMeshMs) / baseFull).toFixed(2)}x`,
    `${median(s.fps).toFixed(1)} / ${Math.min(...s.fps).toFixed(1)}`,
    mostCommon(s.sizes),
    pct(s.cpuTotal),
    pct(s.cpuPerPeer),
    pct(s.others),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) console.log(line(r));
  console.log('\njoin→1st frame: median over runs and joiners of Join click → first remote video frame at the joiner');
  console.log('  (raw pair: RTCPeerConnection creation → first frame at either end; media already open in both cases).');
  console.log('join→full mesh: median over runs of the last joiner\'s click → every page shows video from every other page');
  console.log('  (raw pair: → both ends show video). fps, sizes and CPU: 5 s window after 6 s, last run of each size.');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
  process.exit(0);
}
