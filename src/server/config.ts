// Hearth's configuration, once: every default, and the environment variables validated (valibot) at start-up.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { IceServerSchema, type IceServer } from '../shared/protocol.js';
import { compileTrust, type TrustProxy } from './net/address.js';

/** Config — every setting Hearth runs with; defaults live only in this file ({@link DEFAULTS}, {@link LIMITS}, {@link ROOMS}). */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Optional extra plain-HTTP port: serves the trust page and the CA certificate, redirects everything else to HTTPS. */
  readonly httpPort: number | null;
  readonly dataDir: string;
  readonly certsDir: string;
  /** External Redis; null means Hearth runs its own redis-server child. */
  readonly redisUrl: string | null;
  readonly registration: 'open' | 'closed' | 'invite';
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly logLevel: LogLevel;
  /** Session ends after this long without a request. */
  readonly sessionIdleMinutes: number;
  /** Session ends this long after sign-in, however active. */
  readonly sessionMaxDays: number;
  /** SESSION_SECRET when it is long enough; null means a random secret kept in DATA_DIR. */
  readonly sessionSecret: string | null;
  /** The bearer token that may scrape /metrics (besides admins' sessions); null: none. */
  readonly metricsToken: string | null;
  /** Extra ICE servers; none by default: a LAN needs none. */
  readonly iceServers: readonly IceServer[];
  /** TURN: Hearth's own coturn child (`managed`), another TURN server sharing a secret (`external`), or none. */
  readonly turn: TurnConfig;
  /** How long a ring lasts before it counts as "No answer". */
  readonly ringTimeoutSeconds: number;
  /** Memory bound of the managed redis-server, in bytes (writes are refused beyond it, nothing is evicted). */
  readonly redisMaxmemoryBytes: number;
  /** Open connections Hearth accepts in total, and from one address (IPv6: one /64). */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** The name Hearth answers to on the LAN as `<mdnsName>.local` (one DNS label, lower-case); the certificate covers it. */
  readonly mdnsName: string;
  /** Whether Hearth announces that name by mDNS. */
  readonly mdns: boolean;
  /** Which peers are reverse proxies whose X-Forwarded-For names the client (false: none, X-Forwarded-For is ignored). */
  readonly trustProxy: TrustProxy;
  /** Signaling ping interval: a socket that misses one pong is dropped at the next, and a tab's presence lives three. */
  readonly heartbeatMs: number;
  /** What one person, device or address may use (README: "What is limited, and how much"). */
  readonly limits: Limits;
  readonly rooms: RoomDefaults;
}

/** TurnConfig — the TURN settings; `servers` is what browsers get credentials for (main fills it in for `managed`). */
export interface TurnConfig {
  readonly mode: 'managed' | 'external' | 'off';
  /** TURN was not set: managed only because turnserver is installed (a busy TURN_PORT then turns it off, with a warning). */
  readonly auto: boolean;
  /** The managed coturn's listening port (UDP and TCP). */
  readonly port: number;
  /** The managed coturn's relay ports, first and last. */
  readonly relayPorts: readonly [number, number];
  /** `relay`: every RTCPeerConnection uses relayed candidates only. */
  readonly iceTransportPolicy: 'all' | 'relay';
  /** The TURN URLs and the shared secret credentials are minted with; null: none (yet). */
  readonly servers: { readonly urls: readonly string[]; readonly secret: string } | null;
  /** How long a minted TURN credential is valid (browsers get new ones well before). */
  readonly credentialSeconds: number;
}

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** ThrottleLimits — guesses (sign-in, room passcodes) and new accounts, counted in Redis per address. */
export interface ThrottleLimits {
  /** Consecutive failures for one username (or room) from one address, then a pause. */
  readonly perUserAndIp: number;
  /** Failures from one address across all usernames per day. */
  readonly perIpPerDay: number;
  /** How long the pause lasts, in seconds. */
  readonly blockSeconds: number;
  /** New accounts from one address per hour (each costs a password hash). */
  readonly registrationsPerHour: number;
}

/** ConnectionLimits — per-socket message budgets, and how many sockets one account or address may hold. */
export interface ConnectionLimits {
  /** Messages allowed per second, text or binary (ICE bursts fit comfortably). */
  readonly messagesPerSecond: number;
  /** Refused or invalid messages tolerated per 10 s before the socket is closed (4008). */
  readonly strikesPer10s: number;
  /** Open signaling sockets (tabs) per account, on one instance. */
  readonly socketsPerUser: number;
  /** Open signaling sockets per device address, on one instance. */
  readonly socketsPerAddress: number;
  /** Frames received but not yet handled; a client that outruns the server this far is cut off (4008). */
  readonly pendingFrames: number;
  /** Bytes queued for a client that does not read; beyond this it is dropped, not buffered for ever. */
  readonly maxBufferedBytes: number;
}

/** Limits — rate limits and socket budgets. */
export interface Limits {
  readonly throttle: ThrottleLimits;
  /** New rooms one person may create per hour. */
  readonly roomsPerHour: number;
  /** Rings one caller may start per minute. */
  readonly ringsPerMinute: number;
  /** Chat messages and file-ledger entries one person may send per 10 seconds (socket and no-JS form alike). */
  readonly chatPer10s: number;
  readonly signaling: ConnectionLimits;
  /** How long a connection may take to finish its TLS handshake, send its request headers, and get its answer. */
  readonly transport: { readonly handshakeMs: number; readonly headersMs: number; readonly requestMs: number };
}

/** RoomDefaults — how big rooms are unless someone says otherwise. */
interface RoomDefaults {
  /** The capacity the New room form suggests. */
  readonly defaultCapacity: number;
  /** Capacity of the private call room an accepted ring creates. */
  readonly callCapacity: number;
}

/** DEFAULTS — the value of each environment variable when it is unset or empty (README's Configuration table). */
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
  SESSION_SECRET: '',
  METRICS_TOKEN: '',
  ICE_SERVERS: '[]',
  RING_TIMEOUT_SECONDS: '30',
  REDIS_MAXMEMORY: '256mb',
  MAX_CONNECTIONS: '2048',
  MAX_CONNECTIONS_PER_ADDRESS: '256',
  MDNS_NAME: 'hearth',
  MDNS: 'on',
  // Empty: `managed` when coturn's turnserver is installed, else `off`.
  TURN: '',
  TURN_PORT: '3478',
  TURN_RELAY_PORTS: '49160-49399',
  TURN_URLS: '',
  TURN_SECRET: '',
  ICE_TRANSPORT_POLICY: 'all',
  TRUST_PROXY: '',
} as const;

type EnvName = keyof typeof DEFAULTS;

/** LIMITS — the limits Hearth runs with (no environment variable sets them; tests and benchmarks override them). */
export const LIMITS: Limits = {
  throttle: { perUserAndIp: 5, perIpPerDay: 100, blockSeconds: 15 * 60, registrationsPerHour: 20 },
  roomsPerHour: 30,
  ringsPerMinute: 10,
  chatPer10s: 10,
  signaling: { messagesPerSecond: 200, strikesPer10s: 50, socketsPerUser: 12, socketsPerAddress: 24, pendingFrames: 512, maxBufferedBytes: 4 * 1024 * 1024 },
  transport: { handshakeMs: 10_000, headersMs: 20_000, requestMs: 60_000 },
};

/** ROOMS — room sizes unless someone says otherwise. */
const ROOMS: RoomDefaults = { defaultCapacity: 6, callCapacity: 6 };

/** HEARTBEAT_MS — the signaling ping interval (a dead tab is gone within 30 s). */
const HEARTBEAT_MS = 10_000;

/** TURN_CREDENTIAL_SECONDS — the life of a TURN credential given to a browser (renewed at 3/4 of it). */
const TURN_CREDENTIAL_SECONDS = 60 * 60;

/** turnserverInstalled — coturn's `turnserver` is on PATH (then TURN defaults to `managed`). */
function turnserverInstalled(envPath = process.env.PATH ?? ''): boolean {
  return envPath.split(':').filter(Boolean).some((dir) => {
    try {
      accessSync(path.join(dir, 'turnserver'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** ConfigError — a bad setting; its message names the variable and what would be accepted. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---- one schema per environment variable ---------------------------------------------------
// Each message names the variable, the value as given and what is accepted, in one line.

const notValid = (name: EnvName, accepted: string) => (issue: v.BaseIssue<unknown>) =>
  `${name}=${JSON.stringify(issue.input)} is not valid: ${accepted}.`;

function wholeNumber(name: EnvName, min: number, max: number) {
  return v.pipe(
    v.string(),
    v.check((raw) => /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, notValid(name, `use a whole number from ${min} to ${max}`)),
    v.transform(Number),
  );
}

function oneOf<const T extends readonly [string, ...string[]]>(name: EnvName, allowed: T) {
  return v.picklist(allowed, notValid(name, `use one of ${allowed.join(', ')}`));
}

/** orNone — an empty value means "not set" (null). */
function orNone<T>(schema: v.GenericSchema<string, T>) {
  return v.pipe(v.string(), v.transform((s) => s || null), v.nullable(schema));
}

const MEMORY_UNITS = { '': 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;
const MIN_REDIS_MEMORY = 32 * 1024 ** 2;
const MAX_REDIS_MEMORY = 1024 ** 4;

/** memoryBytes — "256mb", "1gb", "524288kb" or plain bytes, as redis-server's own config reads them (1024-based). */
function memoryBytes(raw: string): number {
  const m = /^(\d+)\s*(kb|mb|gb)?$/i.exec(raw);
  return m ? Number(m[1]) * MEMORY_UNITS[(m[2]?.toLowerCase() ?? '') as keyof typeof MEMORY_UNITS] : NaN;
}

const RedisMaxmemory = v.pipe(
  v.string(),
  // No "0 = unlimited": an unbounded Redis is how a flood fills the disk.
  v.check((raw) => Number.isSafeInteger(memoryBytes(raw)) && memoryBytes(raw) >= MIN_REDIS_MEMORY && memoryBytes(raw) <= MAX_REDIS_MEMORY,
    notValid('REDIS_MAXMEMORY', 'use a size from 32mb to 1024gb, e.g. 256mb or 1gb')),
  v.transform(memoryBytes),
);

/**
 * trustProxySetting — TRUST_PROXY as Express's `trust proxy` understands it: off, a number of
 * hops, or addresses and subnets (and proxy-addr's names loopback, linklocal, uniquelocal);
 * undefined when it is none of these. "true" (every peer is a proxy) is not offered: then any
 * client could name itself in X-Forwarded-For.
 */
function trustProxySetting(raw: string): TrustProxy | undefined {
  if (/^(off|false|no|none)$/i.test(raw)) return false;
  if (/^\d+$/.test(raw)) return Number(raw) >= 1 && Number(raw) <= 16 ? Number(raw) : undefined;
  const list = raw.split(',').map((s) => s.trim());
  if (list.some((s) => !s)) return undefined;
  try {
    compileTrust(list);
    return list;
  } catch {
    return undefined;
  }
}

const TrustProxySchema = v.pipe(
  v.string(),
  v.check((raw) => !raw || trustProxySetting(raw) !== undefined,
    notValid('TRUST_PROXY', 'use the number of proxies in front of Hearth (1 to 16), or their addresses or subnets, comma-separated (e.g. 127.0.0.1, 10.0.0.0/8 or loopback)')),
  v.transform((raw) => (raw ? trustProxySetting(raw)! : false)),
);

const ICE_SHAPE = 'ICE_SERVERS must be a JSON array of {"urls": "stun:…" | "turn:…", "username"?, "credential"?}.';

// The protocol's own ICE server schema, without its strictness: fields browsers know but Hearth
// does not name are left out rather than refused, as before.
const IceServerList = v.array(v.object(IceServerSchema.entries));

const IceServers = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    let json: unknown;
    try {
      json = JSON.parse(dataset.value);
    } catch {
      addIssue({ message: 'ICE_SERVERS is not valid JSON: use e.g. [{"urls":"stun:192.168.1.2:3478"}].' });
      return NEVER;
    }
    const list = v.safeParse(IceServerList, json);
    if (list.success) return list.output;
    addIssue({ message: ICE_SHAPE });
    return NEVER;
  }),
);

const RelayPorts = v.pipe(
  v.string(),
  v.check((raw) => {
    const m = /^(\d+)-(\d+)$/.exec(raw);
    return !!m && Number(m[1]) >= 1024 && Number(m[2]) <= 65535 && Number(m[2]) - Number(m[1]) >= 1;
  }, notValid('TURN_RELAY_PORTS', 'use a range of at least two ports from 1024 to 65535, e.g. 49160-49399')),
  v.transform((raw) => raw.split('-').map(Number) as [number, number]),
);

const TurnUrls = v.pipe(
  v.string(),
  v.check((raw) => raw.split(/[\s,]+/).filter(Boolean).every((u) => /^turns?:\S+$/.test(u)), notValid('TURN_URLS', 'use turn: or turns: URLs separated by commas, e.g. turn:192.168.1.2:3478?transport=udp')),
  v.transform((raw) => raw.split(/[\s,]+/).filter(Boolean)),
);

const EnvSchema = v.pipe(
  v.object({
    PORT: wholeNumber('PORT', 0, 65535),
    HOST: v.string(),
    HTTP_PORT: orNone(wholeNumber('HTTP_PORT', 1, 65535)),
    DATA_DIR: v.string(),
    CERTS_DIR: v.string(),
    REDIS_URL: orNone(v.pipe(v.string(), v.regex(/^rediss?:\/\/|^unix:\/\//, notValid('REDIS_URL', 'use redis://host:port, rediss://… or unix:///path/redis.sock')))),
    REGISTRATION: oneOf('REGISTRATION', ['open', 'closed', 'invite']),
    TLS_CERT: orNone(v.string()),
    TLS_KEY: orNone(v.string()),
    LOG_LEVEL: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    SESSION_IDLE_MINUTES: wholeNumber('SESSION_IDLE_MINUTES', 5, 60 * 24 * 30),
    SESSION_MAX_DAYS: wholeNumber('SESSION_MAX_DAYS', 1, 365),
    // A secret shorter than 32 characters is not used: Hearth keeps its own in DATA_DIR instead.
    SESSION_SECRET: v.pipe(v.string(), v.transform((s) => (s.length >= 32 ? s : null))),
    // Unlike the session secret, a short token is refused: ignoring it would leave /metrics shut with no word why.
    METRICS_TOKEN: orNone(v.pipe(v.string(), v.check((t) => t.length >= 32 && !/\s/.test(t), 'METRICS_TOKEN is not valid (not repeated here: it is a secret): use at least 32 characters and no spaces, e.g. from: openssl rand -hex 32.'))),
    ICE_SERVERS: IceServers,
    RING_TIMEOUT_SECONDS: wholeNumber('RING_TIMEOUT_SECONDS', 2, 300),
    REDIS_MAXMEMORY: RedisMaxmemory,
    MAX_CONNECTIONS: wholeNumber('MAX_CONNECTIONS', 16, 1_000_000),
    MAX_CONNECTIONS_PER_ADDRESS: wholeNumber('MAX_CONNECTIONS_PER_ADDRESS', 8, 1_000_000),
    // One DNS label (RFC 1035 letters, digits, inner hyphens, at most 63): ".local" is added to it.
    MDNS_NAME: v.pipe(v.string(), v.regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i, notValid('MDNS_NAME', 'use one name of letters, digits and inner hyphens, at most 63, e.g. hearth (Hearth adds .local)')), v.toLowerCase()),
    MDNS: oneOf('MDNS', ['on', 'off']),
    TURN: v.picklist(['', 'managed', 'off', 'external'], notValid('TURN', 'use one of managed, off, external')),
    TURN_PORT: wholeNumber('TURN_PORT', 1, 65535),
    TURN_RELAY_PORTS: RelayPorts,
    TURN_URLS: TurnUrls,
    TURN_SECRET: v.string(),
    ICE_TRANSPORT_POLICY: oneOf('ICE_TRANSPORT_POLICY', ['all', 'relay']),
    TRUST_PROXY: TrustProxySchema,
  }),
  v.check((e) => e.HTTP_PORT === null || e.HTTP_PORT !== e.PORT, 'HTTP_PORT must differ from PORT (PORT already redirects plain HTTP).'),
  v.check((e) => (e.TLS_CERT === null) === (e.TLS_KEY === null), 'TLS_CERT and TLS_KEY go together: set both or neither.'),
  // The secret itself is never repeated in a message.
  v.check((e) => e.TURN !== 'external' || (e.TURN_URLS.length > 0 && e.TURN_SECRET.length >= 16), 'TURN=external needs TURN_URLS (turn: URLs) and TURN_SECRET (the TURN server\'s static-auth-secret, at least 16 characters).'),
  v.check((e) => e.ICE_TRANSPORT_POLICY !== 'relay' || e.TURN !== 'off', 'ICE_TRANSPORT_POLICY=relay needs a TURN server: set TURN=managed or TURN=external.'),
);

/** loadConfig — builds a {@link Config} from `env`, throwing {@link ConfigError} on the first bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw = Object.fromEntries(Object.entries(DEFAULTS).map(([name, fallback]) => {
    // The secret is used exactly as given; every other value is trimmed, and empty means unset.
    if (name === 'SESSION_SECRET') return [name, env[name] ?? fallback];
    const given = env[name]?.trim();
    return [name, given ? given : fallback];
  }));
  const parsed = v.safeParse(EnvSchema, raw, { abortEarly: true });
  if (!parsed.success) throw new ConfigError(parsed.issues[0].message);
  const e = parsed.output;
  return {
    port: e.PORT,
    host: e.HOST,
    httpPort: e.HTTP_PORT,
    dataDir: path.resolve(cwd, e.DATA_DIR),
    certsDir: path.resolve(cwd, e.CERTS_DIR),
    redisUrl: e.REDIS_URL,
    registration: e.REGISTRATION,
    tlsCert: e.TLS_CERT && path.resolve(cwd, e.TLS_CERT),
    tlsKey: e.TLS_KEY && path.resolve(cwd, e.TLS_KEY),
    logLevel: e.LOG_LEVEL,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxDays: e.SESSION_MAX_DAYS,
    sessionSecret: e.SESSION_SECRET,
    metricsToken: e.METRICS_TOKEN,
    iceServers: e.ICE_SERVERS,
    turn: {
      mode: e.TURN || (turnserverInstalled(env.PATH) ? 'managed' : 'off'),
      auto: !e.TURN,
      port: e.TURN_PORT,
      relayPorts: e.TURN_RELAY_PORTS,
      iceTransportPolicy: e.ICE_TRANSPORT_POLICY,
      servers: e.TURN === 'external' ? { urls: e.TURN_URLS, secret: e.TURN_SECRET } : null,
      credentialSeconds: TURN_CREDENTIAL_SECONDS,
    },
    ringTimeoutSeconds: e.RING_TIMEOUT_SECONDS,
    redisMaxmemoryBytes: e.REDIS_MAXMEMORY,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
    mdnsName: e.MDNS_NAME,
    mdns: e.MDNS === 'on',
    trustProxy: e.TRUST_PROXY,
    heartbeatMs: HEARTBEAT_MS,
    limits: LIMITS,
    rooms: ROOMS,
  };
}
