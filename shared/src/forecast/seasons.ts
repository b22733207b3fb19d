/**
 * Seasonal periods, in steps. Usage has a daily and a weekly cycle, so the default is "a day and a week,
 * whichever of them are a whole number (> 1) of steps": [24, 168] at an hourly step, [1440, 10080] per
 * minute, [7] per day. Periods must nest (each a multiple of the one before) so that the initial seasonal
 * pattern can be split between them (see holt-winters.ts).
 *
 * A period is only usable with at least two of its cycles in the training data (one to set the pattern,
 * one to see how it moves); with less, the longest periods are dropped and the result says so, rather than
 * fitting a weekly pattern from four days.
 */
import { invalidArgument } from './invalid.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** Daily and weekly periods in steps of `stepMs`, where they are whole numbers greater than 1. */
export function defaultSeasons(stepMs: number): number[] {
  const seasons: number[] = [];
  for (const period of [DAY_MS, WEEK_MS]) {
    const steps = period / stepMs;
    if (Number.isInteger(steps) && steps > 1) seasons.push(steps);
  }
  return seasons;
}

/** Checks periods given by a caller: whole numbers > 1, increasing, each a multiple of the one before. */
export function checkSeasons(seasons: readonly number[]): void {
  for (let i = 0; i < seasons.length; i++) {
    const p = seasons[i];
    if (!Number.isSafeInteger(p) || p < 2) throw invalidArgument(`season periods are whole numbers of steps, at least 2; got ${p}`);
    if (i > 0 && (p <= seasons[i - 1] || p % seasons[i - 1] !== 0)) {
      throw invalidArgument(
        `season periods must increase and each be a multiple of the one before (e.g. [24, 168] hourly); got [${seasons.join(', ')}]`,
      );
    }
  }
}

export interface SeasonChoice {
  /** The periods the model uses. */
  readonly seasons: number[];
  /** Periods asked for but dropped for want of data, longest first. */
  readonly dropped: number[];
  /** One sentence per dropped period, for the caller to show. */
  readonly notes: string[];
}

/** The periods usable with `n` training points: the longest are dropped until two cycles fit. */
export function chooseSeasons(wanted: readonly number[], n: number): SeasonChoice {
  const seasons = [...wanted];
  const dropped: number[] = [];
  const notes: string[] = [];
  while (seasons.length > 0 && n < 2 * seasons[seasons.length - 1]) {
    const p = seasons.pop() as number;
    dropped.push(p);
    notes.push(`season of ${p} steps dropped: it needs at least ${2 * p} training points (two cycles), there are ${n}`);
  }
  return { seasons, dropped, notes };
}
