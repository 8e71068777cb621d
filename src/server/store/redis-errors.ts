// One answer to "is this error Redis being unavailable?" for routes, sockets and sessions alike.

// Redis answered, but will not store more: out of memory under `noeviction`, a read-only
// replica, or writes stopped after a failed background save.
const REFUSES_WRITES = /^(OOM|READONLY|MISCONF)\b/;
// Redis answered, but cannot serve yet: still loading its data, busy with a script, no primary.
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN)\b/;

/**
 * isRedisUnavailable — true for errors that mean Redis cannot serve us right now: the
 * connection is closed, offline or refused (node-redis, connect-redis, rate-limiter-flexible),
 * or Redis refuses writes (out of memory under `noeviction`, a read-only replica, still
 * loading its data, a failed background save with writes stopped). The caller answers
 * "unavailable, try again" (HTTP 503, socket error `unavailable`) instead of failing.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const name = String((err as Error).name ?? '');
  const msg = String((err as Error).message ?? '');
  if (/ClientClosed|ClientOffline|SocketClosed|ConnectionTimeout|ReconnectStrategy|Socket/i.test(name)) return true;
  if (/client is (closed|offline)|ECONNREFUSED|ECONNRESET|ENOENT|EPIPE|socket closed|connection is closed/i.test(msg)) return true;
  return REFUSES_WRITES.test(msg) || NOT_SERVING.test(msg);
}

/** isRedisRefusingWrites — Redis answered but will not store more (worth one log line per outage). */
export function isRedisRefusingWrites(err: unknown): boolean {
  return REFUSES_WRITES.test(String((err as Error | null)?.message ?? ''));
}
