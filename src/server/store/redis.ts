// Creates the node-redis client Hearth shares: fails fast while Redis is down instead of queueing.
import { createClient } from 'redis';
import type { Logger } from '../log.js';

export type RedisClient = ReturnType<typeof createClient>;

/** createRedisClient — a client that reconnects with backoff and rejects commands while disconnected. */
export function createRedisClient(url: string, log: Logger): RedisClient {
  // node-redis has no unix:// URLs; a socket path goes in socket.path instead.
  const unixPath = url.startsWith('unix://') ? decodeURIComponent(url.slice('unix://'.length)) : null;
  const client = createClient({
    ...(unixPath ? {} : { url }),
    // Without this, node-redis queues commands while offline and requests hang until Redis
    // returns; we would rather answer 503 at once (connect-redis does not surface disconnects).
    disableOfflineQueue: true,
    pingInterval: 5_000,
    socket: {
      ...(unixPath ? { path: unixPath } : {}),
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000),
    },
  });
  let down = false;
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  client.on('error', (err: Error) => {
    // node-redis emits an error per failed reconnect; log the first of each outage only.
    if (!down) log.warn({ err: err.message }, 'redis connection lost; retrying');
    down = true;
  });
  return client;
}
