import type { AnalyticsRow, ForecastAnswer } from '../core/analytics-api.js';
import type { Table } from './sharing-format.js';

const cell = (value: string): string => value.replace(/[\t\r\n]+/g, ' ') || '-';

/** `3:2,7:1` for failed opens by wire code, `-` when none. */
export function failedText(failed: Record<string, number>): string {
  const codes = Object.entries(failed).sort(([a], [b]) => Number(a) - Number(b));
  return codes.length === 0 ? '-' : codes.map(([code, n]) => `${code}:${n}`).join(',');
}

/** `ssh:3,tls:1` for ended streams by protocol (most first), `-` when none. */
export function protocolsText(protocols: Record<string, number> | undefined): string {
  const counts = Object.entries(protocols ?? {}).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  return counts.length === 0 ? '-' : counts.map(([name, n]) => `${name}:${n}`).join(',');
}

/** `tether analytics`: TIME, KEY, BYTES_UP, BYTES_DOWN, STREAMS, SESSIONS, AVG_SESSION_S, PEAK, FAILED (code:count), PROTOCOLS (name:count). */
export function analyticsTable(rows: readonly AnalyticsRow[], by: string): Table {
  return {
    header: ['TIME', by.toUpperCase(), 'BYTES_UP', 'BYTES_DOWN', 'STREAMS', 'SESSIONS', 'AVG_SESSION_S', 'PEAK', 'FAILED', 'PROTOCOLS'],
    rows: rows.map((r) => [
      r.time,
      cell(r.key),
      String(r.bytesUp),
      String(r.bytesDown),
      String(r.opened),
      String(r.closed),
      r.closed === 0 ? '-' : (r.durationMs / r.closed / 1000).toFixed(1),
      String(r.peak),
      failedText(r.failed),
      cell(protocolsText(r.protocols)),
    ]),
  };
}

const UNITS: Record<string, string> = { streams: 'concurrent streams (peak per hour)', bytes: 'bytes per hour', tunnels: 'active tunnels per hour' };
const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));
const pct = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(1)}%`);

/**
 * `tether analytics forecast`: a table TIME, FORECAST, LOWER, UPPER (tab-separated, on stdout)
 * and the summary lines (history, backtest error, capacity date, notes) for stderr.
 */
export function forecastText(answer: ForecastAnswer): { table: Table; summary: string[] } {
  const table: Table = { header: ['TIME', 'FORECAST', 'LOWER', 'UPPER'], rows: (answer.forecast?.points ?? []).map((p) => [p.time, num(p.value), num(p.lower), num(p.upper)]) };
  const where = answer.scope === 'node' ? `node ${answer.node ?? '?'}` : 'the cluster';
  const summary: string[] = [];
  summary.push(`Forecast of ${UNITS[answer.metric] ?? answer.metric} for ${where}, ${answer.horizonHours} h ahead, from ${answer.history.points} hour${answer.history.points === 1 ? '' : 's'} of history`);
  if (answer.forecast) {
    const seasons = answer.forecast.seasons.length === 0 ? 'no season' : `seasons ${answer.forecast.seasons.map((s) => `${s} h`).join(', ')}`;
    summary.push(`Model: Holt-Winters, ${seasons}${answer.forecast.trend ? ', trend' : ''}; intervals ${Math.round(answer.forecast.coverage * 100)}%`);
  }
  const bt = answer.backtest;
  summary.push(bt ? `Backtest error: MAPE ${pct(bt.mape)}, MASE ${bt.mase === null ? 'n/a' : bt.mase.toFixed(2)}, interval coverage ${bt.coverage === null ? 'n/a' : `${Math.round(bt.coverage * 100)}%`} (nominal ${Math.round(bt.nominalCoverage * 100)}%), ${bt.points} points over ${bt.folds} fold${bt.folds === 1 ? '' : 's'}` : 'Backtest error: unknown (not enough history yet)');
  const cap = answer.capacity;
  if (cap) {
    const subject = answer.scope === 'node' ? `node ${answer.node ?? '?'}` : 'the cluster';
    if (!answer.forecast) summary.push(`Capacity ${num(cap.capacity)}: no forecast yet, so no date`);
    else if (cap.point) summary.push(`At this trend, ${subject} reaches its configured capacity (${num(cap.capacity)}) on ${cap.point}${cap.upper && cap.upper !== cap.point ? `; possibly as early as ${cap.upper}` : ''}`);
    else if (cap.upper) summary.push(`At this trend, ${subject} stays below its configured capacity (${num(cap.capacity)}) for the next ${answer.horizonHours} h; it could reach it as early as ${cap.upper}`);
    else summary.push(`At this trend, ${subject} stays below its configured capacity (${num(cap.capacity)}) for the next ${answer.horizonHours} h`);
  }
  for (const note of answer.notes) summary.push(`Note: ${note}`);
  return { table, summary };
}
