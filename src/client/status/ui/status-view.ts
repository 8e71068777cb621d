// Renders the Status page's updates onto the server-rendered figures: values, details, a sparkline per figure, and what went wrong.
import type { Figure, FigureKey } from '../../../shared/status.js';
import { chartShape } from '../lib/chart.js';
import type { StatusHistory } from '../lib/history.js';

const SVG = 'http://www.w3.org/2000/svg';
// The viewBox; the chart is stretched to its box (preserveAspectRatio none) and its strokes keep their width (CSS vector-effect).
const WIDTH = 300;
const HEIGHT = 60;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** spanText — "last 5 minutes" for the charts' reach. */
function spanText(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return minutes === 1 ? 'last minute' : `last ${minutes} minutes`;
}

interface Card {
  value: HTMLElement;
  detail: HTMLElement;
  chart: SVGSVGElement;
}

/** StatusView — the figures' cards as the server rendered them, each given a chart. */
export class StatusView {
  private readonly cards = new Map<FigureKey, Card>();

  constructor(private readonly root: HTMLElement) {
    for (const el of root.querySelectorAll<HTMLElement>('[data-figure]')) {
      const value = el.querySelector<HTMLElement>('.status-figure__value');
      const detail = el.querySelector<HTMLElement>('.status-figure__detail');
      if (!value || !detail) continue;
      const chart = svg('svg', { class: 'status-chart', role: 'img', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none' });
      const holder = document.createElement('dd');
      holder.className = 'status-figure__chart';
      holder.append(chart);
      el.append(holder);
      this.cards.set(el.dataset.figure as FigureKey, { value, detail, chart });
    }
  }

  /** show — the latest figures and their last few minutes. */
  show(figures: readonly Figure[], history: StatusHistory): void {
    for (const f of figures) {
      const card = this.cards.get(f.key);
      if (!card) continue;
      card.value.textContent = f.text;
      card.detail.textContent = f.detail;
      this.draw(card.chart, f, history);
    }
  }

  private draw(chart: SVGSVGElement, f: Figure, history: StatusHistory): void {
    const shape = chartShape(history.series(f.key), { width: WIDTH, height: HEIGHT, now: history.now, windowMs: history.span });
    const said = f.values[0] === null ? 'not known' : f.text;
    chart.setAttribute('aria-label', `${f.label}: ${said}, ${spanText(history.span)}`);
    chart.dataset.points = String(history.series(f.key).length);
    chart.replaceChildren(
      svg('line', { class: 'status-chart__base', x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5 }),
      ...shape.areas.map((points) => svg('polygon', { class: 'status-chart__area', points })),
      ...shape.lines.map((l) => svg('polyline', { class: `status-chart__line status-chart__line--${l.index === 0 ? 'main' : 'second'}`, points: l.points })),
      ...(shape.latest ? [svg('path', { class: 'status-chart__dot', d: `M${shape.latest.x} ${shape.latest.y}h0` })] : []),
    );
  }

  /** readAt — when the figures shown were read. */
  readAt(at: number): void {
    const time = this.root.querySelector<HTMLTimeElement>('#status-read-at');
    if (!time) return;
    const when = new Date(at);
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleTimeString('en-GB');
  }

  /** redisDown — shows or hides the "Redis is not answering" notice. */
  redisDown(down: boolean): void {
    const notice = this.root.querySelector<HTMLElement>('#status-redis-down');
    if (notice) notice.hidden = !down;
  }

  /** problem — why the figures stopped updating (null: they are updating). */
  problem(text: string | null): void {
    const notice = this.root.querySelector<HTMLElement>('#status-problem');
    if (!notice || notice.textContent === (text ?? '')) return;
    notice.textContent = text ?? '';
    notice.hidden = text === null;
  }
}
