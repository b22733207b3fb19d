/**
 * The forecaster's entry point: a series in, a forecast with intervals out, fitted only on the points before
 * the forecast's start (so a backtest, or a forecast "as of last Monday", sees exactly what it would have
 * seen then; later points are not even read, gap filling included).
 */
import { MIN_POINTS, fitHoltWinters } from './fit.js';
import { invalidArgument } from './invalid.js';
import { predict } from './predict.js';
import { checkSeasons, chooseSeasons, defaultSeasons } from './seasons.js';
import { checkStep, isoTime, regularise, type RegularSeries, type TimeSeries } from './series.js';

export interface ForecastOptions {
  /** How many steps to forecast (a positive whole number; the CLI's duration divided by the step). */
  readonly horizon: number;
  /** Time (ms) of the first forecast point, on the series' grid; default one step after the last point. */
  readonly start?: number;
  /** Seasonal periods in steps; default a day and a week where they are whole numbers of steps (seasons.ts). */
  readonly seasons?: readonly number[];
  /** Model a linear trend (default true). */
  readonly trend?: boolean;
  /** Coverage of the prediction intervals, in (0, 1) (default 0.8). */
  readonly coverage?: number;
  /** Fill missing points by linear interpolation (default true; see series.ts). */
  readonly fillGaps?: boolean;
}

export interface ForecastPoint {
  readonly t: number;
  readonly value: number;
  readonly lower: number;
  readonly upper: number;
}

export interface ForecastModel {
  readonly method: 'additive-holt-winters';
  /** Periods used, in steps (fewer than asked for when the history was short: see droppedSeasons). */
  readonly seasons: readonly number[];
  readonly droppedSeasons: readonly number[];
  readonly trend: boolean;
  readonly alpha: number;
  readonly beta: number;
  readonly gammas: readonly number[];
  /** Standard deviation of the one-step-ahead error. */
  readonly sigma: number;
  /** Points fitted (after gap filling), and how many of them were filled in. */
  readonly trainingPoints: number;
  readonly filledPoints: number;
  /** Time of the last point fitted. */
  readonly trainingEnd: number;
}

export interface Forecast {
  readonly start: number;
  readonly step: number;
  readonly coverage: number;
  readonly points: readonly ForecastPoint[];
  readonly model: ForecastModel;
  /** Things the caller should tell the user (dropped seasons, filled points). */
  readonly notes: readonly string[];
}

/** Longest horizon accepted, in steps (about two years per minute). */
export const MAX_HORIZON = 1_000_000;
export const DEFAULT_COVERAGE = 0.8;

/** Forecasts `series` for `options.horizon` steps. Throws INVALID_ARGUMENT on bad input (see series.ts). */
export function forecast(series: TimeSeries, options: ForecastOptions): Forecast {
  return forecastWithTraining(series, options).forecast;
}

/** forecast(), also returning the regularised training data (the backtest scales its errors by it). */
export function forecastWithTraining(series: TimeSeries, options: ForecastOptions): { forecast: Forecast; training: RegularSeries } {
  const { horizon } = options;
  const coverage = options.coverage ?? DEFAULT_COVERAGE;
  checkStep(series.step);
  if (!Number.isSafeInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) {
    throw invalidArgument(`horizon is a whole number of steps from 1 to ${MAX_HORIZON}; got ${horizon}`);
  }
  if (!(coverage > 0 && coverage < 1)) throw invalidArgument(`coverage is a fraction strictly between 0 and 1 (e.g. 0.8); got ${coverage}`);
  const wanted = options.seasons ?? defaultSeasons(series.step);
  checkSeasons(wanted);
  if (series.points.length === 0) throw invalidArgument('the series has no points');

  const first = series.points[0].t;
  const last = series.points[series.points.length - 1].t;
  const start = options.start ?? last + series.step;
  if (!Number.isFinite(start) || !Number.isInteger((start - first) / series.step)) {
    throw invalidArgument(`start ${isoTime(start)} is not on the series' ${series.step} ms grid (which starts at ${isoTime(first)})`);
  }
  const before = series.points.filter((p) => p.t < start);
  if (before.length < MIN_POINTS) {
    throw invalidArgument(`a forecast needs at least ${MIN_POINTS} points before its start (${isoTime(start)}), there are ${before.length}; collect more history`);
  }
  const training = regularise({ step: series.step, points: before }, { fillGaps: options.fillGaps });
  const n = training.values.length;
  const choice = chooseSeasons(wanted, n);
  const spec = { seasons: choice.seasons, trend: options.trend ?? true };
  const model = fitHoltWinters(training.values, spec);
  const trainingEnd = training.start + (n - 1) * series.step;
  const skip = (start - trainingEnd) / series.step - 1;
  const prediction = predict(model, skip + horizon, coverage);
  const points: ForecastPoint[] = [];
  for (let k = 0; k < horizon; k++) {
    const i = skip + k;
    points.push({ t: start + k * series.step, value: prediction.values[i], lower: prediction.lower[i], upper: prediction.upper[i] });
  }
  const notes = [...choice.notes];
  if (training.filledCount > 0) notes.push(`${training.filledCount} of ${n} training points were missing and filled by linear interpolation`);
  return {
    training,
    forecast: {
      start,
      step: series.step,
      coverage,
      points,
      model: {
        method: 'additive-holt-winters',
        seasons: spec.seasons,
        droppedSeasons: choice.dropped,
        trend: spec.trend,
        alpha: model.params.alpha,
        beta: model.params.beta,
        gammas: model.params.gammas,
        sigma: model.sigma,
        trainingPoints: n,
        filledPoints: training.filledCount,
        trainingEnd,
      },
      notes,
    },
  };
}
