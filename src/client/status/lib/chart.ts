// A sparkline's geometry (DOM-free): where each line, the area under the first line and the latest point go in a width × height box.
import type { Point } from './history.js';

/** ChartShape — SVG attribute values: `points` of each polyline (a gap where a value was not known breaks a line). */
export interface ChartShape {
  lines: { index: number; points: string }[];
  /** The area under the first line's runs (polygon `points`). */
  areas: string[];
  /** The first line's latest point, if it is known. */
  latest: { x: number; y: number } | null;
  /** The value the top of the box stands for. */
  top: number;
}

/** niceTop — the smallest 1, 2 or 5 × 10ⁿ at or above `max` (a calm scale that does not twitch with every reading). */
export function niceTop(max: number): number {
  if (!(max > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** chartShape — `points` drawn from `now - windowMs` (left edge) to `now` (right edge), zero at the bottom. */
export function chartShape(points: readonly Point[], box: { width: number; height: number; now: number; windowMs: number; pad?: number }): ChartShape {
  const pad = box.pad ?? 2;
  const known = points.flatMap((p) => p.values.filter((v): v is number => v !== null));
  const top = niceTop(Math.max(0, ...known));
  const x = (t: number) => round(Math.max(0, box.width - ((box.now - t) / box.windowMs) * box.width));
  const y = (v: number) => round(box.height - pad - (Math.min(v, top) / top) * (box.height - 2 * pad));
  const lineCount = Math.max(0, ...points.map((p) => p.values.length));
  const lines: ChartShape['lines'] = [];
  const areas: string[] = [];
  for (let index = 0; index < lineCount; index++) {
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length > 0) {
        lines.push({ index, points: run.map(([px, py]) => `${px},${py}`).join(' ') });
        if (index === 0) areas.push([...run, [run[run.length - 1]![0], box.height], [run[0]![0], box.height]].map(([px, py]) => `${px},${py}`).join(' '));
      }
      run = [];
    };
    for (const p of points) {
      const v = p.values[index];
      if (v === null || v === undefined) flush();
      else run.push([x(p.t), y(v)]);
    }
    flush();
  }
  const last = points[points.length - 1]?.values[0];
  const latest = last === null || last === undefined ? null : { x: x(points[points.length - 1]!.t), y: y(last) };
  return { lines, areas, latest, top };
}
