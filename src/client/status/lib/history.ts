// The Status page's recent past (DOM-free): readings checked and kept for a few minutes, and messages/s from the counter's growth between them.
import { describeFigures, type Figure, type FigureKey, type StatusFigures } from '../../../shared/status.js';

/** WINDOW_MS — how far back the charts reach. */
export const WINDOW_MS = 5 * 60_000;

/** The least a chart spans: a page just opened fills its charts within a minute, not five. */
const MIN_SPAN_MS = 60_000;

/** Point — one reading of one figure: its chart values (null: not known then). */
export interface Point {
  t: number;
  values: readonly (number | null)[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isCountOrNull = (v: unknown): v is number | null => v === null || isCount(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** readFigures — a reading from /admin/status.json, or null if it is not one (an error page, another version). */
export function readFigures(json: unknown): StatusFigures | null {
  if (!isRecord(json) || !isRecord(json.redis) || !isRecord(json.process)) return null;
  const { redis, process } = json;
  const ok = isCount(json.at) && isCountOrNull(json.peopleOnline) && isCountOrNull(json.roomsLive) && isCountOrNull(json.calls)
    && isCount(json.transfersInProgress) && isCount(json.messagesTotal) && isCount(json.messagesPerSecond) && isCount(json.sockets)
    && typeof redis.up === 'boolean' && isCountOrNull(redis.usedMemoryBytes) && isCountOrNull(redis.maxMemoryBytes) && isCountOrNull(redis.latencySeconds)
    && isCount(process.rssBytes) && isCount(process.heapUsedBytes) && isCount(json.eventLoopDelaySeconds);
  return ok ? (json as unknown as StatusFigures) : null;
}

/**
 * messageRate — messages/s between two readings, from the counter's growth. The first reading,
 * or one after the server restarted (its counter began again), takes the server's own average.
 */
export function messageRate(prev: StatusFigures | null, next: StatusFigures): number {
  if (!prev || next.at <= prev.at || next.messagesTotal < prev.messagesTotal) return next.messagesPerSecond;
  return (next.messagesTotal - prev.messagesTotal) / ((next.at - prev.at) / 1000);
}

/** StatusHistory — the readings of the last {@link WINDOW_MS}, by figure. */
export class StatusHistory {
  private readonly points = new Map<FigureKey, Point[]>();
  /** When each reading kept was taken, oldest first. */
  private readonly times: number[] = [];
  private last: StatusFigures | null = null;

  constructor(readonly windowMs = WINDOW_MS) {}

  /** add — one reading; returns the figures to show now. A reading older than the last is ignored (null). */
  add(f: StatusFigures): Figure[] | null {
    if (this.last && f.at <= this.last.at) return null;
    const figures = describeFigures(f, messageRate(this.last, f));
    this.last = f;
    const oldest = f.at - this.windowMs;
    this.times.push(f.at);
    while (this.times[0]! < oldest) this.times.shift();
    for (const fig of figures) {
      const list = this.points.get(fig.key) ?? [];
      list.push({ t: f.at, values: fig.values });
      while (list.length > 0 && list[0]!.t < oldest) list.shift();
      this.points.set(fig.key, list);
    }
    return figures;
  }

  /** series — what `key`'s chart draws, oldest first. */
  series(key: FigureKey): readonly Point[] {
    return this.points.get(key) ?? [];
  }

  /** now — the time of the latest reading (the charts' right edge). */
  get now(): number {
    return this.last?.at ?? 0;
  }

  /** span — how far back the charts reach now: the readings kept, at least a minute, at most {@link WINDOW_MS}. */
  get span(): number {
    return Math.min(this.windowMs, Math.max(MIN_SPAN_MS, this.now - (this.times[0] ?? this.now)));
  }
}
