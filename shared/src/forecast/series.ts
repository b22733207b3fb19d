/**
 * The time series shape the forecaster takes, and its conversion to an evenly spaced array of values.
 *
 * A series is a list of `{t, value}` points, `t` in ms since the epoch, on a grid of `step` ms starting at
 * the first point. The relay rolls usage up per minute, hour or day, so its series are on such a grid
 * already; anything else (a point between grid times, unsorted or repeated times, a non-finite value) is
 * refused with INVALID_ARGUMENT rather than guessed at, since a quiet guess would skew every forecast.
 *
 * Missing points (grid times with no point: a relay that was down, a roll-up that did not run) are filled
 * by linear interpolation between the nearest points either side, and counted, so the caller can say how
 * much of the series was invented. Ends are never extrapolated: a series starts and ends with real points.
 * `fillGaps: false` refuses gaps instead.
 */
import { invalidArgument } from './invalid.js';

export interface SeriesPoint {
  /** ms since the epoch. */
  readonly t: number;
  readonly value: number;
}

export interface TimeSeries {
  /** Grid spacing in ms (a positive integer). */
  readonly step: number;
  /** Points sorted by `t`, each on the grid `points[0].t + k * step`. */
  readonly points: readonly SeriesPoint[];
}

export interface RegularSeries {
  /** `t` of values[0]. */
  readonly start: number;
  readonly step: number;
  readonly values: number[];
  /** filled[i] is true when values[i] was interpolated, not observed. */
  readonly filled: boolean[];
  /** How many values were interpolated. */
  readonly filledCount: number;
}

export interface RegulariseOptions {
  /** Fill missing grid points by linear interpolation (default true); false refuses a gap. */
  readonly fillGaps?: boolean;
}

/** Checks `step`, whatever the series: a positive whole number of ms. */
export function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step <= 0) {
    throw invalidArgument(`step must be a positive whole number of ms, got ${step}`);
  }
}

/**
 * The series as evenly spaced values from its first point to its last, gaps filled (or refused).
 * Throws INVALID_ARGUMENT on an empty series, a bad step, a non-finite `t` or value, times out of order
 * or repeated, or a time off the grid.
 */
export function regularise(series: TimeSeries, options: RegulariseOptions = {}): RegularSeries {
  const { step, points } = series;
  checkStep(step);
  if (points.length === 0) throw invalidArgument('the series has no points');
  const start = points[0].t;
  const values: number[] = [];
  const filled: boolean[] = [];
  let filledCount = 0;
  for (let i = 0; i < points.length; i++) {
    const { t, value } = points[i];
    if (!Number.isFinite(t)) throw invalidArgument(`point ${i} has a non-finite time (${t})`);
    if (!Number.isFinite(value)) {
      throw invalidArgument(`the value at t=${isoTime(t)} is ${value}; drop the point (a gap is filled) or give a number`);
    }
    const offset = (t - start) / step;
    if (!Number.isInteger(offset)) {
      throw invalidArgument(
        `the point at t=${isoTime(t)} is not on the ${step} ms grid that starts at ${isoTime(start)}; roll the series up to whole steps first`,
      );
    }
    if (i > 0 && offset <= values.length - 1) {
      throw invalidArgument(`times must increase: t=${isoTime(t)} comes after a point at or later than it; sort the points and merge repeats`);
    }
    const gap = offset - values.length;
    if (gap > 0) {
      if (options.fillGaps === false) {
        throw invalidArgument(`${gap} point(s) missing before t=${isoTime(t)}; fill them or allow gap filling`);
      }
      const before = values[values.length - 1];
      for (let k = 1; k <= gap; k++) {
        values.push(before + ((value - before) * k) / (gap + 1));
        filled.push(true);
      }
      filledCount += gap;
    }
    values.push(value);
    filled.push(false);
  }
  return { start, step, values, filled, filledCount };
}

/** A time for an error message: ISO when it is a plausible date, the raw number otherwise. */
export function isoTime(t: number): string {
  return Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);
}
