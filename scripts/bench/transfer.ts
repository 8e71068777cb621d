// File-transfer benchmark: Hearth (256 MiB, 1 GiB) beside a raw data-channel blast in the same browser,
// peak receiver memory, and hashing cost. Run: node --import tsx scripts/bench/transfer.ts [--sizes 256,1024] [--chunks 64,256,1024]
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, registerInBrowser, type TestUser } from '../../test/helpers/browser.js';
import { startTestHearth } from '../../test/helpers/hearth.js';
import { startRedis, tempDir } from '../../test/helpers/processes.js';
import { randomFile } from '../../test/helpers/files.js';

const MiB = 1024 * 1024;
/** options — this benchmark's command line (from npm run bench -- transfer --sizes 256, or run directly). */
function options(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    sizes: { type: 'string', default: '256,1024' },
    chunks: { type: 'string', default: '' },
    windows: { type: 'string', default: '' },
    runs: { type: 'string', default: '1' },
    'tune-size': { type: 'string', default: '256' },
  } });
  return { ...values, sizes: values.sizes.split(',').map(Number), runs: Number(values.runs) };
}

/**
 * user — a registered user. The receiver uses the browser's default (on-disk) profile: in an
 * off-the-record context Chromium keeps OPFS in the browser process's memory and serves every
 * read and write over IPC (measured: +7 s of browser CPU per GiB), which no real user has.
 */
async function user(browser: Browser, origin: string, name: string, display: string, onDisk = false): Promise<TestUser> {
  const ctx = onDisk ? browser.defaultBrowserContext() : await browser.createBrowserContext();
  const page = await ctx.newPage();
  const u = { ctx, page, name, errors: [] as string[] };
  page.on('pageerror', (e) => console.error(`[${name}]`, (e as Error).message));
  await registerInBrowser(u, origin, name, display);
  await page.waitForFunction(() => !!(window as any).__hearth?.transfers && (window as any).__hearth.signaling.isOpen, { polling: 100, timeout: 15_000 });
  return u;
}

/**
 * cpuSeconds — CPU time used so far by this browser's processes (browser, renderers, network,
 * GPU…), from /proc: unlike wall-clock speed, it does not depend on what else the machine runs.
 */
function cpuSeconds(browser: Browser): number {
  const root = browser.process()?.pid;
  if (!root) return NaN;
  const tick = 100; // USER_HZ on Linux
  const kids = new Map<number, number[]>();
  const times = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      times.set(Number(d), (Number(f[11]) + Number(f[12])) / tick);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  const walk = (pid: number) => {
    total += times.get(pid) ?? 0;
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  walk(root);
  return total;
}

/** heapSampler — peak of JS heap + ArrayBuffer backing stores on `page`, sampled every 250 ms. */
async function heapSampler(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.createCDPSession();
  let peak = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const u = await cdp.send('Runtime.getHeapUsage') as { usedSize: number; backingStorageSize?: number };
      peak = Math.max(peak, u.usedSize + (u.backingStorageSize ?? 0));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    await cdp.detach();
    return peak;
  };
}

/** rawBlast — two bare RTCPeerConnections, one in each page (two renderers, as in a Hearth transfer), paced like Hearth. */
async function rawBlast(a: Page, b: Page, bytes: number): Promise<{ mibps: number; cpu: number }> {
  await b.evaluate(() => {
    const w = window as any;
    w.rawRx = 0;
    w.rawPc = new RTCPeerConnection();
    w.rawCands = [];
    w.rawPc.onicecandidate = (e: RTCPeerConnectionIceEvent) => e.candidate && w.rawCands.push(e.candidate.toJSON());
    w.rawPc.ondatachannel = (e: RTCDataChannelEvent) => {
      e.channel.binaryType = 'arraybuffer';
      e.channel.onmessage = (m) => (w.rawRx += (m.data as ArrayBuffer).byteLength);
    };
  });
  const gathered = (p: Page) => p.evaluate(() => new Promise<void>((r) => {
    const pc = (window as any).rawPc as RTCPeerConnection;
    if (pc.iceGatheringState === 'complete') r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
  }));
  const offer = await a.evaluate(async () => {
    const w = window as any;
    w.rawPc = new RTCPeerConnection();
    w.rawDc = w.rawPc.createDataChannel('raw');
    await w.rawPc.setLocalDescription();
    return null;
  }).then(() => gathered(a)).then(() => a.evaluate(() => (window as any).rawPc.localDescription.toJSON()));
  const answer = await b.evaluate(async (o) => {
    const pc = (window as any).rawPc as RTCPeerConnection;
    await pc.setRemoteDescription(o);
    await pc.setLocalDescription();
  }, offer).then(() => gathered(b)).then(() => b.evaluate(() => (window as any).rawPc.localDescription.toJSON()));
  await a.evaluate(async (ans) => {
    const w = window as any;
    await w.rawPc.setRemoteDescription(ans);
    await new Promise((r) => (w.rawDc.readyState === 'open' ? r(null) : (w.rawDc.onopen = r)));
  }, answer);
  const t0 = performance.now();
  const c0 = cpuSeconds(a.browser());
  await a.evaluate(async (total) => {
    const dc = (window as any).rawDc as RTCDataChannel;
    const buf = new Uint8Array(64 * 1024);
    crypto.getRandomValues(buf);
    dc.bufferedAmountLowThreshold = 1024 * 1024;
    for (let sent = 0; sent < total; sent += buf.length) {
      if (dc.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
      dc.send(buf);
    }
  }, bytes);
  await b.waitForFunction((t) => (window as any).rawRx >= t, { polling: 20, timeout: 600_000 }, bytes);
  const secs = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(a.browser()) - c0) / (bytes / MiB / 1024);
  await Promise.all([a, b].map((p) => p.evaluate(() => (window as any).rawPc.close())));
  return { mibps: bytes / MiB / secs, cpu };
}

interface HearthRun { mibps: number; cpu: number; peak: number; verifyMs: number; resent: number }

/** hearthTransfer — Send → Accept → Verified on both sides; the clock starts at Accept. */
async function hearthTransfer(ada: Page, bob: Page, file: string, sha256: string, tuning: Record<string, number> = {}): Promise<HearthRun> {
  await ada.evaluate((t) => Object.assign((window as any).__hearth.transfers.tuning, t), tuning);
  const before = await ada.evaluate(() => (window as any).__hearth.transfers.list().length);
  const btn = await ada.waitForSelector('::-p-aria(Send file to Bob)');
  const [chooser] = await Promise.all([ada.waitForFileChooser(), btn!.click()]);
  await chooser.accept([file]);
  await ada.waitForFunction((n) => (window as any).__hearth.transfers.list().length > n, { polling: 50 }, before);
  const id = await ada.evaluate(() => (window as any).__hearth.transfers.list().at(-1).id);
  const stopHeap = await heapSampler(bob);
  const name = path.basename(file);
  const accept = await bob.waitForSelector(`::-p-aria([name="Files offered to you"][role="region"]) ::-p-aria(Accept ${name} from Ada)`);
  const t0 = performance.now();
  const c0 = cpuSeconds(ada.browser());
  await accept!.click();
  // The receiver keys its row by an id of its own; the id both sides know is `transferId`.
  await bob.waitForFunction((i) => (window as any).__hearth.transfers.list().some((t: any) => t.transferId === i), { polling: 20 }, id);
  const bobId: string = await bob.evaluate((i) => (window as any).__hearth.transfers.list().find((t: any) => t.transferId === i).id, id);
  // When the last byte is on disk (before the final comparison), and when both sides say Verified.
  await bob.waitForFunction((i) => (window as any).__hearth.transfers.info(i)?.status === 'verifying' || (window as any).__hearth.transfers.info(i)?.status === 'verified', { polling: 20, timeout: 900_000 }, bobId);
  const tData = performance.now();
  await bob.waitForFunction((i) => (window as any).__hearth.transfers.info(i)?.status === 'verified', { polling: 20, timeout: 900_000 }, bobId);
  await ada.waitForFunction((i) => (window as any).__hearth.transfers.info(i)?.status === 'verified', { polling: 20, timeout: 60_000 }, id);
  const t1 = performance.now();
  const c1 = cpuSeconds(ada.browser());
  const peak = await stopHeap();
  const [sent, got] = await Promise.all([[ada, id], [bob, bobId]].map(([p, i]) => (p as Page).evaluate((x) => (window as any).__hearth.transfers.info(x), i)));
  if (got.sha256 !== sha256 || sent.sha256 !== sha256) throw new Error(`hash mismatch: ${got.sha256} / ${sent.sha256} / ${sha256}`);
  await bob.evaluate((i) => (window as any).__hearth.transfers.remove(i), bobId);
  await ada.evaluate((i) => (window as any).__hearth.transfers.remove(i), id);
  return { mibps: got.size / MiB / ((t1 - t0) / 1000), cpu: (c1 - c0) / (got.size / MiB / 1024), peak, verifyMs: t1 - tData, resent: sent.counters.resent };
}

/** hashCost — throughput of the two hashes a transfer runs (MB/s), measured in a page of this browser. */
async function hashCost(browser: Browser, origin: string): Promise<{ chunk: number; whole: number }> {
  // hash-wasm bundled here and injected (CSP bypassed for this measuring page only).
  const built = await esbuild.build({ stdin: { contents: "import { createSHA256 } from 'hash-wasm'; (window as any).createSHA256 = createSHA256;", loader: 'ts', resolveDir: process.cwd() }, bundle: true, write: false, format: 'iife' });
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setBypassCSP(true);
  await page.goto(`${origin}/login`);
  await page.addScriptTag({ content: built.outputFiles[0]!.text });
  const r = await page.evaluate(async () => {
    const buf = new Uint8Array(256 * 1024);
    crypto.getRandomValues(buf.subarray(0, 65536));
    const n = 1024; // 256 MiB
    let t = performance.now();
    for (let i = 0; i < n; i++) await crypto.subtle.digest('SHA-256', buf);
    const chunk = 268.435456 / ((performance.now() - t) / 1000);
    const h = await (window as any).createSHA256();
    h.init();
    t = performance.now();
    for (let i = 0; i < n; i++) h.update(buf);
    h.digest();
    return { chunk, whole: 268.435456 / ((performance.now() - t) / 1000) };
  });
  await ctx.close();
  return r;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export async function main(argv: string[] = []): Promise<void> {
  const args = options(argv);
  const { sizes, runs } = args;
  const redis = await startRedis();
  const hearth = await startTestHearth({}, { redisUrl: redis.url, heartbeatMs: 1_000 });
  const browser = await launchBrowser();
  const dir = tempDir('bench');
  try {
    const ada = await user(browser, hearth.origin, 'ada', 'Ada');
    const bob = await user(browser, hearth.origin, 'bob', 'Bob', true);
    const rows: string[][] = [];
    for (const size of sizes) {
      const f = await randomFile(dir, `bench-${size}.bin`, size * MiB);
      for (let r = 0; r < runs; r++) {
        const raw = await rawBlast(ada.page, bob.page, size * MiB);
        const h = await hearthTransfer(ada.page, bob.page, f.file, f.sha256);
        rows.push([`${size} MiB`, fmt(raw.mibps), fmt(h.mibps), `${fmt((h.mibps / raw.mibps) * 100, 0)} %`, fmt(raw.cpu), fmt(h.cpu), `${fmt((raw.cpu / h.cpu) * 100, 0)} %`, fmt(h.peak / MiB), fmt(h.verifyMs, 0), String(h.resent)]);
        console.error(`  ${size} MiB run ${r + 1}: raw ${fmt(raw.mibps)} MiB/s, hearth ${fmt(h.mibps)} MiB/s, cpu ${fmt(raw.cpu)} / ${fmt(h.cpu)} s per GiB, peak ${fmt(h.peak / MiB)} MiB`);
      }
      rmSync(f.file);
    }
    console.log('\nThroughput (MiB/s; Hearth = Accept → Verified on both sides, hashing and verification on)');
    console.log('CPU: seconds of CPU per GiB across all browser processes (both tabs, network, browser); "CPU ratio" = raw / Hearth.');
    table(['file', 'raw MiB/s', 'Hearth MiB/s', 'ratio', 'raw CPU s/GiB', 'Hearth CPU s/GiB', 'CPU ratio', 'peak rx heap MiB', 'final check ms', 'resent B'], rows);

    if (args.chunks || args.windows) {
      const f = { ...(await randomFile(dir, 'tune.bin', Number(args['tune-size']) * MiB)), size: Number(args['tune-size']) * MiB };
      const trows: string[][] = [];
      const chunks = (args.chunks || '256').split(',').map(Number);
      const windows = (args.windows || '4').split(',').map(Number);
      for (let r = 0; r < runs; r++) {
        for (const c of chunks) {
          for (const w of windows) {
            // Each Hearth run is paired with a raw run right before it: the ratio survives a busy machine.
            const raw = await rawBlast(ada.page, bob.page, f.size);
            const h = await hearthTransfer(ada.page, bob.page, f.file, f.sha256, { chunkSize: c * 1024, windowBytes: w * MiB });
            trows.push([`${c} KiB`, `${w} MiB`, fmt(raw.mibps), fmt(h.mibps), `${fmt((h.mibps / raw.mibps) * 100, 0)} %`, fmt(raw.cpu), fmt(h.cpu), fmt(h.peak / MiB)]);
            console.error(`  chunk ${c} KiB window ${w} MiB: raw ${fmt(raw.mibps)}, hearth ${fmt(h.mibps)}, cpu ${fmt(raw.cpu)} / ${fmt(h.cpu)}`);
          }
        }
      }
      console.log(`\nChunk size and window (${f.size / MiB} MiB, MiB/s)`);
      table(['chunk', 'window', 'raw MiB/s', 'Hearth MiB/s', 'ratio', 'raw CPU s/GiB', 'Hearth CPU s/GiB', 'peak rx MiB'], trows);
      await ada.page.evaluate(() => Object.assign((window as any).__hearth.transfers.tuning, { chunkSize: 256 * 1024, windowBytes: 4 * 1024 * 1024 }));
    }

    const hc = await hashCost(browser, hearth.origin);
    console.log('\nHashing cost (this machine, one core)');
    table(['hash', 'MB/s', 'CPU s per GiB', 'role'], [
      ['SHA-256 per chunk (WebCrypto)', fmt(hc.chunk, 0), fmt(1024 / hc.chunk, 2), 'sender hashes, receiver checks each chunk'],
      ['SHA-256 incremental (hash-wasm)', fmt(hc.whole, 0), fmt(1024 / hc.whole, 2), 'sender whole file; receiver reads back from disk'],
    ]);
  } finally {
    await browser.close();
    await hearth.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
  process.exit(0);
}
