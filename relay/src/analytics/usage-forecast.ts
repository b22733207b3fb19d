import { createError, ErrorCode, TetherError } from '@tether/shared';
import { backtest, capacityCrossing, forecast, MIN_POINTS } from '@tether/shared/forecast';
import { STEP_MS, type UsageRow } from '../ports/usage-store.js';
import { usageSeries, type ForecastMetric } from './aggregate.js';

const HOUR = STEP_MS.hour;
/** Longest horizon: a year. */
export const MAX_HORIZON_MS = 365 * 86_400_000;
/** History read for a forecast: eight weeks of hours (two weekly cycles and then some). */
export const HISTORY_MS = 8 * 7 * 86_400_000;

const UNITS: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: HOUR };

/** `72h`, `7d`, `2w`, `1w3d`: whole hours, up to a year; anything else is INVALID_ARGUMENT saying what to give. */
export function parseHorizon(text: string): number {
  const match = /^(?:(\d{1,4})w)?(?:(\d{1,4})d)?(?:(\d{1,5})h)?$/.exec(text);
  const ms = match && text !== '' ? Number(match[1] ?? 0) * UNITS.w + Number(match[2] ?? 0) * UNITS.d + Number(match[3] ?? 0) * UNITS.h : 0;
  if (!(ms >= HOUR && ms <= MAX_HORIZON_MS)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `horizon must be a duration in whole hours, days or weeks from 1h to 365d (e.g. 48h, 7d, 2w), got ${JSON.stringify(text)}`);
  }
  return ms;
}

export interface ForecastPointOut {
  time: string;
  value: number;
  lower: number;
  upper: number;
}

export interface UsageForecastResult {
  metric: ForecastMetric;
  scope: 'node' | 'cluster';
  /** The node forecast (scope node). */
  node?: string;
  step: 'hour';
  horizonHours: number;
  history: { points: number; from: string | null; to: string | null };
  /** Null when the history is too short to fit anything (notes say why). */
  forecast: { coverage: number; seasons: number[]; droppedSeasons: number[]; trend: boolean; points: ForecastPointOut[] } | null;
  /** Rolling-origin backtest on the same history (null when too short for one fold). */
  backtest: { mape: number | null; mase: number | null; coverage: number | null; nominalCoverage: number; points: number; folds: number } | null;
  capacity: { capacity: number; point: string | null; upper: string | null } | null;
  notes: string[];
}

const iso = (t: number): string => new Date(t).toISOString();
const round = (v: number): number => Math.round(v * 1000) / 1000;

/** Fits an hourly series of `rows` (hour rows) up to `now` and forecasts `horizonMs` ahead. */
export function forecastUsage(rows: readonly UsageRow[], options: { metric: ForecastMetric; scope: 'node' | 'cluster'; node?: string; horizonMs: number; now: number; capacity?: number }): UsageForecastResult {
  const horizon = Math.round(options.horizonMs / HOUR);
  const points = usageSeries(rows, options.metric, 'hour', options.now);
  const result: UsageForecastResult = {
    metric: options.metric,
    scope: options.scope,
    ...(options.node !== undefined ? { node: options.node } : {}),
    step: 'hour',
    horizonHours: horizon,
    history: { points: points.length, from: points.length ? iso(points[0].t) : null, to: points.length ? iso(points[points.length - 1].t) : null },
    forecast: null,
    backtest: null,
    capacity: null,
    notes: [],
  };
  if (points.length < MIN_POINTS) {
    result.notes.push(`history is short: ${points.length} whole hour${points.length === 1 ? '' : 's'} of usage so far; a forecast needs at least ${MIN_POINTS} (a daily season 2 days, a weekly one 2 weeks). Try again once the relay has carried traffic for a few hours`);
    return result;
  }
  const series = { step: HOUR, points };
  const fitted = forecast(series, { horizon });
  result.forecast = {
    coverage: fitted.coverage,
    seasons: [...fitted.model.seasons],
    droppedSeasons: [...fitted.model.droppedSeasons],
    trend: fitted.model.trend,
    points: fitted.points.map((p) => ({ time: iso(p.t), value: round(Math.max(0, p.value)), lower: round(Math.max(0, p.lower)), upper: round(Math.max(0, p.upper)) })),
  };
  result.notes.push(...fitted.notes);
  // Backtest: up to three folds of at most the horizon, each with enough history before it.
  const backHorizon = Math.max(1, Math.min(horizon, Math.floor((points.length - MIN_POINTS) / 2)));
  let folds = 3;
  while (folds > 0 && points.length - backHorizon * folds < MIN_POINTS) folds--;
  if (folds === 0) {
    result.notes.push('too little history for a backtest yet: its error is unknown');
  } else {
    try {
      const bt = backtest(series, { horizon: backHorizon, folds });
      result.backtest = { mape: bt.mape === null ? null : round(bt.mape), mase: bt.mase === null ? null : round(bt.mase), coverage: bt.coverage === null ? null : round(bt.coverage), nominalCoverage: bt.nominalCoverage, points: bt.points, folds: bt.folds.length };
      if (backHorizon < horizon) result.notes.push(`backtest over ${backHorizon} hour${backHorizon === 1 ? '' : 's'} ahead (less history than the horizon)`);
    } catch (err) {
      if (!(err instanceof TetherError)) throw err;
      result.notes.push(`no backtest: ${err.message}`);
    }
  }
  if (options.capacity !== undefined) {
    const crossing = capacityCrossing(fitted, options.capacity);
    result.capacity = { capacity: options.capacity, point: crossing.point && iso(crossing.point.t), upper: crossing.upper && iso(crossing.upper.t) };
  }
  return result;
}
