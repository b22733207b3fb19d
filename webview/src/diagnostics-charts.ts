/**
 * The diagnostics panel's charts, as plain SVG drawn by lit: a line chart over time, a histogram
 * and a sparkline. Colours are the theme's (`--vscode-charts-*`), set in the panel's CSS by class.
 */
import { svg, type SVGTemplateResult } from 'lit';

export interface Series {
  name: string;
  /** A CSS class that gives the stroke its theme colour (series-0 …). */
  className: string;
  points: { at: number; value: number }[];
}

export interface Marker {
  at: number;
  className: string;
  label: string;
}

const W = 640;
const H = 180;
const PAD = { left: 48, right: 12, top: 10, bottom: 22 };

/** 1234.5 → "1.2 k"; small values with enough digits to be read. */
export function shortNumber(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  if (n >= 10) return n.toFixed(0);
  if (n >= 1) return n.toFixed(1);
  return n === 0 ? '0' : n.toFixed(2);
}

const clock = (at: number): string => new Date(at).toLocaleTimeString([], { hour12: false });

/** Values over time, with vertical markers (failovers, resumes) and the y axis in `unit`. */
export function lineChart(series: Series[], markers: Marker[], unit: string, label: string): SVGTemplateResult {
  const all = series.flatMap((s) => s.points);
  const times = [...all.map((p) => p.at), ...markers.map((m) => m.at)];
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1000);
  const top = Math.max(...all.map((p) => p.value), 0) * 1.1 || 1;
  const x = (at: number): number => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const ticks = [0, top / 2, top];
  return svg`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label=${label}>
    ${ticks.map((v) => svg`<line class="grid" x1=${PAD.left} x2=${W - PAD.right} y1=${y(v)} y2=${y(v)}></line>
      <text class="axis" x=${PAD.left - 6} y=${y(v) + 4} text-anchor="end">${shortNumber(v)}${unit}</text>`)}
    <text class="axis" x=${PAD.left} y=${H - 6}>${clock(t0)}</text>
    <text class="axis" x=${W - PAD.right} y=${H - 6} text-anchor="end">${clock(t1)}</text>
    ${markers.filter((m) => m.at >= t0).map((m) => svg`<line class="marker ${m.className}" x1=${x(m.at)} x2=${x(m.at)} y1=${PAD.top} y2=${H - PAD.bottom}><title>${m.label}</title></line>`)}
    ${series.map((s) => svg`<polyline class="line ${s.className}" points=${s.points.map((p) => `${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}><title>${s.name}</title></polyline>
      ${s.points.length === 1 ? svg`<circle class="dot ${s.className}" cx=${x(s.points[0].at)} cy=${y(s.points[0].value)} r="3"></circle>` : null}`)}
  </svg>`;
}

/** Bars of counts, one per labelled bucket. */
export function histogram(buckets: { label: string; count: number }[], label: string): SVGTemplateResult {
  const top = Math.max(...buckets.map((b) => b.count), 1);
  const width = (W - PAD.left - PAD.right) / Math.max(buckets.length, 1);
  const y = (v: number): number => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom - 12);
  return svg`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label=${label}>
    <line class="grid" x1=${PAD.left} x2=${W - PAD.right} y1=${y(0)} y2=${y(0)}></line>
    ${buckets.map((b, i) => svg`<rect class="bar" x=${PAD.left + i * width + 2} y=${y(b.count)} width=${Math.max(width - 4, 1)} height=${y(0) - y(b.count)}><title>${b.label}: ${b.count}</title></rect>
      <text class="axis" x=${PAD.left + i * width + width / 2} y=${H - 6} text-anchor="middle">${b.label}</text>
      ${b.count > 0 ? svg`<text class="count" x=${PAD.left + i * width + width / 2} y=${y(b.count) - 3} text-anchor="middle">${b.count}</text>` : null}`)}
  </svg>`;
}

/** A small line of values with no axes (throughput per connection). */
export function sparkline(values: number[], className: string, label: string): SVGTemplateResult {
  const w = 120;
  const h = 24;
  const top = Math.max(...values, 1);
  const points = values.map((v, i) => `${((i / Math.max(values.length - 1, 1)) * w).toFixed(1)},${(h - 1 - (v / top) * (h - 2)).toFixed(1)}`).join(' ');
  return svg`<svg class="spark" viewBox="0 0 ${w} ${h}" width=${w} height=${h} role="img" aria-label=${label}><polyline class="line ${className}" points=${points}></polyline></svg>`;
}
