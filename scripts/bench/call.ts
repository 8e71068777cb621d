// Call benchmark: an N-person full mesh in Hearth beside a raw N-person mesh, N = 2, 4, 6, in one
// Chromium and one run. Both join people one after another and measure Join → first decoded
// remote frame, → full mesh, then received frame rates, frame sizes and CPU.
//
// The raw mesh is the baseline: N pages (the same browser contexts Hearth's people use) on a
// blank page served by a bare http server, bare RTCPeerConnections, signaling relayed by this
// script (page binding → page.evaluate), no Hearth anywhere. It gets exactly what Hearth does for
// that room size, read off Hearth's own connections after each Hearth run (PC hook, not client
// internals): the camera and microphone constraints, the camera track's content hint, and each
// video sender's maxBitrate / maxFramerate / scaleResolutionDownBy. Hearth adapts those caps as
// people join (starting at 720p); the raw mesh uses the N-person caps from the first frame on.
//
// Run: npm run bench -- call [--sizes 2,4,6]
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
/** The window over which fps and CPU are measured. */
const WINDOW_MS = 5_000;

/**
 * Records, in page time (epoch ms), the Join click and each remote tile's first video frame
 * (Hearth's room page); the raw page writes the same record itself.
 */
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

interface Stamps {
  join: number;
  frames: Record<string, number>;
}

interface Sample {
  firstFrameMs: number[];
  fullMeshMs: number[];
  cpuPerPeer: number;
  cpuTotal: number;
  /** CPU used by other processes on the machine during the same window. */
  others: number;
  fps: number[];
  sizes: string[];
  /** What every video sender was sending with (see readCaps). */
  caps: string;
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

// ---- the caps Hearth applies, read off its connections ------------------------------------------

/** Caps — what a page's camera and microphone are opened with and what each video sender may send. */
interface Caps {
  video: MediaTrackConstraints;
  audio: MediaTrackConstraints;
  contentHint: string;
  enc: { maxBitrate?: number; maxFramerate?: number; scaleResolutionDownBy?: number };
  /** The camera's delivered size and rate, e.g. 320x180@20. */
  capture: string;
}

/** One entry per connected connection's video sender on the page. */
async function sendersOf(page: Page): Promise<Caps[]> {
  return page.evaluate(() => {
    const out: Caps[] = [];
    for (const pc of __pcs.filter((p) => p.connectionState === 'connected')) {
      const video = pc.getSenders().find((s) => s.track?.kind === 'video');
      const audio = pc.getSenders().find((s) => s.track?.kind === 'audio');
      if (!video?.track) continue;
      const e = video.getParameters().encodings?.[0] ?? {};
      const st = video.track.getSettings();
      out.push({
        video: video.track.getConstraints(),
        audio: audio?.track?.getConstraints() ?? {},
        contentHint: video.track.contentHint,
        enc: { maxBitrate: e.maxBitrate, maxFramerate: e.maxFramerate, scaleResolutionDownBy: e.scaleResolutionDownBy },
        capture: `${st.width}x${st.height}@${Math.round(st.frameRate ?? 0)}`,
      });
    }
    return out;
  });
}

/**
 * readCaps — the caps every video sender of these pages uses, once they all agree (Hearth
 * re-caps a moment after the roster changes). Throws when they still differ after `timeout`.
 */
async function readCaps(pages: Page[], timeout = 10_000): Promise<Caps> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const all = (await Promise.all(pages.map(sendersOf))).flat();
    const distinct = new Set(all.map((c) => JSON.stringify(c)));
    const expected = pages.length * (pages.length - 1);
    if (all.length === expected && distinct.size === 1) return all[0]!;
    if (Date.now() > deadline) throw new Error(`video senders disagree on their caps (${all.length} of ${expected}): ${[...distinct].join(' | ')}`);
    await sleep(200);
  }
}

function describeCaps(c: Caps): string {
  const scale = c.enc.scaleResolutionDownBy && c.enc.scaleResolutionDownBy !== 1 ? ` ÷${c.enc.scaleResolutionDownBy}` : '';
  const kbps = c.enc.maxBitrate ? `${Math.round(c.enc.maxBitrate / 1000)} kbps` : 'no bitrate cap';
  return `${c.capture}${scale}, ≤${c.enc.maxFramerate ?? '-'} fps, ${kbps}`;
}

// ---- the raw baseline: N pages, bare RTCPeerConnections, signaling relayed by this script -------

/** A blank page on http://127.0.0.1 (a secure context, so getUserMedia works); nothing else is served. */
async function blankServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><title>raw mesh</title></head><body></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

// Page code is a string: tsx would wrap named functions in a `__name` helper the page lacks.
// Peers are page indexes. The newcomer offers to everyone already there (as Hearth's mesh does);
// candidates trickle through window.__rawSignal (a puppeteer binding) to the other page's recv.
const RAW_PEER = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = window.__bench || (window.__bench = { join: 0, frames: {} });
  const links = new Map();
  let stream = null;
  let caps = null;
  document.body.style.cssText = 'margin:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:4px;height:100vh;background:#111';
  const show = (s, self) => {
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = self; // remote tiles play with sound, as Hearth's do
    v.style.cssText = 'width:100%;height:100%;object-fit:cover;min-height:0';
    v.srcObject = s;
    document.body.append(v);
    return v;
  };
  const send = (to, msg) => window.__rawSignal(to, msg);
  const cap = async (sender) => {
    const p = sender.getParameters();
    const e = p.encodings && p.encodings[0];
    if (!e) return;
    for (const [k, v] of Object.entries(caps.enc)) if (v !== undefined && v !== null) e[k] = v;
    await sender.setParameters(p);
  };
  const link = (peer) => {
    let l = links.get(peer);
    if (l) return l;
    const pc = new RTCPeerConnection();
    l = { pc, chain: Promise.resolve(), pending: [] };
    links.set(peer, l);
    pc.onicecandidate = (e) => { if (e.candidate) send(peer, { candidate: e.candidate.toJSON() }); };
    pc.ontrack = (e) => {
      if (e.track.kind !== 'video') return; // the stream carries the audio too
      const v = show(e.streams[0], false);
      const key = 'peer:p' + peer;
      v.addEventListener('resize', () => { if (!bench.frames[key] && v.videoWidth > 0) bench.frames[key] = now(); });
    };
    return l;
  };
  window.__raw = {
    // Prejoin: camera and microphone with Hearth's constraints, a preview, one throwaway
    // connection (Hearth warms WebRTC up the same way while the user looks at the preview).
    async open(c) {
      caps = c;
      stream = await navigator.mediaDevices.getUserMedia({ video: c.video, audio: c.audio });
      stream.getVideoTracks()[0].contentHint = c.contentHint;
      show(stream, true);
      new RTCPeerConnection().close();
    },
    async join(peers) {
      bench.join = now();
      for (const peer of peers) {
        const { pc } = link(peer);
        pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
        const enc = {};
        for (const [k, v] of Object.entries(caps.enc)) if (v !== undefined && v !== null) enc[k] = v;
        pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendrecv', streams: [stream], sendEncodings: [enc] });
        await pc.setLocalDescription();
        send(peer, { description: pc.localDescription.toJSON() });
      }
    },
    recv(from, msg) {
      const l = link(from);
      l.chain = l.chain.then(async () => {
        const pc = l.pc;
        if (msg.description) {
          await pc.setRemoteDescription(msg.description);
          for (const c of l.pending.splice(0)) await pc.addIceCandidate(c);
          if (msg.description.type === 'offer') {
            for (const t of stream.getTracks()) pc.addTrack(t, stream);
            for (const s of pc.getSenders()) if (s.track && s.track.kind === 'video') await cap(s);
            await pc.setLocalDescription();
            send(from, { description: pc.localDescription.toJSON() });
          }
          for (const s of pc.getSenders()) if (s.track && s.track.kind === 'video') await cap(s);
        } else if (msg.candidate) {
          if (pc.remoteDescription) await pc.addIceCandidate(msg.candidate);
          else l.pending.push(msg.candidate);
        }
      }).catch((e) => console.error('raw mesh signaling:', e && e.message));
    },
  };
})()`;

/** relayFor — installs the signaling binding on page `i` of `pages` (once; it survives navigation). */
async function installRelay(pages: Page[], i: number): Promise<void> {
  await pages[i]!.exposeFunction('__rawSignal', async (to: number, msg: unknown) => {
    await pages[to]!.evaluate((from, m) => (window as unknown as { __raw: { recv(f: number, m: unknown): void } }).__raw.recv(from, m), i, msg as never)
      .catch((err: Error) => process.stderr.write(`  raw relay ${i}→${to}: ${err.message}\n`));
  });
}

// ---- joining one after another, as people do (Hearth and raw alike) ----------------------------

/**
 * joinAll — `join(page, k)` lets page k join (its Join click or equivalent stamped in
 * window.__bench.join); after each join, waits until every page so far shows a first frame
 * from every other page. First frame: the joiner's first remote frame after its Join. Full
 * mesh: the last joiner's Join → every page shows video from every other page.
 */
async function joinAll(label: string, pages: Page[], join: (page: Page, k: number) => Promise<void>): Promise<{ firstFrameMs: number[]; fullMeshMs: number[] }> {
  const firstFrameMs: number[] = [];
  const fullMeshMs: number[] = [];
  for (const [k, page] of pages.entries()) {
    process.stderr.write(`  ${label} ${pages.length}: #${k + 1} joins\n`);
    await join(page, k);
    if (k === 0) continue;
    const upTo = pages.slice(0, k + 1);
    const deadline = Date.now() + 60_000;
    let stamps: Stamps[] = [];
    for (;;) {
      stamps = await Promise.all(upTo.map((p) => p.evaluate(() => (window as unknown as { __bench: Stamps }).__bench)));
      const counts = stamps.map((s) => Object.keys(s.frames).filter((key) => /^peer:[^:]+$/.test(key)).length);
      if (counts.every((c) => c >= k)) break;
      if (Date.now() > deadline) throw new Error(`${label}: no full mesh of ${k + 1} within 60 s: ${JSON.stringify(counts)}`);
      await sleep(50);
    }
    const joinAt = stamps[k]!.join;
    const own = Object.values(stamps[k]!.frames);
    firstFrameMs.push(Math.min(...own) - joinAt);
    // Everyone's first frame from the newcomer, and the newcomer's from everyone.
    const latest = Math.max(...own, ...stamps.slice(0, k).map((s) => Math.max(...Object.values(s.frames))));
    if (k === pages.length - 1) fullMeshMs.push(latest - joinAt);
  }
  return { firstFrameMs, fullMeshMs };
}

async function hearthMesh(pages: Page[], origin: string, slug: string): Promise<{ firstFrameMs: number[]; fullMeshMs: number[] }> {
  return joinAll('Hearth', pages, async (page) => {
    await openRoom(page, origin, slug).catch(async (err: Error) => {
      throw new Error(`${err.message}; status: ${await page.$eval('#prejoin-status', (e) => e.textContent).catch(() => '?')}`);
    });
    await page.locator('::-p-aria(Join)').click();
    await page.waitForSelector('#call:not([hidden])');
  });
}

async function rawMesh(pages: Page[], url: string, caps: Caps): Promise<{ firstFrameMs: number[]; fullMeshMs: number[] }> {
  return joinAll('raw', pages, async (page, k) => {
    await page.goto(url);
    await page.evaluate(RAW_PEER);
    await page.evaluate((c) => (window as unknown as { __raw: { open(c: Caps): Promise<void> } }).__raw.open(c), caps);
    await page.evaluate((peers) => (window as unknown as { __raw: { join(p: number[]): Promise<void> } }).__raw.join(peers), Array.from({ length: k }, (_, i) => i));
  });
}

/** steady — waits for the mesh to settle, then measures fps, sizes and CPU over the window. */
async function steady(browser: Browser, pages: Page[], joins: { firstFrameMs: number[]; fullMeshMs: number[] }[], caps: string): Promise<Sample> {
  await sleep(SETTLE_MS);
  const s = await steadyState(browser, pages, WINDOW_MS);
  return {
    firstFrameMs: joins.flatMap((j) => j.firstFrameMs),
    fullMeshMs: joins.flatMap((j) => j.fullMeshMs),
    cpuPerPeer: s.cpu / pages.length, cpuTotal: s.cpu, others: s.others, fps: s.fps, sizes: s.sizes, caps,
  };
}

async function leave(pages: Page[]): Promise<void> {
  for (const p of pages) await p.goto('about:blank');
  await sleep(1_000);
}

// ---- report --------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : NaN;
};
const ms = (x: number) => `${Math.round(x)} ms`;
const pct = (x: number) => `${Math.round(x * 100)} %`;
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');

function mostCommon(xs: string[]): string {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
}

/** Repetitions per room size, for Hearth and raw each, alternating (the join figures are medians); steady-state numbers come from the last run. */
const RUNS: Record<number, number> = { 2: 5, 3: 3, 4: 3, 5: 2, 6: 2 };

/** main — npm run bench -- call [--sizes 2,4,6] */
export async function main(argv: string[] = []): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string', default: '2,4,6' } } });
  const sizes = values.sizes.split(',').map(Number).filter((n) => n >= 2);
  if (!sizes.length) throw new Error('--sizes: room sizes of 2 or more, e.g. 2,4,6');
  const loadBefore = os.loadavg();
  const redis = await startRedis();
  const hearth = await startTestHearth({}, { redisUrl: redis.url });
  const blank = await blankServer();
  const browser = await launchBrowser();
  const rows: { n: number; hearth: Sample; raw: Sample }[] = [];
  try {
    const people = await Promise.all(Array.from({ length: Math.max(...sizes) }, (_, i) => caller(browser, hearth, `bench${i}`, `Bench ${i + 1}`, [FRAME_PROBE])));
    const all = people.map((p) => p.page);
    for (const i of all.keys()) await installRelay(all, i);

    // Warm-up: the first call after launch is 2–3x slower (TESTING-WEBRTC.md §5); it is not measured.
    const warm = await createRoom(hearth, 'bench0', 'Warm-up', 12);
    await hearthMesh(all.slice(0, 2), hearth.origin, warm);
    const warmCaps = await readCaps(all.slice(0, 2));
    await leave(all.slice(0, 2));
    await rawMesh(all.slice(0, 2), blank.url, warmCaps);
    await leave(all.slice(0, 2));

    for (const n of sizes) {
      const pages = all.slice(0, n);
      const runs = RUNS[n] ?? 1;
      const joins: Record<'hearth' | 'raw', { firstFrameMs: number[]; fullMeshMs: number[] }[]> = { hearth: [], raw: [] };
      let caps: Caps | null = null;
      let hearthSample: Sample | null = null;
      let rawSample: Sample | null = null;
      // Hearth first (the raw mesh needs its caps), then alternating, so load from other jobs hits both alike.
      for (let r = 0; r < runs; r++) {
        const last = r === runs - 1;
        const slug = await createRoom(hearth, 'bench0', `Bench ${n}.${r}`, 12);
        joins.hearth.push(await hearthMesh(pages, hearth.origin, slug));
        const c = await readCaps(pages);
        if (caps && JSON.stringify(c) !== JSON.stringify(caps)) process.stderr.write(`  Hearth ${n}: caps changed between runs: ${describeCaps(caps)} → ${describeCaps(c)}\n`);
        caps ??= c;
        if (last) hearthSample = await steady(browser, pages, joins.hearth, describeCaps(await readCaps(pages)));
        await leave(pages);

        joins.raw.push(await rawMesh(pages, blank.url, caps));
        const rc = await readCaps(pages);
        if (JSON.stringify(rc) !== JSON.stringify(caps)) throw new Error(`raw ${n} does not send with Hearth's caps: ${describeCaps(rc)} vs ${describeCaps(caps)}: ${JSON.stringify(rc)} vs ${JSON.stringify(caps)}`);
        if (last) rawSample = await steady(browser, pages, joins.raw, describeCaps(await readCaps(pages)));
        await leave(pages);
      }
      rows.push({ n, hearth: hearthSample!, raw: rawSample! });
    }
  } finally {
    await browser.close();
    blank.server.close();
    await hearth.close();
    await redis.stop();
  }

  const cores = os.cpus().length;
  console.log(`\nCall benchmark: Hearth's N-person mesh beside a raw N-person mesh with the same caps, one Chromium,`);
  console.log(`fake camera + mic, loopback. CPU: share of one core (${cores} cores = ${cores * 100} %).`);
  console.log(`load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; "other jobs" = CPU used by other processes during the fps window\n`);
  const head = ['setup', 'camera sent as (per copy)', 'runs', 'join→1st frame', 'H/raw', 'join→full mesh', 'H/raw', 'recv fps median / min', 'H/raw median / min', 'recv size', 'CPU total', 'CPU/peer', 'other jobs'];
  const table: string[][] = [];
  for (const { n, hearth: h, raw } of rows) {
    const line = (name: string, s: Sample, base: Sample | null) => [
      name,
      s.caps,
      String(s.fullMeshMs.length),
      ms(median(s.firstFrameMs)),
      base ? ratio(median(s.firstFrameMs), median(base.firstFrameMs)) : '',
      ms(median(s.fullMeshMs)),
      base ? ratio(median(s.fullMeshMs), median(base.fullMeshMs)) : '',
      `${median(s.fps).toFixed(1)} / ${Math.min(...s.fps).toFixed(1)}`,
      base ? `${ratio(median(s.fps), median(base.fps))} / ${ratio(Math.min(...s.fps), Math.min(...base.fps))}` : '',
      mostCommon(s.sizes),
      pct(s.cpuTotal),
      pct(s.cpuPerPeer),
      pct(s.others),
    ];
    table.push(line(`raw ${n}`, raw, null), line(`Hearth ${n}`, h, raw));
  }
  const widths = head.map((hd, i) => Math.max(hd.length, ...table.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) console.log(fmt(r));
  console.log(`
raw N:    N pages (one browser context each) on a blank page from a bare http server; bare
          RTCPeerConnections, the newcomer offers to everyone there, offers/answers/candidates
          relayed by this script (page binding → page.evaluate). Camera, microphone, content hint
          and per-sender maxBitrate / maxFramerate / scale are copied from Hearth's N-person call
          (read off its RTCPeerConnections) and apply from the first frame.
Hearth N: N signed-in people open the room and click Join one after another; signaling through
          Hearth's server, caps set by Hearth as the room grows (so its early frames are larger).
H/raw:    Hearth ÷ raw at the same N: above 1x for times means slower, below 1x for fps means fewer frames.
join→1st frame: median over runs and joiners of Join (raw: start of its connections, media already
  open in both) → first remote video frame at the joiner.
join→full mesh: median over runs of the last joiner's Join → every page shows video from every other page.
fps, size, CPU: ${WINDOW_MS / 1000} s window after ${SETTLE_MS / 1000} s settling, last run of each; fps per received stream
  (N×(N−1) streams), size the most common decoded frame size; CPU of the whole Chromium process tree.`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
  process.exit(0);
}
