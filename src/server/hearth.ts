// Assembles a running Hearth (Redis client, app, HTTPS server) on a port; used by main.ts and tests.
import net from 'node:net';
import { once } from 'node:events';
import { createApp, type AppDeps, type HearthApp } from './app.js';
import { createHearthServer, type HearthServer, type TransportLimits } from './http-server.js';
import { trustOverHttp } from './routes/trust.js';
import { createRedisClient, type RedisClient } from './store/redis.js';

export interface StartOptions extends Omit<AppDeps, 'redis'> {
  redisUrl: string;
  tls: { cert: Buffer; key: Buffer };
  /** How long to wait for Redis before serving 503s anyway (it keeps reconnecting). */
  redisWaitMs?: number;
  /** Connection timeouts and caps; the caps default to config's MAX_CONNECTIONS… (tests use short timeouts). */
  transport?: Partial<TransportLimits>;
}

/** RunningHearth — a listening Hearth and how to stop it. */
export interface RunningHearth {
  port: number;
  origin: string;
  app: HearthApp;
  redis: RedisClient;
  server: HearthServer;
  /** close — stop accepting, close every socket, disconnect from Redis: bounded (about 2.5 s at most). */
  close(): Promise<void>;
}

// Shutdown steps: each is bounded, so one that hangs (a client that stopped reading, a Redis that
// stopped answering) cannot hold up the ones after it.
const SIGNALING_CLOSE_MS = 1_800;
const STEP_MS = 250;

/** within — waits for `work` at most `ms` (then calls `onLate`); never throws. */
export async function within(ms: number, work: Promise<unknown>, onLate: () => void = () => {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, ms, 'late')));
  const outcome = await Promise.race([work.then(() => 'done', () => 'done'), late]);
  clearTimeout(timer);
  if (outcome === 'late') onLate();
}

/** PortInUseError — the port is taken; the message tells the user what to do. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

function listen(server: net.Server, port: number, host: string, envName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(`Port ${port} is already in use (another Hearth?). Stop it, or set ${envName} to a free port.`));
      else if (err.code === 'EACCES') reject(new PortInUseError(`Not allowed to listen on port ${port}. Use a port above 1023 (set ${envName}), or run with the needed privileges.`));
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** assertPortFree — fails with {@link PortInUseError} if `port` cannot be bound right now. */
export async function assertPortFree(port: number, host: string, envName = 'PORT'): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await listen(probe, port, host, envName);
  probe.close();
  await once(probe, 'close');
}

/** startHearth — connects Redis, builds the app and listens on config.port/config.host. */
export async function startHearth(opts: StartOptions): Promise<RunningHearth> {
  const { config, log } = opts;
  const redis = createRedisClient(opts.redisUrl, log);
  const app = createApp({ ...opts, redis });
  const server = createHearthServer(app.express, opts.tls, {
    httpPort: config.httpPort,
    plainHttp: trustOverHttp({ config, assets: opts.assets }),
    log,
    limits: { ...config.limits.transport, maxConnections: config.maxConnections, maxConnectionsPerAddress: config.maxConnectionsPerAddress, ...opts.transport },
  });
  server.https.on('upgrade', app.signaling.handleUpgrade);

  await listen(server.front, config.port, config.host, 'PORT');
  if (server.redirectOnly && config.httpPort) await listen(server.redirectOnly, config.httpPort, config.host, 'HTTP_PORT');
  const port = (server.front.address() as net.AddressInfo).port;

  const connecting = redis.connect().catch((err: Error) => log.warn({ err: err.message }, 'redis not reachable yet; retrying'));
  const waited = await Promise.race([connecting.then(() => true), new Promise((r) => setTimeout(r, opts.redisWaitMs ?? 5_000, false))]);
  if (!waited) log.warn('redis is not answering yet: pages answer 503 until it does');
  app.ringing.start();
  const hubStarted = app.hub.start().catch((err: Error) => log.warn({ err: err.message }, 'signaling bus failed to start'));
  if (waited) await hubStarted;

  return {
    port,
    origin: `https://localhost:${port}`,
    app,
    redis,
    server,
    async close() {
      server.stopAccepting();
      await within(SIGNALING_CLOSE_MS, app.signaling.close(), () => log.warn('signaling did not close in time; dropping its sockets'));
      app.ringing.stop();
      await within(STEP_MS, app.hub.stop());
      await within(STEP_MS, server.closeAll());
      // destroy() throws on a client that is already closed (e.g. while it was reconnecting).
      const drop = () => {
        try {
          redis.destroy();
        } catch {
          // already closed
        }
      };
      if (redis.isOpen) await within(STEP_MS, redis.close().catch(drop), drop);
      else drop();
    },
  };
}
