// Shared-files swarm benchmark: one receiver pulling a file from 1, 2 and 3 holders, each holder slowed the same way
// (DevTools CPU throttling, as a phone would be), beside a raw data channel from one equally slowed holder; receiver memory.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'puppeteer';
import { launchBrowser, registerInBrowser, type TestUser } from '../../test/helpers/browser.js';
import { startTestHearth } from '../../test/helpers/hearth.js';
import { startRedis, tempDir } from '../../test/helpers/processes.js';
import { randomFile } from '../../test/helpers/files.js';
import { fmt, heapSampler, rawBlast, rendererPid, table, threadCpu, threadTimes } from './transfer.js';

const MiB = 1024 * 1024;

/** options — npm run bench -- swarm --sizes 64,256 --holders 1,2,3 --rate 4 [--profile]. */
function options(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    sizes: { type: 'string', default: '64,256' },
    holders: { type: 'string', default: '1,2,3' },
    /** DevTools CPU throttling rate of every holder tab (1: none). */
    rate: { type: 'string', default: '4' },
    runs: { type: 'string', default: '1' },
    /** CPU seconds per GiB by process and thread for every run: which side is CPU-bound. */
    profile: { type: 'boolean', default: false },
  } });
  const list = (s: string) => s.split(',').map(Number).filter((n) => n > 0);
  return { sizes: list(values.sizes), holders: list(values.holders).filter((n) => n <= 3), rate: Number(values.rate), runs: Number(values.runs), profile: values.profile };
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

const throttle = (pages: Page[], rate: number) => Promise.all(pages.map((p) => p.emulateCPUThrottling(rate > 1 ? rate : null)));

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

export async function main(argv: string[] = []): Promise<void> {
  const args = options(argv);
  const redis = await startRedis();
  const hearth = await startTestHearth({}, { redisUrl: redis.url, heartbeatMs: 1_000 });
  const browser = await launchBrowser();
  const dir = tempDir('bench-swarm');
  try {
    const rx = await user(browser, hearth.origin, 'rex', 'Rex', true);
    const holders: TestUser[] = [];
    for (let k = 1; k <= Math.max(...args.holders); k++) holders.push(await user(browser, hearth.origin, `holder${k}`, `Holder ${k}`));
    const names = holders.map((_, k) => `Holder ${k + 1}`);
    const roles = new Map<number, string>();
    if (args.profile) {
      roles.set(await rendererPid(rx.page), 'receiver tab');
      for (const [k, h] of holders.entries()) roles.set(await rendererPid(h.page), `holder ${k + 1} tab`);
    }
    const rows: string[][] = [];
    const cpuRows = new Map<string, Map<string, number>>();
    for (const size of args.sizes) {
      for (let r = 0; r < args.runs; r++) {
        // The raw channel from one holder, unslowed and slowed as the holders will be.
        const fast = await rawBlast(holders[0]!.page, rx.page, size * MiB);
        await throttle([holders[0]!.page], args.rate);
        const t0 = threadTimes(browser);
        const raw = await rawBlast(holders[0]!.page, rx.page, size * MiB);
        if (args.profile) cpuRows.set(`${size} MiB raw`, threadCpu(t0, threadTimes(browser), roles, size / 1024));
        await throttle([holders[0]!.page], 1);
        rows.push([`${size} MiB`, 'raw channel', fmt(raw.mibps), '', '1.00×', '', '', `unslowed ${fmt(fast.mibps)} MiB/s`]);
        console.error(`  ${size} MiB raw: ${fmt(raw.mibps)} MiB/s slowed ×${args.rate} (${fmt(fast.mibps)} unslowed)`);
        let one = NaN;
        for (const n of args.holders) {
          const f = await randomFile(dir, `swarm-${size}-${n}-${r}.bin`, size * MiB);
          const these = holders.slice(0, n);
          await Promise.all(these.map((h) => share(h.page, f.file, f.sha256)));
          await rx.page.waitForFunction((i, k) => (window as any).__hearth.files.items().find((x: any) => x.id === i)?.holders.length === k, { polling: 100, timeout: 30_000 }, f.sha256, n);
          await throttle(these.map((h) => h.page), args.rate);
          const c0 = threadTimes(browser);
          const s = await swarmDownload(rx.page, f.sha256, size * MiB, names.slice(0, n));
          if (args.profile) cpuRows.set(`${size} MiB ${n} holder${n > 1 ? 's' : ''}`, threadCpu(c0, threadTimes(browser), roles, size / 1024));
          await throttle(these.map((h) => h.page), 1);
          if (n === 1) one = s.mibps;
          rows.push([`${size} MiB`, `${n} holder${n > 1 ? 's' : ''}`, fmt(s.mibps), fmt(s.verifiedMibps), `${fmt(s.mibps / raw.mibps, 2)}×`, Number.isFinite(one) ? `${fmt(s.mibps / one, 2)}×` : '', fmt(s.peak / MiB), s.shares.map((x) => `${fmt(x * 100, 0)} %`).join(' / ')]);
          console.error(`  ${size} MiB ${n} holders: ${fmt(s.mibps)} MiB/s (${fmt(s.verifiedMibps)} to Verified), ${fmt(s.mibps / raw.mibps, 2)}× raw, peak rx heap ${fmt(s.peak / MiB)} MiB`);
          for (const h of these) await h.page.evaluate((i) => (window as any).__hearth.files.stopSharing(i), f.sha256);
          await rx.page.evaluate((i) => (window as any).__hearth.files.stopSharing(i), f.sha256);
          rmSync(f.file);
        }
      }
    }
    console.log(`\nSwarm download (MiB/s to the last byte on disk; "to Verified" adds reading the file back for its SHA-256); every holder tab CPU-throttled ×${args.rate}`);
    console.log('Goal: 2 holders ≥ 1.7× and 3 holders ≥ 2.4× the raw channel from one equally slowed holder; receiver page heap flat and < 150 MiB.');
    table(['file', 'from', 'MiB/s', 'to Verified', '× raw', '× 1 holder', 'peak rx heap MiB', 'share of bytes per holder'], rows);
    if (args.profile) {
      const keys = [...new Set([...cpuRows.values()].flatMap((m) => [...m.keys()]))]
        .filter((k) => Math.max(...[...cpuRows.values()].map((m) => m.get(k) ?? 0)) >= 1)
        .sort((a, b) => Math.max(...[...cpuRows.values()].map((m) => m.get(b) ?? 0)) - Math.max(...[...cpuRows.values()].map((m) => m.get(a) ?? 0)));
      console.log('\nCPU seconds per GiB by process: thread (over the whole run, all browser processes)');
      table(['process: thread', ...cpuRows.keys()], keys.map((k) => [k, ...[...cpuRows.values()].map((m) => fmt(m.get(k) ?? 0))]));
    }
  } finally {
    await browser.close();
    await hearth.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
  process.exit(0);
}
