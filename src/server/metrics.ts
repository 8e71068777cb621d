// Hearth's health, read when asked: Prometheus metrics on a registry of each app's own (plus the process's), and the same figures for the Status page.
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { StatusFigures } from '../shared/status.js';
import type { SignalingServer } from './signaling/server.js';
import type { RedisClient } from './store/redis.js';
import type { RoomStore } from './store/rooms.js';

/** How long one Redis question may take before the figures say Redis is down (a stopped Redis may never answer). */
const REDIS_PROBE_MS = 1_000;

export interface MetricsDeps {
  redis: RedisClient;
  rooms: RoomStore;
  signaling: SignalingServer;
}

interface Presence {
  peopleOnline: number;
  roomsLive: number;
  calls: number;
}

type RedisFigures = StatusFigures['redis'];

const REDIS_DOWN: RedisFigures = { up: false, usedMemoryBytes: null, maxMemoryBytes: null, latencySeconds: null };

/** timeLimit — `work`, or a rejection after `ms` (the late answer, if any, is dropped). */
async function timeLimit<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** shared — calls `fn` once for everyone who asks while it runs (one scrape's gauges share one round of Redis questions). */
function shared<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= fn().finally(() => {
      running = null;
    });
    return running;
  };
}

// ---- the process: one per process, whichever apps it runs ----------------------------------

let processRegistry: Registry | null = null;
let loopDelay: IntervalHistogram | null = null;

/** processMetrics — prom-client's process and Node.js metrics (memory, CPU, event-loop lag, GC), registered once. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** eventLoopDelay — the 99th percentile of the event loop's delay since the previous call, in seconds. */
function eventLoopDelay(): number {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
  }
  const p99 = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e9 : 0;
  loopDelay.reset();
  return p99;
}

// ---- one app's ----------------------------------------------------------------------------------

/** HearthMetrics — one app's figures; Redis is asked only when someone reads them. */
export class HearthMetrics {
  /** registry — this app's metrics and the process's, as /metrics serves them. */
  readonly registry: Registry;
  private readonly presence: () => Promise<Presence | null>;
  private readonly redisFigures: () => Promise<RedisFigures>;

  constructor(private readonly deps: MetricsDeps) {
    this.presence = shared(() => this.readPresence());
    this.redisFigures = shared(() => this.probeRedis());
    const own = new Registry();
    const { signaling } = deps;
    const presence = this.presence;
    const redis = this.redisFigures;
    /** fromPresence — a gauge read from Redis's presence records; no sample at all while Redis is silent. */
    const fromPresence = (name: string, help: string, pick: (p: Presence) => number) => new Gauge({
      name, help, registers: [own],
      async collect() {
        const p = await presence();
        if (p) this.set(pick(p));
        else this.remove();
      },
    });
    fromPresence('hearth_people_online', 'Distinct accounts with a live signaling socket (every instance).', (p) => p.peopleOnline);
    fromPresence('hearth_rooms_live', 'Rooms with at least one live member.', (p) => p.roomsLive);
    fromPresence('hearth_calls', 'Rooms with two or more people in them.', (p) => p.calls);
    new Gauge({
      name: 'hearth_transfers_in_progress', help: 'File transfers whose latest ledger report through this instance is not final (an hour without a report ends one).', registers: [own],
      collect() {
        this.set(signaling.traffic.transfersInProgress());
      },
    });
    new Counter({
      name: 'hearth_signaling_messages_total', help: 'Signaling messages this instance has accepted as valid, by type.', labelNames: ['type'] as const, registers: [own],
      collect() {
        this.reset();
        for (const [type, n] of signaling.traffic.messages()) this.inc({ type }, n);
      },
    });
    new Gauge({
      name: 'hearth_signaling_sockets', help: 'Open signaling sockets on this instance.', registers: [own],
      collect() {
        this.set(signaling.openSockets);
      },
    });
    new Gauge({
      name: 'hearth_redis_up', help: '1 if Redis answered a PING within a second, else 0.', registers: [own],
      async collect() {
        this.set((await redis()).up ? 1 : 0);
      },
    });
    /** fromRedis — a gauge of Redis's own figures; no sample while Redis is silent. */
    const fromRedis = (name: string, help: string, pick: (r: RedisFigures) => number | null) => new Gauge({
      name, help, registers: [own],
      async collect() {
        const value = pick(await redis());
        if (value === null) this.remove();
        else this.set(value);
      },
    });
    fromRedis('hearth_redis_used_memory_bytes', 'Memory Redis uses (INFO memory: used_memory).', (r) => r.usedMemoryBytes);
    fromRedis('hearth_redis_latency_seconds', 'Round trip of one PING to Redis, measured at the scrape.', (r) => r.latencySeconds);
    this.registry = Registry.merge([processMetrics(), own]);
  }

  /** scrape — the Prometheus text; never fails because Redis does (those figures are left out, hearth_redis_up says 0). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** figures — one reading for the Status page. */
  async figures(): Promise<StatusFigures> {
    const { signaling } = this.deps;
    const [presence, redis] = await Promise.all([this.presence(), this.redisFigures()]);
    const memory = process.memoryUsage();
    return {
      at: Date.now(),
      peopleOnline: presence?.peopleOnline ?? null,
      roomsLive: presence?.roomsLive ?? null,
      calls: presence?.calls ?? null,
      transfersInProgress: signaling.traffic.transfersInProgress(),
      messagesTotal: signaling.traffic.messagesTotal(),
      messagesPerSecond: signaling.traffic.messagesPerSecond(),
      sockets: signaling.openSockets,
      redis,
      process: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      eventLoopDelaySeconds: eventLoopDelay(),
    };
  }

  private async readPresence(): Promise<Presence | null> {
    const { redis, rooms } = this.deps;
    if (!redis.isReady) return null;
    try {
      const [online, live] = await timeLimit(Promise.all([rooms.online(), rooms.liveRooms()]), REDIS_PROBE_MS);
      const people = (members: readonly { userId: string }[]) => new Set(members.map((m) => m.userId)).size;
      return { peopleOnline: people(online), roomsLive: live.length, calls: live.filter((r) => people(r.members) >= 2).length };
    } catch {
      return null;
    }
  }

  private async probeRedis(): Promise<RedisFigures> {
    const { redis } = this.deps;
    if (!redis.isReady) return REDIS_DOWN;
    try {
      const started = performance.now();
      await timeLimit(redis.ping(), REDIS_PROBE_MS);
      const latencySeconds = (performance.now() - started) / 1000;
      const info = await timeLimit(redis.info('memory'), REDIS_PROBE_MS);
      const field = (name: string) => {
        const n = Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
        return Number.isFinite(n) ? n : null;
      };
      return { up: true, latencySeconds, usedMemoryBytes: field('used_memory'), maxMemoryBytes: field('maxmemory') || null };
    } catch {
      return REDIS_DOWN;
    }
  }
}

const perApp = new WeakMap<object, HearthMetrics>();

/** metricsFor — the one {@link HearthMetrics} of the app whose services these are (/metrics and the Status page share it). */
export function metricsFor(services: MetricsDeps): HearthMetrics {
  let m = perApp.get(services);
  if (!m) {
    m = new HearthMetrics(services);
    perApp.set(services, m);
  }
  return m;
}
