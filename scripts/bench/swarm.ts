// Shared-files swarm benchmark: one receiver pulling a file from 1, 2 and 3 holders, each holder slowed the same way
// (DevTools CPU throttling, as a phone would be), beside a raw data channel from one equally slowed holder; receiver memory.
import { accessSync, constants, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, registerInBrowser, type TestUser } from '../../test/helpers/browser.js';
import { startTestHearth } from '../../test/helpers/hearth.js';
import { startRedis, tempDir } from '../../test/helpers/processes.js';
import { randomFile } from '../../test/helpers/files.js';
import { browserProcs, fmt, heapSampler, rawBlast, rendererPid, table, threadCpu, threadTimes } from './transfer.js';

const MiB = 1024 * 1024;

/** options — npm run bench -- swarm --sizes 64,256 --holders 1,2,3 --slow cgroup --cpu 0.15 [--profile]. */
function options(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    sizes: { type: 'string', default: '64,256' },
    holders: { type: 'string', default: '1,2,3' },
    /**
     * How holders are slowed: 'devtools' (page.emulateCPUThrottling: Chromium busy-waits to take the
     * time away, so every throttled tab burns a core of this machine) or 'cgroup' (each holder's whole
     * browser gets a CPU quota from the kernel, as a slower device would; needs a writable cgroup cpu
     * controller). Default: cgroup where it can, else devtools.
     */
    slow: { type: 'string', default: '' },
    /** DevTools CPU throttling rate (--slow devtools). */
    rate: { type: 'string', default: '4' },
    /** CPU quota of each holder's browser, in cores (--slow cgroup). */
    cpu: { type: 'string', default: '0.15' },
    runs: { type: 'string', default: '1' },
    /** CPU seconds per GiB by process and thread for every run: which side is CPU-bound. */
    profile: { type: 'boolean', default: false },
  } });
  const list = (s: string) => s.split(',').map(Number).filter((n) => n > 0);
  const slow = values.slow || (writable(CGROUP_CPU) ? 'cgroup' : 'devtools');
  if (slow !== 'cgroup' && slow !== 'devtools') throw new Error(`--slow is devtools or cgroup, not ${slow}`);
  return { sizes: list(values.sizes), holders: list(values.holders).filter((n) => n <= 3), slow, rate: Number(values.rate), cpu: Number(values.cpu), runs: Number(values.runs), profile: values.profile };
}

const CGROUP_CPU = '/sys/fs/cgroup/cpu';

function writable(dir: string): boolean {
  try {
    accessSync(path.join(dir, 'cgroup.procs'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Slower — slows one holder's device, and lets it run free again. */
interface Slower {
  set(on: boolean): Promise<void>;
  close(): void;
}

/** devtoolsSlower — DevTools CPU throttling of the holder's tab (Chromium spins a core while it throttles). */
function devtoolsSlower(page: Page, rate: number): Slower {
  return { set: async (on) => page.emulateCPUThrottling(on && rate > 1 ? rate : null), close: () => {} };
}

/**
 * cgroupSlower — a cgroup (v1 cpu controller) holding every process of the holder's browser: on, it
 * gets `cores` of CPU time; off, no limit. Processes started later (renderers, workers' hosts) are
 * moved in whenever it is switched on.
 */
function cgroupSlower(browser: Browser, name: string, cores: number): Slower {
  const dir = path.join(CGROUP_CPU, `hearth-bench-${process.pid}-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
  const move = (to: string) => {
    for (const pid of browserProcs(browser).keys()) {
      try {
        writeFileSync(path.join(to, 'cgroup.procs'), String(pid));
      } catch {
        // It ended meanwhile.
      }
    }
  };
  return {
    set: async (on) => {
      if (on) move(dir);
      writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), on ? String(Math.round(cores * 100_000)) : '-1');
    },
    close: () => {
      move(CGROUP_CPU);
      try {
        rmdirSync(dir);
      } catch {
        // Still in use by a process that escaped the move; the kernel keeps it until that ends.
      }
    },
  };
}

/**
 * user — a registered user on the Shared files page. The receiver uses the browser's default
 * (on-disk) profile: an off-the-record context keeps OPFS in the browser process's memory.
 */
async function user(browser: Browser, origin: string, name: string, display: string, onDisk = false): Promise<TestUser> {
  const ctx = onDisk ? browser.defaultBrowserContext() : await browser.createBrowserContext();
  const page = await ctx.newPage();
  const u = { ctx, page, name, errors: [] as string[] };
  page.on('pageerror', (e) => console.error(`[${name}]`, (e as Error).message));
  await registerInBrowser(u, origin, name, display);
  await page.goto(`${origin}/files`);
  await page.waitForFunction(() => !!(window as any).__hearth?.files && (window as any).__hearth.signaling?.isOpen, { polling: 100, timeout: 20_000 });
  return u;
}

/** share — Share files with `file` picked; resolves once the server lists it as held. */
async function share(page: Page, file: string, id: string): Promise<void> {
  const [chooser] = await Promise.all([page.waitForFileChooser(), page.locator('::-p-aria(Share files)').setTimeout(10_000).click()]);
  await chooser.accept([file]);
  await page.waitForFunction((i) => (window as any).__hearth.files.mine().some((m: any) => m.id === i && m.held), { polling: 100, timeout: 300_000 }, id);
}


interface SwarmRun { mibps: number; verifiedMibps: number; peak: number; shares: number[] }

/** swarmDownload — `rx` downloads item `id` (already listed with every holder); the clock starts at download(). */
async function swarmDownload(rx: Page, id: string, size: number, names: string[]): Promise<SwarmRun> {
  const stopHeap = await heapSampler(rx);
  const t0 = performance.now();
  await rx.evaluate((i) => (window as any).__hearth.files.download(i), id);
  const find = `window.__hearth.files.downloads().find((d) => d.id === ${JSON.stringify(id)})`;
  // The last byte on disk, then the whole file's SHA-256 read back and compared.
  await rx.waitForFunction(`(${find}) && (${find}.done >= ${size} || ['verified', 'failed'].includes(${find}.state))`, { polling: 20, timeout: 900_000 });
  const tData = performance.now();
  const d = (await (await rx.waitForFunction(`['verified', 'failed'].includes((${find})?.state) && ${find}`, { polling: 20, timeout: 900_000 })).jsonValue()) as { state: string; error: string | null; from: { displayName: string; bytes: number }[] };
  const t1 = performance.now();
  const peak = await stopHeap();
  if (d.state !== 'verified') throw new Error(`the download failed: ${d.error}`);
  const sum = d.from.reduce((n, f) => n + f.bytes, 0);
  return {
    mibps: size / MiB / ((tData - t0) / 1000),
    verifiedMibps: size / MiB / ((t1 - t0) / 1000),
    peak,
    shares: names.map((n) => (d.from.find((f) => f.displayName === n)?.bytes ?? 0) / sum),
  };
}

/** Who runs where: every person has a browser of their own (its own network process, as a device would). */
interface Device {
  label: string;
  browser: Browser;
  user: TestUser;
}

/** cpuByThread — CPU seconds of every thread of these browsers, keyed `pid/tid`. */
const cpuByThread = (devices: Device[]) => new Map(devices.flatMap((d) => [...threadTimes(d.browser)]));

/** deviceRoles — "holder 1 tab", "holder 1 NetworkService"… for every process of these browsers. */
async function deviceRoles(devices: Device[]): Promise<Map<number, string>> {
  const roles = new Map<number, string>();
  for (const d of devices) {
    const tab = await rendererPid(d.user.page);
    for (const t of threadTimes(d.browser).values()) roles.set(t.pid, `${d.label} ${t.pid === tab ? 'tab' : t.proc}`);
  }
  return roles;
}

export async function main(argv: string[] = []): Promise<void> {
  const args = options(argv);
  const redis = await startRedis();
  const hearth = await startTestHearth({}, { redisUrl: redis.url, heartbeatMs: 1_000 });
  const devices: Device[] = [];
  const slowers: Slower[] = [];
  const dir = tempDir('bench-swarm');
  try {
    const rxBrowser = await launchBrowser();
    devices.push({ label: 'receiver', browser: rxBrowser, user: await user(rxBrowser, hearth.origin, 'rex', 'Rex', true) });
    const rx = devices[0]!.user;
    const holders: Device[] = [];
    for (let k = 1; k <= Math.max(...args.holders); k++) {
      const browser = await launchBrowser();
      const d = { label: `holder ${k}`, browser, user: await user(browser, hearth.origin, `holder${k}`, `Holder ${k}`) };
      holders.push(d);
      devices.push(d);
      slowers.push(args.slow === 'cgroup' ? cgroupSlower(browser, `h${k}`, args.cpu) : devtoolsSlower(d.user.page, args.rate));
    }
    const slowDown = (n: number, on: boolean) => Promise.all(slowers.slice(0, n).map((s) => s.set(on)));
    const names = holders.map((_, k) => `Holder ${k + 1}`);
    const how = args.slow === 'cgroup' ? `each holder's browser limited to ${args.cpu} of a core (cgroup CPU quota)` : `each holder tab CPU-throttled ×${args.rate} (DevTools)`;
    const rows: string[][] = [];
    const cpuRows = new Map<string, Map<string, number>>();
    const measure = async <T>(key: string, size: number, run: () => Promise<T>): Promise<T> => {
      const t0 = cpuByThread(devices);
      const out = await run();
      if (args.profile) cpuRows.set(key, threadCpu(t0, cpuByThread(devices), await deviceRoles(devices), size / 1024));
      return out;
    };
    for (const size of args.sizes) {
      for (let r = 0; r < args.runs; r++) {
        // The raw channel from one holder, free and slowed as the holders will be.
        const fast = await measure(`${size} MiB raw free`, size, () => rawBlast(holders[0]!.user.page, rx.page, size * MiB));
        await slowDown(1, true);
        const raw = await measure(`${size} MiB raw`, size, () => rawBlast(holders[0]!.user.page, rx.page, size * MiB));
        await slowDown(1, false);
        rows.push([`${size} MiB`, 'raw channel', fmt(raw.mibps), '', '1.00×', '', '', `not slowed: ${fmt(fast.mibps)} MiB/s`]);
        console.error(`  ${size} MiB raw: ${fmt(raw.mibps)} MiB/s slowed (${fmt(fast.mibps)} not slowed)`);
        let one = NaN;
        for (const n of args.holders) {
          const f = await randomFile(dir, `swarm-${size}-${n}-${r}.bin`, size * MiB);
          const these = holders.slice(0, n);
          await Promise.all(these.map((h) => share(h.user.page, f.file, f.sha256)));
          await rx.page.waitForFunction((i, k) => (window as any).__hearth.files.items().find((x: any) => x.id === i)?.holders.length === k, { polling: 100, timeout: 30_000 }, f.sha256, n);
          await slowDown(n, true);
          const s = await measure(`${size} MiB ${n} holder${n > 1 ? 's' : ''}`, size, () => swarmDownload(rx.page, f.sha256, size * MiB, names.slice(0, n)));
          await slowDown(n, false);
          if (n === 1) one = s.mibps;
          rows.push([`${size} MiB`, `${n} holder${n > 1 ? 's' : ''}`, fmt(s.mibps), fmt(s.verifiedMibps), `${fmt(s.mibps / raw.mibps, 2)}×`, Number.isFinite(one) ? `${fmt(s.mibps / one, 2)}×` : '', fmt(s.peak / MiB), s.shares.map((x) => `${fmt(x * 100, 0)} %`).join(' / ')]);
          console.error(`  ${size} MiB ${n} holders: ${fmt(s.mibps)} MiB/s (${fmt(s.verifiedMibps)} to Verified), ${fmt(s.mibps / raw.mibps, 2)}× raw, peak rx heap ${fmt(s.peak / MiB)} MiB`);
          for (const h of these) await h.user.page.evaluate((i) => (window as any).__hearth.files.stopSharing(i), f.sha256);
          await rx.page.evaluate((i) => (window as any).__hearth.files.stopSharing(i), f.sha256);
          rmSync(f.file);
        }
      }
    }
    // Other work on the machine shares its cores with every browser here: say how busy it was.
    console.log(`\nLoad average during the run (1, 5, 15 min): ${loadavg().map((x) => x.toFixed(1)).join(', ')} on ${availableParallelism()} cores`);
    console.log(`Swarm download (MiB/s to the last byte on disk; "to Verified" adds reading the file back for its SHA-256); ${how}; every person in a browser of their own`);
    console.log('Goal: 2 holders ≥ 1.7× and 3 holders ≥ 2.4× the raw channel from one equally slowed holder; receiver page heap flat and < 150 MiB.');
    table(['file', 'from', 'MiB/s', 'to Verified', '× raw', '× 1 holder', 'peak rx heap MiB', 'share of bytes per holder'], rows);
    if (args.profile) {
      const most = (k: string) => Math.max(...[...cpuRows.values()].map((m) => m.get(k) ?? 0));
      const keys = [...new Set([...cpuRows.values()].flatMap((m) => [...m.keys()]))].filter((k) => most(k) >= 1).sort((a, b) => most(b) - most(a));
      console.log('\nCPU seconds per GiB by process: thread (whole run, every browser)');
      table(['process: thread', ...cpuRows.keys()], keys.map((k) => [k, ...[...cpuRows.values()].map((m) => fmt(m.get(k) ?? 0))]));
    }
  } finally {
    for (const d of devices) await d.browser.close();
    for (const s of slowers) s.close();
    await hearth.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
  process.exit(0);
}
