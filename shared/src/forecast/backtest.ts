/**
 * Rolling-origin evaluation ("time series cross-validation", Tashman 2000): forecast from several origins
 * near the end of the series, each fitted only on the points before it, and score the forecasts against the
 * points that followed. This is the error the CLI prints beside a forecast, so that a user can judge how far
 * to trust it on their own data rather than on ours.
 *
 * Origins: the last is `horizon` steps before the end of the series (so its whole horizon can be scored),
 * each earlier one `stride` steps before the next (default: the horizon, so the scored windows do not
 * overlap). Only observed points are scored; gaps filled by interpolation are not.
 *
 * MASE scales each fold's errors by the in-sample MAE of the seasonal naive forecast at the longest season
 * the fold's model used (lag 1 when it used none), per Hyndman & Koehler (2006).
 */
import { forecastWithTraining, type ForecastOptions } from './forecast.js';
import { invalidArgument } from './invalid.js';
import { AccuracyTally, seasonalNaiveMae } from './metrics.js';
import { checkStep, regularise, type TimeSeries } from './series.js';

export interface BacktestOptions extends Omit<ForecastOptions, 'start'> {
  /** How many origins (a positive whole number). */
  readonly folds: number;
  /** Steps between origins (default: the horizon). */
  readonly stride?: number;
}

export interface FoldResult {
  /** Time of the fold's first forecast point. */
  readonly origin: number;
  readonly trainingPoints: number;
  /** Observed points scored. */
  readonly points: number;
  readonly mape: number | null;
  readonly mase: number | null;
  readonly coverage: number | null;
  /** The MASE denominator: in-sample seasonal naive MAE. */
  readonly scale: number;
  readonly seasons: readonly number[];
  readonly notes: readonly string[];
}

export interface BacktestResult {
  /** Over all scored points of all folds; MAPE in percent. */
  readonly mape: number | null;
  readonly mase: number | null;
  /** Fraction of scored points inside their interval, to compare with `nominalCoverage`. */
  readonly coverage: number | null;
  readonly nominalCoverage: number;
  readonly points: number;
  readonly folds: readonly FoldResult[];
}

export function backtest(series: TimeSeries, options: BacktestOptions): BacktestResult {
  const { step, points } = series;
  checkStep(step);
  const { folds, horizon } = options;
  const stride = options.stride ?? horizon;
  if (!Number.isSafeInteger(folds) || folds < 1) throw invalidArgument(`folds is a whole number, at least 1; got ${folds}`);
  if (!Number.isSafeInteger(stride) || stride < 1) throw invalidArgument(`stride is a whole number of steps, at least 1; got ${stride}`);
  // Every point is checked up front, the scored ones too (each fold's forecast reads only its own past).
  regularise(series, { fillGaps: options.fillGaps });
  const byTime = new Map<number, number>();
  for (const p of points) byTime.set(p.t, p.value);
  const end = points[points.length - 1].t + step;
  const firstOrigin = end - (horizon + (folds - 1) * stride) * step;
  if (firstOrigin <= points[0].t) {
    throw invalidArgument(
      `${folds} folds of ${horizon} steps (${stride} apart) need more than ${horizon + (folds - 1) * stride} points; the series spans ${(end - points[0].t) / step}: ask for fewer folds or a shorter horizon`,
    );
  }

  const total = new AccuracyTally();
  const results: FoldResult[] = [];
  for (let f = 0; f < folds; f++) {
    const origin = firstOrigin + f * stride * step;
    const { forecast, training } = forecastWithTraining(series, { ...options, start: origin });
    const seasons = forecast.model.seasons;
    const scale = seasonalNaiveMae(training.values, seasons.length > 0 ? seasons[seasons.length - 1] : 1);
    const tally = new AccuracyTally();
    for (const p of forecast.points) {
      const actual = byTime.get(p.t);
      if (actual === undefined) continue;
      tally.add(actual, p.value, p.lower, p.upper, scale);
      total.add(actual, p.value, p.lower, p.upper, scale);
    }
    results.push({
      origin,
      trainingPoints: forecast.model.trainingPoints,
      points: tally.points,
      mape: tally.mape,
      mase: tally.mase,
      coverage: tally.coverage,
      scale,
      seasons,
      notes: forecast.notes,
    });
  }
  return { mape: total.mape, mase: total.mase, coverage: total.coverage, nominalCoverage: options.coverage ?? 0.8, points: total.points, folds: results };
}
