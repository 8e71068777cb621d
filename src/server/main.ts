// Hearth's entry point: config, certificates, managed Redis, listen, and a clean shutdown.
import { loadAssets, AssetsMissingError } from './assets.js';
import { loadSessionSecret } from './auth/session.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { acquireDataDirLock, DataDirInUseError, type DataDirLock } from './data-dir-lock.js';
import { assertPortFree, PortInUseError, startHearth, within, type RunningHearth } from './hearth.js';
import { createLogger } from './log.js';
import { ManagedRedisError, startManagedRedis, type ManagedRedis } from './managed-redis.js';
import { ManagedTurnError, startManagedTurn, type ManagedTurn } from './turn/managed-turn.js';
import { publicAddresses } from './net/addresses.js';
import { startMdns, type MdnsAnnouncer } from './net/mdns.js';
import { qrTerminal } from './qr.js';
import { ensureCertificates, type TlsMaterial } from './tls/certs.js';

// Shutdown budget (a supervisor's stop timeout is often 5 s): every step is bounded, and the
// managed Redis is stopped in every outcome, so no orphan ever blocks the next start.
const SERVER_CLOSE_MS = 2_800;
const REDIS_STOP_MS = 1_200;
const TURN_STOP_MS = 1_200;
const SHUTDOWN_LIMIT_MS = 4_600;

/** fail — one clear line for the person starting Hearth, never a stack trace. */
function fail(message: string, code = 1): never {
  process.stderr.write(`hearth: ${message}\n`);
  process.exit(code);
}

async function banner(config: Config, port: number, tls: TlsMaterial): Promise<string> {
  const { caFingerprint } = tls;
  // Only addresses the certificate covers (with its own CA): the others would only show a browser warning.
  const urls = publicAddresses(config, { port, sans: caFingerprint === null ? undefined : tls.sans });
  const lines = [
    '',
    `Hearth is running. Open one of these addresses in a browser on your network:`,
    ...urls.map((u) => `  ${u}`),
    '',
    `On a phone, scan this code to open ${urls[0]}:`,
    (await qrTerminal(urls[0]!)).trimEnd(),
  ];
  if (caFingerprint) {
    // Over HTTP_PORT a device that does not trust the CA yet opens the trust page without a warning.
    const plain = config.httpPort ? ` (or http://${new URL(urls[0]!).hostname}:${config.httpPort}/trust)` : '';
    lines.push('', `First visit from a new device? Open ${urls[0]}trust${plain} to install the local CA, and check its fingerprint:`, `  SHA-256 ${caFingerprint}`);
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
  if (tls.issued && tls.notCovered.length) {
    log.warn({ left_out: tls.notCovered }, 'the local CA may sign only local names and private addresses: the certificate leaves these out (use a .local name or a private address)');
  }
  if (tls.caUnconstrained) {
    log.warn({ dir: config.certsDir }, 'the local CA has no name constraints (made by an older Hearth): devices that trust it would accept it for any site. To re-issue: stop Hearth, delete ca.crt and ca.key in CERTS_DIR, start again, then trust the new CA on each device');
  }

  let lock: DataDirLock | null = null;
  let managed: ManagedRedis | null = null;
  let redisStopped = false;
  let turn: ManagedTurn | null = null;
  let turnStopped = false;
  let running: RunningHearth | null = null;
  let mdns: MdnsAnnouncer | null = null;
  let starting = true;
  let shuttingDown = false;

  // However this process ends (an uncaught error included), its Redis does not outlive it. The
  // lock stays until Redis has really stopped: the next start then waits for it to finish.
  // The same for the managed turnserver.
  process.on('exit', () => {
    if (turn && !turnStopped) turn.abandon('SIGTERM');
    if (managed && !redisStopped) managed.abandon('SIGTERM');
    else lock?.release();
  });
  const stopTurn = async () => {
    if (!turn || turnStopped) return;
    await turn.stop(TURN_STOP_MS).catch((err: Error) => log.warn({ err: err.message }, 'stopping turnserver failed'));
    turnStopped = true;
  };
  // Both children stop side by side (within the shutdown budget); the lock goes once they have.
  const stopRedis = async () => {
    await Promise.all([stopTurn(), (async () => {
      if (!managed || redisStopped) return;
      await managed.stop(REDIS_STOP_MS).catch((err: Error) => log.warn({ err: err.message }, 'stopping redis-server failed'));
      redisStopped = true;
    })()]);
    if (!managed || redisStopped) lock?.release();
  };

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (starting) return; // start-up sees the flag and comes straight here when it is done
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; stopping redis-server and exiting');
      turn?.abandon('SIGKILL');
      managed?.abandon('SIGKILL');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    // The mDNS goodbye (bounded within stop()) goes out while the server closes, not after.
    await Promise.all([
      mdns?.stop(),
      running && within(SERVER_CLOSE_MS, running.close(), () => log.warn('closing the server took too long; going on')),
    ]);
    await stopRedis();
    log.info('stopped');
    process.exit(0);
  };
  // Registered before Redis starts: a signal's default action would kill Hearth and leave Redis behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));

  try {
    await assertPortFree(config.port, config.host);
    if (config.httpPort) await assertPortFree(config.httpPort, config.host, 'HTTP_PORT');
    if (config.turn.iceTransportPolicy === 'relay' && config.turn.mode === 'off') {
      throw new ManagedTurnError('ICE_TRANSPORT_POLICY=relay needs a TURN server, and coturn\'s turnserver is not installed: run ./install.sh (or sudo apt-get install coturn), or set TURN=external.');
    }
    // The children's PIDs are kept in the DATA_DIR lock, so a start after kill -9 finds them.
    if (!config.redisUrl || config.turn.mode === 'managed') {
      lock = acquireDataDirLock(config.dataDir);
      if (lock.stale) log.warn({ pid: lock.stale.pid }, 'the last Hearth on this DATA_DIR did not stop cleanly; recovering');
    }
    if (config.turn.mode === 'managed') {
      const held = lock!;
      turn = await startManagedTurn(config.dataDir, log, {
        port: config.turn.port,
        relayPorts: config.turn.relayPorts,
        optional: config.turn.auto && config.turn.iceTransportPolicy === 'all',
        staleTurnPid: held.stale?.turnPid,
        onChild: (pid) => held.recordTurn(pid),
      });
      if (turn) config = { ...config, turn: { ...config.turn, servers: { urls: turn.urls, secret: turn.secret } } };
      else if (config.turn.iceTransportPolicy === 'relay') {
        log.warn('ICE_TRANSPORT_POLICY=relay is ignored: there is no TURN relay');
        config = { ...config, turn: { ...config.turn, iceTransportPolicy: 'all' } };
      }
    }
    if (!config.redisUrl) {
      const held = lock!;
      managed = await startManagedRedis(config.dataDir, log, {
        maxmemoryBytes: config.redisMaxmemoryBytes,
        staleRedisPid: held.stale?.redisPid,
        onChild: (pid) => held.recordRedis(pid),
      });
    }
    running = await startHearth({
      config, log, assets, tls,
      redisUrl: config.redisUrl ?? managed!.url,
      sessionSecret: await loadSessionSecret(config.dataDir, config.sessionSecret),
    });
    // Announced once Hearth answers; without multicast it logs one line and Hearth goes on.
    if (config.mdns) mdns = await startMdns({ name: config.mdnsName, host: config.host, log });
  } catch (err) {
    await stopRedis();
    if (!managed) lock?.release();
    if (err instanceof PortInUseError || err instanceof ManagedRedisError || err instanceof ManagedTurnError || err instanceof DataDirInUseError) fail(err.message);
    fail(`could not start: ${(err as Error).message}`);
  }
  starting = false;
  if (shuttingDown) {
    shuttingDown = false;
    return shutdown('a signal during start-up');
  }

  log.info({ port: running.port, host: config.host, redis: managed ? 'managed' : 'external' }, 'hearth listening');
  // The name leads the addresses only when it is really announced.
  process.stdout.write(await banner(mdns ? config : { ...config, mdns: false }, running.port, tls) + '\n');
}

main().catch((err: Error) => fail(`unexpected start-up error: ${err.message}`));
