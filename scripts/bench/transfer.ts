// File-transfer benchmark: Hearth (256 MiB, 1 GiB) beside a raw data-channel blast in the same browser,
// peak receiver memory, and what each part (reading, hashing, copies, worker messages, disk) costs.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { launchBrowser, registerInBrowser, type TestUser } from '../../test/helpers/browser.js';
import { startTestHearth } from '../../test/helpers/hearth.js';
import { startRedis, tempDir } from '../../test/helpers/processes.js';
import { randomFile } from '../../test/helpers/files.js';
import { DEFAULT_TUNING } from '../../src/client/transfer/lib/tuning.js';

const MiB = 1024 * 1024;
/** options — this benchmark's command line (from npm run bench -- transfer --sizes 256, or run directly). */
function options(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    sizes: { type: 'string', default: '256,1024' },
    chunks: { type: 'string', default: '' },
    windows: { type: 'string', default: '' },
    runs: { type: 'string', default: '1' },
    'tune-size': { type: 'string', default: '256' },
    /** Also blast the raw channel with these message sizes (KiB), to see what the message size costs. */
    'raw-messages': { type: 'string', default: '' },
    /** Also blast the raw channel with and without the gentle start (DEFAULT_TUNING.startMs), to see what it saves. */
    'raw-start': { type: 'boolean', default: false },
    /** Size of the file the part costs are measured on (0: skip them). */
    'part-size': { type: 'string', default: '512' },
    /** Where the CPU goes: per-thread CPU of raw and Hearth runs, and sampled profiles of both pages and the writer worker (slows Hearth a little). */
    profile: { type: 'boolean', default: false },
    /**
     * When the receiver clicks Accept: `ready` once the sender has hashed the file ahead (as a
     * person does after reading the offer for a few seconds), `now` as soon as the offer shows
     * (sending then hashes what is left), `both` (each run does both).
     */
    accept: { type: 'string', default: 'both' },
  } });
  const accept = values.accept === 'both' ? ['ready', 'now'] as const : [values.accept as 'ready' | 'now'];
  if (!accept.every((a) => a === 'ready' || a === 'now')) throw new Error(`--accept must be ready, now or both, not ${values.accept}`);
  return { ...values, accept, sizes: values.sizes.split(',').map(Number).filter((n) => n > 0), runs: Number(values.runs) };
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

const TICK = 100; // USER_HZ on Linux

/** statTimes — [ppid, CPU seconds (user + system)] from a /proc stat line. */
function statTimes(stat: string): [number, number] {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[1]), (Number(f[11]) + Number(f[12])) / TICK];
}

/** browserProcs — this browser's processes (pid → CPU seconds so far), from /proc. */
export function browserProcs(browser: Browser): Map<number, number> {
  const out = new Map<number, number>();
  const root = browser.process()?.pid;
  if (!root) return out;
  const kids = new Map<number, number[]>();
  const times = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const [ppid, secs] = statTimes(readFileSync(`/proc/${d}/stat`, 'utf8'));
      times.set(Number(d), secs);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const walk = (pid: number) => {
    out.set(pid, times.get(pid) ?? 0);
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  walk(root);
  return out;
}

/**
 * cpuSeconds — CPU time used so far by this browser's processes (browser, renderers, network,
 * GPU…), from /proc: unlike wall-clock speed, it does not depend on what else the machine runs.
 */
function cpuSeconds(browser: Browser): number {
  if (!browser.process()?.pid) return NaN;
  let total = 0;
  for (const secs of browserProcs(browser).values()) total += secs;
  return total;
}

/** heapSampler — peak of JS heap + ArrayBuffer backing stores on `page`, sampled every 250 ms. */
export async function heapSampler(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.createCDPSession();
  // The raw blast before leaves a GiB of received messages as garbage: collect it, so the peak is this transfer's own.
  await cdp.send('HeapProfiler.collectGarbage');
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

/**
 * rawBlast — two bare RTCPeerConnections, one in each page (two renderers, as in a Hearth
 * transfer), paced like Hearth: at most `highWater` buffered, and for the first `startMs` only
 * `startHighWater` (`gentle: false` hands the channel the full amount from the first message).
 * `startPauseMs`: the longest time between two received messages in the first 3 s.
 */
export async function rawBlast(a: Page, b: Page, bytes: number, message = 64 * 1024, gentle = true): Promise<{ mibps: number; cpu: number; startPauseMs: number }> {
  await b.evaluate(() => {
    const w = window as any;
    w.rawRx = 0;
    w.rawFirst = null;
    w.rawPrev = 0;
    w.rawPause = 0;
    w.rawPc = new RTCPeerConnection();
    w.rawCands = [];
    w.rawPc.onicecandidate = (e: RTCPeerConnectionIceEvent) => e.candidate && w.rawCands.push(e.candidate.toJSON());
    w.rawPc.ondatachannel = (e: RTCDataChannelEvent) => {
      e.channel.binaryType = 'arraybuffer';
      e.channel.onmessage = (m) => {
        w.rawRx += (m.data as ArrayBuffer).byteLength;
        const now = performance.now();
        w.rawFirst ??= now;
        if (now - w.rawFirst < 3000) w.rawPause = Math.max(w.rawPause, now - (w.rawPrev || now));
        w.rawPrev = now;
      };
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
  const t = DEFAULT_TUNING;
  const pace = { high: t.highWater, low: t.lowWater, startMs: gentle ? t.startMs : 0, startHigh: t.startHighWater };
  await a.evaluate(async (total, size, p) => {
    const dc = (window as any).rawDc as RTCDataChannel;
    const buf = new Uint8Array(size);
    for (let o = 0; o < size; o += 65536) crypto.getRandomValues(buf.subarray(o, o + 65536));
    const start = performance.now();
    for (let sent = 0; sent < total; sent += buf.length) {
      const early = performance.now() - start < p.startMs;
      dc.bufferedAmountLowThreshold = early ? p.startHigh / 4 : p.low;
      if (dc.bufferedAmount > (early ? p.startHigh : p.high)) await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
      dc.send(buf);
    }
  }, bytes, message, pace);
  await b.waitForFunction((t) => (window as any).rawRx >= t, { polling: 20, timeout: 600_000 }, bytes);
  const secs = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(a.browser()) - c0) / (bytes / MiB / 1024);
  const startPauseMs: number = await b.evaluate(() => (window as any).rawPause);
  await Promise.all([a, b].map((p) => p.evaluate(() => (window as any).rawPc.close())));
  return { mibps: bytes / MiB / secs, cpu, startPauseMs };
}

interface HearthRun { mibps: number; cpu: number; peak: number; verifyMs: number; resent: number; prepMs: number }

/**
 * hearthTransfer — Send → Accept → Verified on both sides; the clock starts at Accept. With
 * `accept: 'ready'` Accept waits until the sender has hashed the file ahead (`prepMs` after the
 * offer showed).
 */
async function hearthTransfer(ada: Page, bob: Page, file: string, sha256: string, tuning: Record<string, number> = {}, accept: 'ready' | 'now' = 'now', onAccept: () => void = () => {}): Promise<HearthRun> {
  await ada.evaluate((t) => Object.assign((window as any).__hearth.transfers.tuning, t), tuning);
  const before = await ada.evaluate(() => (window as any).__hearth.transfers.list().length);
  const btn = await ada.waitForSelector('::-p-aria(Send file to Bob)');
  const [chooser] = await Promise.all([ada.waitForFileChooser(), btn!.click()]);
  await chooser.accept([file]);
  await ada.waitForFunction((n) => (window as any).__hearth.transfers.list().length > n, { polling: 50 }, before);
  const id = await ada.evaluate(() => (window as any).__hearth.transfers.list().at(-1).id);
  const stopHeap = await heapSampler(bob);
  const name = path.basename(file);
  const acceptBtn = await bob.waitForSelector(`::-p-aria([name="Files offered to you"][role="region"]) ::-p-aria(Accept ${name} from Ada)`);
  const offered = performance.now();
  if (accept === 'ready') await ada.waitForFunction((i) => { const t = (window as any).__hearth.transfers.info(i); return t.hashedAhead === t.size; }, { polling: 20, timeout: 600_000 }, id);
  onAccept();
  const t0 = performance.now();
  const c0 = cpuSeconds(ada.browser());
  await acceptBtn!.click();
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
  return { mibps: got.size / MiB / ((t1 - t0) / 1000), cpu: (c1 - c0) / (got.size / MiB / 1024), peak, verifyMs: t1 - tData, resent: sent.counters.resent, prepMs: t0 - offered };
}

/**
 * partCosts — what each part of a transfer costs on its own, in one page of this browser (on-disk
 * profile, CSP bypassed for this measuring page only): CPU seconds per GiB summed over all browser
 * processes (so file reads served by the browser process count), and wall-clock MB/s.
 */
async function partCosts(browser: Browser, origin: string, file: string, bytes: number): Promise<{ part: string; cpu: number; mbps: number; role: string }[]> {
  // hash-wasm bundled here and injected.
  const built = await esbuild.build({ stdin: { contents: "import { createSHA256 } from 'hash-wasm'; (window as any).createSHA256 = createSHA256;", loader: 'ts', resolveDir: process.cwd() }, bundle: true, write: false, format: 'iife' });
  const page = await browser.defaultBrowserContext().newPage();
  await page.setBypassCSP(true);
  await page.goto(`${origin}/login`);
  await page.addScriptTag({ content: built.outputFiles[0]!.text });
  await page.evaluate('globalThis.__name = (f) => f'); // tsx names the functions it compiles with this helper
  await page.evaluate(() => {
    const i = document.createElement('input');
    i.type = 'file';
    i.id = 'bench-file';
    document.body.append(i);
    // A worker like the OPFS writer: writes or reads `n` chunks of `size` bytes, or echoes what it is sent.
    const code = `
      let h = null; const buf = new Uint8Array(256 * 1024);
      onmessage = async (e) => {
        const m = e.data;
        if (m.op === 'echo') return postMessage({ rid: m.rid, ok: true });
        if (m.op === 'open') { const d = await navigator.storage.getDirectory(); const fh = await d.getFileHandle('bench-part.bin', { create: true }); h = await fh.createSyncAccessHandle(); h.truncate(m.bytes); return postMessage('ok'); }
        if (m.op === 'write') { for (let i = 0; i < m.n; i++) { h.write(buf, { at: i * buf.length }); if (i % 40 === 39) h.flush(); } h.flush(); return postMessage('ok'); }
        if (m.op === 'read') { for (let i = 0; i < m.n; i++) h.read(buf, { at: i * buf.length }); return postMessage('ok'); }
        if (m.op === 'close') { h.close(); const d = await navigator.storage.getDirectory(); await d.removeEntry('bench-part.bin'); return postMessage('ok'); }
      };`;
    (window as any).benchWorker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
    (window as any).call = (m: unknown) => new Promise((r) => {
      const w = (window as any).benchWorker as Worker;
      w.onmessage = () => r(null);
      w.postMessage(m);
    });
  });
  await ((await page.$('#bench-file')) as ElementHandle<HTMLInputElement>).uploadFile(file);
  const out: { part: string; cpu: number; mbps: number; role: string }[] = [];
  const measure = async (part: string, role: string, run: () => Promise<unknown>) => {
    const c0 = cpuSeconds(browser);
    const t0 = performance.now();
    await run();
    const secs = (performance.now() - t0) / 1000;
    out.push({ part, role, cpu: (cpuSeconds(browser) - c0) / (bytes / 2 ** 30), mbps: bytes / 1e6 / secs });
  };
  for (const block of [4, 8, 16]) {
    await measure(`read the file, ${block} MiB blocks (File.slice)`, 'sender', () => page.evaluate(async (b) => {
      const f = (document.querySelector('#bench-file') as HTMLInputElement).files![0]!;
      for (let at = 0; at < f.size; at += b) await f.slice(at, at + b).arrayBuffer();
    }, block * MiB));
  }
  await measure('read the file, File.stream()', 'sender', () => page.evaluate(async () => {
    const f = (document.querySelector('#bench-file') as HTMLInputElement).files![0]!;
    const r = f.stream().getReader();
    for (;;) if ((await r.read()).done) break;
  }));
  await measure('SHA-256 of each 256 KiB chunk (WebCrypto)', 'sender and receiver', () => page.evaluate(async (n) => {
    const buf = crypto.getRandomValues(new Uint8Array(65536));
    const chunk = new Uint8Array(256 * 1024);
    for (let o = 0; o < chunk.length; o += 65536) chunk.set(buf, o);
    for (let i = 0; i < n; i++) await crypto.subtle.digest('SHA-256', chunk);
  }, bytes / (256 * 1024)));
  await measure('whole-file SHA-256, incremental (hash-wasm)', 'sender and receiver', () => page.evaluate(async (n) => {
    const chunk = crypto.getRandomValues(new Uint8Array(65536));
    const h = await (window as any).createSHA256();
    h.init();
    for (let i = 0; i < n; i++) h.update(chunk);
    h.digest();
  }, bytes / 65536));
  await measure('64 KiB messages copied into a new 256 KiB chunk', 'receiver', () => page.evaluate(async (n) => {
    const piece = crypto.getRandomValues(new Uint8Array(65536));
    let keep = 0;
    for (let i = 0; i < n; i++) {
      const c = new Uint8Array(256 * 1024);
      for (let o = 0; o < c.length; o += 65536) c.set(piece, o);
      keep ^= c[i & 0xffff]!;
    }
    return keep;
  }, bytes / (256 * 1024)));
  await measure('postMessage of each 256 KiB chunk to a worker (transferred) and a reply', 'receiver', () => page.evaluate(async (n) => {
    const w = (window as any).benchWorker as Worker;
    await new Promise<void>((done) => {
      let sent = 0, back = 0;
      const pump = () => {
        while (sent < n && sent - back < 16) {
          const b = new ArrayBuffer(256 * 1024);
          w.postMessage({ op: 'echo', rid: sent++, b }, [b]);
        }
      };
      w.onmessage = () => (++back === n ? done() : pump());
      pump();
    });
  }, bytes / (256 * 1024)));
  await page.evaluate((b) => (window as any).call({ op: 'open', bytes: b }), bytes);
  await measure('write to OPFS, 256 KiB chunks (sync access handle, flush per 10 MiB)', 'receiver', () => page.evaluate((n) => (window as any).call({ op: 'write', n }), bytes / (256 * 1024)));
  await measure('read back from OPFS, 256 KiB chunks', 'receiver', () => page.evaluate((n) => (window as any).call({ op: 'read', n }), bytes / (256 * 1024)));
  await page.evaluate(() => (window as any).call({ op: 'close' }));
  await page.close();
  return out;
}

// ---- --profile: where the CPU goes ----

/** threadTimes — CPU seconds of every thread of this browser, keyed `pid/tid`, with its process and thread names. */
export function threadTimes(browser: Browser): Map<string, { pid: number; proc: string; thread: string; secs: number }> {
  const out = new Map<string, { pid: number; proc: string; thread: string; secs: number }>();
  for (const pid of browserProcs(browser).keys()) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const proc = /--utility-sub-type=[a-z]+\.mojom\.(\w+)/.exec(cmd)?.[1] ?? /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const thread = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d/]+$/, '');
        out.set(`${pid}/${tid}`, { pid, proc, thread, secs: statTimes(stat)[1] });
      }
    } catch {
      // The process or thread ended meanwhile.
    }
  }
  return out;
}

/** rendererPid — which renderer process runs `page`: the one whose main thread a short busy loop there shows up in. */
export async function rendererPid(page: Page): Promise<number> {
  const before = threadTimes(page.browser());
  await page.evaluate(() => {
    const end = performance.now() + 400;
    while (performance.now() < end);
  });
  let best = [0, 0];
  for (const [k, t] of threadTimes(page.browser())) {
    const d = t.secs - (before.get(k)?.secs ?? 0);
    if (k === `${t.pid}/${t.pid}` && t.proc === 'renderer' && d > best[1]!) best = [t.pid, d];
  }
  return best[0]!;
}

type ThreadCpu = Map<string, number>;

/** threadCpu — CPU seconds per GiB by "process: thread" between two threadTimes snapshots (renderers named by `roles`). */
export function threadCpu(before: ReturnType<typeof threadTimes>, after: ReturnType<typeof threadTimes>, roles: Map<number, string>, gib: number): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const [k, t] of after) {
    const d = t.secs - (before.get(k)?.secs ?? 0);
    if (d <= 0) continue;
    const key = `${roles.get(t.pid) ?? t.proc}: ${k === `${t.pid}/${t.pid}` ? 'main' : t.thread}`;
    out.set(key, (out.get(key) ?? 0) + d / gib);
  }
  return out;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** sourceMap — maps a generated (line, column) of a bundle in public/build to "file:line name" in src/ (a small VLQ decoder). */
function sourceMap(file: string): (line: number, col: number) => string | null {
  let map: { sources: string[]; names: string[]; mappings: string };
  try {
    map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
  } catch {
    return () => null;
  }
  const lines: number[][][] = [];
  let src = 0, sl = 0, sc = 0, nm = 0;
  for (const line of map.mappings.split(';')) {
    const segs: number[][] = [];
    let gc = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const v: number[] = [];
      let shift = 0, val = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        val += (d & 31) * 2 ** shift;
        if (d & 32) shift += 5;
        else {
          v.push(val & 1 ? -Math.floor(val / 2) : Math.floor(val / 2));
          val = 0;
          shift = 0;
        }
      }
      gc += v[0]!;
      if (v.length < 4) continue;
      src += v[1]!; sl += v[2]!; sc += v[3]!;
      if (v.length >= 5) nm += v[4]!;
      segs.push([gc, src, sl, v.length >= 5 ? nm : -1]);
    }
    lines.push(segs);
  }
  return (line, col) => {
    const segs = lines[line];
    if (!segs?.length) return null;
    let hit = segs[0]!;
    for (const s of segs) if (s[0]! <= col) hit = s;
    const name = hit[3]! >= 0 ? ` ${map.names[hit[3]!]}` : '';
    return `${map.sources[hit[1]!]!.replace(/^.*?src\/client\//, '')}:${hit[2]! + 1}${name}`;
  };
}

/** selfTimes — a profile's self time by function (seconds per GiB), bundle frames named through their source maps. */
function selfTimes(p: CpuProfile, gib: number): Map<string, number> {
  const total = (p.endTime - p.startTime) / 1e6;
  const samples = p.samples?.length ?? p.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const per = samples ? total / samples : 0;
  const maps = new Map<string, ReturnType<typeof sourceMap>>();
  const out = new Map<string, number>();
  for (const n of p.nodes) {
    if (!n.hitCount) continue;
    const { functionName: fn, url, lineNumber, columnNumber } = n.callFrame;
    let label = fn || '(anonymous)';
    const bundle = /\/build\/(.+\.js)$/.exec(url)?.[1];
    if (bundle) {
      let m = maps.get(bundle);
      if (!m) maps.set(bundle, (m = sourceMap(path.join('public/build', bundle))));
      label = m(lineNumber, columnNumber) ?? `${bundle} ${fn}`;
      if (label.includes('node_modules/hash-wasm')) label = `hash-wasm ${fn}`;
    } else if (url.startsWith('wasm://')) {
      label = 'hash-wasm (wasm)';
    } else if (url) {
      label = `${fn || '(anonymous)'} ${url.slice(0, 40)}`;
    }
    out.set(label, (out.get(label) ?? 0) + (n.hitCount * per) / gib);
  }
  return out;
}

/** startProfiles — sampled CPU profiles of the sender page, the receiver page and its writer worker. */
async function startProfiles(ada: Page, bob: Page): Promise<() => Promise<Map<string, CpuProfile>>> {
  const sessions = new Map<string, { send(m: string, p?: object): Promise<unknown> }>();
  sessions.set('sender page', await ada.createCDPSession());
  sessions.set('receiver page', await bob.createCDPSession());
  const worker = bob.workers().find((w) => w.url().includes('opfs-writer'));
  if (worker) sessions.set('receiver worker', worker.client);
  for (const s of sessions.values()) {
    await s.send('Profiler.enable');
    await s.send('Profiler.setSamplingInterval', { interval: 1000 });
    await s.send('Profiler.start');
  }
  return async () => {
    const out = new Map<string, CpuProfile>();
    for (const [k, s] of sessions) out.set(k, ((await s.send('Profiler.stop')) as { profile: CpuProfile }).profile);
    return out;
  };
}

export const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

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
    const roles = new Map<number, string>();
    if (args.profile) {
      roles.set(await rendererPid(ada.page), 'sender tab').set(await rendererPid(bob.page), 'receiver tab');
      // A small transfer first: the writer worker starts (so it can be profiled) and the code is warm.
      const warm = await randomFile(dir, 'warm.bin', 16 * MiB);
      await hearthTransfer(ada.page, bob.page, warm.file, warm.sha256);
      rmSync(warm.file);
    }
    for (const size of sizes) {
      const f = await randomFile(dir, `bench-${size}.bin`, size * MiB);
      for (let r = 0; r < runs; r++) {
        const t0 = threadTimes(browser);
        const raw = await rawBlast(ada.page, bob.page, size * MiB);
        let t1 = threadTimes(browser);
        // Per-thread CPU from Accept on (not the hashing ahead while the offer waited).
        const h = await hearthTransfer(ada.page, bob.page, f.file, f.sha256, {}, args.accept[0], () => args.profile && (t1 = threadTimes(browser)));
        if (args.profile) {
          const gib = size / 1024;
          const rawT = threadCpu(t0, t1, roles, gib);
          const hT = threadCpu(t1, threadTimes(browser), roles, gib);
          const keys = [...new Set([...rawT.keys(), ...hT.keys()])].filter((k) => Math.max(rawT.get(k) ?? 0, hT.get(k) ?? 0) >= 0.3)
            .sort((a, b) => (hT.get(b) ?? 0) - (hT.get(a) ?? 0));
          console.log(`\nCPU by thread, ${size} MiB run ${r + 1} (s/GiB; raw ${fmt(raw.mibps)} MiB/s, Hearth ${fmt(h.mibps)} MiB/s)`);
          table(['process: thread', 'raw', 'Hearth', 'Hearth − raw'], keys.map((k) => [k, fmt(rawT.get(k) ?? 0), fmt(hT.get(k) ?? 0), fmt((hT.get(k) ?? 0) - (rawT.get(k) ?? 0))]));
          // A second Hearth run under the sampling profiler (which costs a little itself).
          const stop = await startProfiles(ada.page, bob.page);
          const hp = await hearthTransfer(ada.page, bob.page, f.file, f.sha256, {}, args.accept[0]);
          for (const [where, prof] of await stop()) {
            const self = [...selfTimes(prof, gib)].sort((a, b) => b[1] - a[1]).slice(0, 22);
            console.log(`\nProfiled run (${fmt(hp.mibps)} MiB/s): ${where}, self time (s/GiB)`);
            table(['function', 's/GiB'], self.map(([k, v]) => [k, fmt(v, 2)]));
          }
        }
        const row = (when: string, x: HearthRun) => {
          rows.push([`${size} MiB`, when, fmt(x.prepMs / 1000, 1), `${fmt(raw.mibps)} (${fmt(raw.startPauseMs, 0)} ms)`, fmt(x.mibps), `${fmt((x.mibps / raw.mibps) * 100, 0)} %`, fmt(raw.cpu), fmt(x.cpu), `${fmt((raw.cpu / x.cpu) * 100, 0)} %`, fmt(x.peak / MiB), fmt(x.verifyMs, 0), String(x.resent)]);
          console.error(`  ${size} MiB run ${r + 1}, accepted ${when}: raw ${fmt(raw.mibps)} MiB/s, hearth ${fmt(x.mibps)} MiB/s, cpu ${fmt(raw.cpu)} / ${fmt(x.cpu)} s per GiB, peak ${fmt(x.peak / MiB)} MiB`);
        };
        row(args.accept[0], h);
        // The other moment of Accept, right after, against the same raw run.
        for (const when of args.accept.slice(1)) row(when, await hearthTransfer(ada.page, bob.page, f.file, f.sha256, {}, when));
      }
      rmSync(f.file);
    }
    console.log('\nThroughput (MiB/s; Hearth = Accept → Verified on both sides, hashing and verification on)');
    console.log('Accepted "ready": once the sender had hashed the file ahead, "prep s" after the offer showed; "now": at once (sending hashes the rest).');
    console.log('CPU: seconds of CPU per GiB across all browser processes (both tabs, network, browser); "CPU ratio" = raw / Hearth.');
    table(['file', 'accepted', 'prep s', 'raw MiB/s (longest pause at start)', 'Hearth MiB/s', 'ratio', 'raw CPU s/GiB', 'Hearth CPU s/GiB', 'CPU ratio', 'peak rx heap MiB', 'final check ms', 'resent B'], rows);

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
            const h = await hearthTransfer(ada.page, bob.page, f.file, f.sha256, { chunkSize: c * 1024, windowBytes: w * MiB }, args.accept[0]);
            trows.push([`${c} KiB`, `${w} MiB`, fmt(raw.mibps), fmt(h.mibps), `${fmt((h.mibps / raw.mibps) * 100, 0)} %`, fmt(raw.cpu), fmt(h.cpu), fmt(h.peak / MiB)]);
            console.error(`  chunk ${c} KiB window ${w} MiB: raw ${fmt(raw.mibps)}, hearth ${fmt(h.mibps)}, cpu ${fmt(raw.cpu)} / ${fmt(h.cpu)}`);
          }
        }
      }
      console.log(`\nChunk size and window (${f.size / MiB} MiB, MiB/s)`);
      table(['chunk', 'window', 'raw MiB/s', 'Hearth MiB/s', 'ratio', 'raw CPU s/GiB', 'Hearth CPU s/GiB', 'peak rx MiB'], trows);
      await ada.page.evaluate(() => Object.assign((window as any).__hearth.transfers.tuning, { chunkSize: 256 * 1024, windowBytes: 4 * 1024 * 1024 }));
    }

    if (args['raw-messages']) {
      const mrows: string[][] = [];
      const bytes = Number(args['tune-size']) * MiB;
      for (let r = 0; r < runs; r++) {
        for (const kib of args['raw-messages'].split(',').map(Number)) {
          const raw = await rawBlast(ada.page, bob.page, bytes, kib * 1024);
          mrows.push([`${kib} KiB`, fmt(raw.mibps), fmt(raw.cpu)]);
        }
      }
      console.log(`\nRaw data channel by message size (${bytes / MiB} MiB)`);
      table(['message', 'MiB/s', 'CPU s/GiB'], mrows);
    }
    if (args['raw-start']) {
      const srows: string[][] = [];
      const bytes = Number(args['tune-size']) * MiB;
      for (let r = 0; r < runs; r++) {
        for (const gentle of [false, true]) {
          const raw = await rawBlast(ada.page, bob.page, bytes, 64 * 1024, gentle);
          srows.push([gentle ? `≤ ${DEFAULT_TUNING.startHighWater / 1024} KiB buffered for ${DEFAULT_TUNING.startMs} ms` : 'full buffer at once', fmt(raw.mibps), fmt(raw.startPauseMs, 0)]);
        }
      }
      console.log(`\nRaw data channel: how a fresh channel starts (${bytes / MiB} MiB, each on a new connection)`);
      table(['start', 'MiB/s', 'longest pause in the first 3 s, ms'], srows);
    }
    const partMiB = Number(args['part-size']);
    if (partMiB > 0) {
      const f = await randomFile(dir, 'parts.bin', partMiB * MiB);
      const parts = await partCosts(browser, hearth.origin, f.file, partMiB * MiB);
      rmSync(f.file);
      console.log(`\nWhat each part costs on its own (${partMiB} MiB; CPU summed over all browser processes)`);
      table(['part', 'CPU s per GiB', 'MB/s', 'who pays'], parts.map((p) => [p.part, fmt(p.cpu, 2), fmt(p.mbps, 0), p.role]));
    }
  } finally {
    await browser.close();
    await hearth.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function table(head: string[], rows: string[][]): void {
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
