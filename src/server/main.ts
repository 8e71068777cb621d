// Hearth's entry point: config, certificates, managed Redis, listen, and a clean shutdown.
import os from 'node:os';
import { loadAssets, AssetsMissingError } from './assets.js';
import { loadSessionSecret } from './auth/session.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { assertPortFree, PortInUseError, startHearth, type RunningHearth } from './hearth.js';
import { createLogger } from './log.js';
import { ManagedRedisError, startManagedRedis, type ManagedRedis } from './managed-redis.js';
import { ensureCertificates, lanAddresses } from './tls/certs.js';

const SHUTDOWN_LIMIT_MS = 4_500;

/** fail — one clear line for the person starting Hearth, never a stack trace. */
function fail(message: string, code = 1): never {
  process.stderr.write(`hearth: ${message}\n`);
  process.exit(code);
}

function banner(config: Config, port: number, caFingerprint: string | null): string {
  const host = os.hostname().toLowerCase().replace(/\.local$/, '');
  const fmt = (h: string) => `https://${h.includes(':') ? `[${h}]` : h}:${port}/`;
  const urls = [...lanAddresses().map(fmt), fmt(`${host}.local`), fmt('localhost')];
  const lines = [
    '',
    `Hearth is running. Open one of these addresses in a browser on your network:`,
    ...urls.map((u) => `  ${u}`),
  ];
  if (caFingerprint) {
    lines.push('', `First visit from a new device? Install the local CA from /ca.crt and check its fingerprint:`, `  SHA-256 ${caFingerprint}`);
  }
  lines.push('', `Data: ${config.dataDir}   Stop with Ctrl+C.`, '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 78);
    throw err;
  }
  const log = createLogger(config.logLevel);
  let assets;
  try {
    assets = loadAssets();
  } catch (err) {
    if (err instanceof AssetsMissingError) fail(err.message);
    throw err;
  }

  let tls;
  try {
    tls = await ensureCertificates(config);
  } catch (err) {
    fail(`could not prepare TLS certificates: ${(err as Error).message.split('\n')[0]}`);
  }
  if (tls.issued) log.info({ dir: config.certsDir }, 'issued a server certificate for this machine');

  let managed: ManagedRedis | null = null;
  let running: RunningHearth | null = null;
  try {
    await assertPortFree(config.port, config.host);
    if (config.httpPort) await assertPortFree(config.httpPort, config.host, 'HTTP_PORT');
    if (!config.redisUrl) managed = await startManagedRedis(config.dataDir, log);
    running = await startHearth({
      config, log, assets, tls,
      redisUrl: config.redisUrl ?? managed!.url,
      sessionSecret: await loadSessionSecret(config.dataDir),
    });
  } catch (err) {
    await managed?.stop();
    if (err instanceof PortInUseError || err instanceof ManagedRedisError) fail(err.message);
    fail(`could not start: ${(err as Error).message}`);
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    await running?.close().catch((err) => log.warn({ err }, 'closing the server failed'));
    await managed?.stop().catch((err) => log.warn({ err }, 'stopping redis-server failed'));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  log.info({ port: running.port, host: config.host, redis: managed ? 'managed' : 'external' }, 'hearth listening');
  process.stdout.write(banner(config, running.port, tls.caFingerprint) + '\n');
}

main().catch((err: Error) => fail(`unexpected start-up error: ${err.message}`));
