// Starts a real Hearth (real HTTPS, real Redis) on port 0 for integration and e2e tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer';
import { createClient } from 'redis';
import { loadAssets } from '../../src/server/assets.js';
import { loadConfig, type Config, type ConnectionLimits, type ThrottleLimits } from '../../src/server/config.js';
import { startHearth, type RunningHearth } from '../../src/server/hearth.js';
import { createLogger } from '../../src/server/log.js';
import { ensureCertificates, type TlsMaterial } from '../../src/server/tls/certs.js';
import { launchBrowser } from './browser.js';
import { sharedRedis } from './root-hooks.js';
import { tempDir } from './processes.js';

let tls: (TlsMaterial & { ca: Buffer; certsDir: string }) | null = null;

/** testTls — one certificate set per run, made by the real gen-certs.sh. */
export async function testTls(): Promise<TlsMaterial & { ca: Buffer; certsDir: string }> {
  if (!tls) {
    const certsDir = tempDir('certs', { keep: 'run' }); // shared by every suite of the run
    const material = await ensureCertificates({ certsDir, tlsCert: null, tlsKey: null });
    tls = { ...material, ca: readFileSync(path.join(certsDir, 'ca.crt')), certsDir };
  }
  return tls;
}

export interface TestHearth extends RunningHearth {
  config: Config;
  /** origin — https://127.0.0.1:PORT (the certificate covers 127.0.0.1). */
  origin: string;
}

/** startTestHearth — a fresh Hearth on an emptied Redis (unless flush: false: a second instance); env overrides config. */
export async function startTestHearth(env: Record<string, string> = {}, extra: { throttle?: Partial<ThrottleLimits>; redisUrl?: string; heartbeatMs?: number; signalingLimits?: Partial<ConnectionLimits>; flush?: boolean } = {}): Promise<TestHearth> {
  const redisUrl = extra.redisUrl ?? sharedRedis().url;
  if (extra.flush !== false) {
    const flush = createClient({ url: redisUrl });
    await flush.connect();
    await flush.flushAll();
    await flush.close();
  }
  const material = await testTls();
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir('data'), CERTS_DIR: material.certsDir,
    REDIS_URL: redisUrl, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env,
  });
  const running = await startHearth({
    config,
    log: createLogger(config.logLevel),
    assets: loadAssets(),
    tls: material,
    redisUrl,
    sessionSecret: 'test-secret-test-secret-test-secret-0123456789',
    // Tests register many accounts from 127.0.0.1; the registration cap has its own test.
    throttle: { registrationsPerHour: 10_000, ...extra.throttle },
    heartbeatMs: extra.heartbeatMs ?? (process.env.HEARTBEAT_MS ? Number(process.env.HEARTBEAT_MS) : undefined),
    signalingLimits: extra.signalingLimits,
  });
  return { ...running, config, origin: `https://127.0.0.1:${running.port}` };
}

/**
 * useHearthAndBrowser — for the enclosing mocha `describe`: a fresh Hearth and a Chromium,
 * started before its tests and stopped after them. Reassign `hearth` to restart the server.
 */
export function useHearthAndBrowser(): { hearth: TestHearth; browser: Browser } {
  const env = {} as { hearth: TestHearth; browser: Browser };
  before(async () => {
    env.hearth = await startTestHearth();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.hearth?.close();
  });
  return env;
}
