// The Status page's figures: the JSON that GET /admin/status.json answers, and their labels and wording, shared by the server's first render and the browser's updates.

/** StatusFigures — one reading of this Hearth's health; null where Redis did not answer. */
export interface StatusFigures {
  /** When it was read (ms since the epoch, server clock). */
  at: number;
  /** Distinct accounts with a live tab, on every instance. */
  peopleOnline: number | null;
  /** Rooms with at least one live member. */
  roomsLive: number | null;
  /** Rooms with two or more people in them. */
  calls: number | null;
  /** File transfers reported as under way through this instance. */
  transfersInProgress: number;
  /** Signaling messages this instance has handled since it started (a counter). */
  messagesTotal: number;
  /** The server's own average over its last 10 s (the first render; the page then uses the counter). */
  messagesPerSecond: number;
  /** Open signaling sockets on this instance. */
  sockets: number;
  redis: {
    up: boolean;
    usedMemoryBytes: number | null;
    /** Redis's maxmemory; null when unlimited or unknown. */
    maxMemoryBytes: number | null;
    /** One PING's round trip. */
    latencySeconds: number | null;
  };
  process: { rssBytes: number; heapUsedBytes: number };
  /** The 99th percentile of the event loop's delay since the previous reading. */
  eventLoopDelaySeconds: number;
}

export type FigureKey = 'people' | 'rooms' | 'calls' | 'transfers' | 'messages' | 'redis-memory' | 'redis-latency' | 'process-memory' | 'event-loop';

/** Figure — one labelled figure as the page shows it; `values` are what its chart draws (one line each). */
export interface Figure {
  key: FigureKey;
  label: string;
  text: string;
  detail: string;
  values: (number | null)[];
}

const NOT_KNOWN = '—';
const REDIS_SILENT = 'Redis is not answering';

/** formatCount — 1234 → "1,234"; null → "—". */
function formatCount(n: number | null): string {
  return n === null ? NOT_KNOWN : Math.round(n).toLocaleString('en-GB');
}

/** formatRate — 0.25 → "0.3", 42.4 → "42". */
export function formatRate(n: number | null): string {
  if (n === null) return NOT_KNOWN;
  return n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-GB');
}

/** formatMemory — bytes in binary units, as Redis and the kernel count them: 83_886_080 → "80 MiB". */
export function formatMemory(bytes: number | null): string {
  if (bytes === null) return NOT_KNOWN;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 || v >= 10 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** formatDelay — seconds as milliseconds: 0.00031 → "0.31 ms", 0.0123 → "12 ms". */
export function formatDelay(seconds: number | null): string {
  if (seconds === null) return NOT_KNOWN;
  const ms = seconds * 1000;
  return `${ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-GB')} ms`;
}

const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** describeFigures — the page's figures from one reading; `messagesPerSecond` is the rate to show (null: not known yet). */
export function describeFigures(f: StatusFigures, messagesPerSecond: number | null): Figure[] {
  const redisSays = (detail: string) => (f.redis.up ? detail : REDIS_SILENT);
  return [
    { key: 'people', label: 'People online', text: formatCount(f.peopleOnline), detail: plural(f.sockets, 'open socket', 'open sockets') + ' on this server', values: [f.peopleOnline] },
    { key: 'rooms', label: 'Rooms live', text: formatCount(f.roomsLive), detail: redisSays('with someone in them'), values: [f.roomsLive] },
    { key: 'calls', label: 'Calls', text: formatCount(f.calls), detail: redisSays('rooms with two or more people'), values: [f.calls] },
    { key: 'transfers', label: 'Transfers in progress', text: formatCount(f.transfersInProgress), detail: 'files being sent in rooms on this server', values: [f.transfersInProgress] },
    { key: 'messages', label: 'Signaling messages/s', text: formatRate(messagesPerSecond), detail: `${plural(f.messagesTotal, 'message', 'messages')} on this server since it started`, values: [messagesPerSecond] },
    {
      key: 'redis-memory', label: 'Redis memory', text: formatMemory(f.redis.usedMemoryBytes),
      detail: redisSays(f.redis.maxMemoryBytes ? `used of ${formatMemory(f.redis.maxMemoryBytes)}` : 'used; Redis has no limit set'), values: [f.redis.usedMemoryBytes],
    },
    { key: 'redis-latency', label: 'Redis latency', text: formatDelay(f.redis.latencySeconds), detail: redisSays('one PING, there and back'), values: [f.redis.latencySeconds] },
    {
      key: 'process-memory', label: 'Process memory', text: formatMemory(f.process.rssBytes),
      detail: `resident; JavaScript heap ${formatMemory(f.process.heapUsedBytes)} (the dashed line)`, values: [f.process.rssBytes, f.process.heapUsedBytes],
    },
    { key: 'event-loop', label: 'Event-loop delay', text: formatDelay(f.eventLoopDelaySeconds), detail: 'slowest 1 % since the last reading', values: [f.eventLoopDelaySeconds] },
  ];
}
