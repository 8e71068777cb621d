// Reads and validates Hearth's configuration from environment variables, once, at start-up.
import path from 'node:path';

/** Config — every setting Hearth runs with; defaults live only in {@link DEFAULTS}. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Optional extra plain-HTTP port that only redirects to HTTPS. */
  readonly httpPort: number | null;
  readonly dataDir: string;
  readonly certsDir: string;
  /** External Redis; null means Hearth runs its own redis-server child. */
  readonly redisUrl: string | null;
  readonly registration: 'open' | 'closed';
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Session ends after this long without a request. */
  readonly sessionIdleMinutes: number;
  /** Session ends this long after sign-in, however active. */
  readonly sessionMaxDays: number;
  /** Extra ICE servers (JSON array of RTCIceServer); none by default: a LAN needs none. */
  readonly iceServers: readonly IceServer[];
  /** How long a ring lasts before it counts as "No answer". */
  readonly ringTimeoutSeconds: number;
  /** Memory bound of the managed redis-server, in bytes (writes are refused beyond it, nothing is evicted). */
  readonly redisMaxmemoryBytes: number;
  /** Open connections Hearth accepts in total, and from one address (IPv6: one /64). */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export const DEFAULTS = {
  PORT: '8443',
  HOST: '::',
  HTTP_PORT: '',
  DATA_DIR: './var',
  CERTS_DIR: './certs',
  REDIS_URL: '',
  REGISTRATION: 'open',
  TLS_CERT: '',
  TLS_KEY: '',
  LOG_LEVEL: 'info',
  SESSION_IDLE_MINUTES: '720',
  SESSION_MAX_DAYS: '30',
  ICE_SERVERS: '[]',
  RING_TIMEOUT_SECONDS: '30',
  REDIS_MAXMEMORY: '256mb',
  MAX_CONNECTIONS: '2048',
  MAX_CONNECTIONS_PER_ADDRESS: '256',
} as const;

export type EnvName = keyof typeof DEFAULTS;

/** ConfigError — a bad setting; its message names the variable and what would be accepted. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(name: EnvName, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use a whole number from ${min} to ${max}.`);
  }
  return n;
}

function oneOf<T extends string>(name: EnvName, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use one of ${allowed.join(', ')}.`);
  }
  return raw as T;
}

const MEMORY_UNITS = { '': 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;
const MIN_REDIS_MEMORY = 32 * 1024 ** 2;
const MAX_REDIS_MEMORY = 1024 ** 4;

/** memorySize — "256mb", "1gb", "524288kb" or plain bytes, as redis-server's own config reads them (1024-based). */
function memorySize(name: EnvName, raw: string): number {
  const m = /^(\d+)\s*(kb|mb|gb)?$/i.exec(raw);
  const bytes = m ? Number(m[1]) * MEMORY_UNITS[(m[2]?.toLowerCase() ?? '') as keyof typeof MEMORY_UNITS] : NaN;
  // No "0 = unlimited": an unbounded Redis is how a flood fills the disk.
  if (!Number.isSafeInteger(bytes) || bytes < MIN_REDIS_MEMORY || bytes > MAX_REDIS_MEMORY) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use a size from 32mb to 1024gb, e.g. 256mb or 1gb.`);
  }
  return bytes;
}

function iceServers(raw: string): IceServer[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('ICE_SERVERS is not valid JSON: use e.g. [{"urls":"stun:192.168.1.2:3478"}].');
  }
  const ok = Array.isArray(parsed) && parsed.every((s) => {
    if (typeof s !== 'object' || s === null) return false;
    const urls = (s as IceServer).urls;
    const list = Array.isArray(urls) ? urls : [urls];
    return list.length > 0 && list.every((u) => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u));
  });
  if (!ok) throw new ConfigError('ICE_SERVERS must be a JSON array of {"urls": "stun:…" | "turn:…", "username"?, "credential"?}.');
  return parsed as IceServer[];
}

/** loadConfig — builds a {@link Config} from `env`, throwing {@link ConfigError} on the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const get = (name: EnvName): string => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? DEFAULTS[name] : v.trim();
  };
  const port = integer('PORT', get('PORT'), 0, 65535);
  const httpPortRaw = get('HTTP_PORT');
  const httpPort = httpPortRaw === '' ? null : integer('HTTP_PORT', httpPortRaw, 1, 65535);
  if (httpPort !== null && httpPort === port) throw new ConfigError('HTTP_PORT must differ from PORT (PORT already redirects plain HTTP).');
  const host = get('HOST');
  const redisUrl = get('REDIS_URL') || null;
  if (redisUrl !== null && !/^rediss?:\/\/|^unix:\/\//.test(redisUrl)) {
    throw new ConfigError(`REDIS_URL=${JSON.stringify(redisUrl)} is not valid: use redis://host:port, rediss://… or unix:///path/redis.sock.`);
  }
  const tlsCert = get('TLS_CERT') || null;
  const tlsKey = get('TLS_KEY') || null;
  if ((tlsCert === null) !== (tlsKey === null)) throw new ConfigError('TLS_CERT and TLS_KEY go together: set both or neither.');
  return {
    port,
    host,
    httpPort,
    dataDir: path.resolve(cwd, get('DATA_DIR')),
    certsDir: path.resolve(cwd, get('CERTS_DIR')),
    redisUrl,
    registration: oneOf('REGISTRATION', get('REGISTRATION'), ['open', 'closed'] as const),
    tlsCert: tlsCert && path.resolve(cwd, tlsCert),
    tlsKey: tlsKey && path.resolve(cwd, tlsKey),
    logLevel: oneOf('LOG_LEVEL', get('LOG_LEVEL'), ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    sessionIdleMinutes: integer('SESSION_IDLE_MINUTES', get('SESSION_IDLE_MINUTES'), 5, 60 * 24 * 30),
    sessionMaxDays: integer('SESSION_MAX_DAYS', get('SESSION_MAX_DAYS'), 1, 365),
    iceServers: iceServers(get('ICE_SERVERS')),
    ringTimeoutSeconds: integer('RING_TIMEOUT_SECONDS', get('RING_TIMEOUT_SECONDS'), 2, 300),
    redisMaxmemoryBytes: memorySize('REDIS_MAXMEMORY', get('REDIS_MAXMEMORY')),
    maxConnections: integer('MAX_CONNECTIONS', get('MAX_CONNECTIONS'), 16, 1_000_000),
    maxConnectionsPerAddress: integer('MAX_CONNECTIONS_PER_ADDRESS', get('MAX_CONNECTIONS_PER_ADDRESS'), 8, 1_000_000),
  };
}
