/**
 * When a forecast reaches a configured capacity: "at this trend, this node reaches its configured capacity on
 * DATE". Two answers, since they mean different things to an operator: when the point forecast gets there
 * (the likely date) and when the interval's upper bound does (the date by which it could plausibly happen,
 * at the forecast's coverage). "Reaches" is value >= capacity; a forecast already at capacity crosses at its
 * first point.
 */
import type { Forecast } from './forecast.js';
import { invalidArgument } from './invalid.js';

export interface Crossing {
  /** Time of the first forecast point at or above capacity. */
  readonly t: number;
  /** Its index in forecast.points (steps after the forecast's start). */
  readonly index: number;
  /** The value that reached capacity (the point forecast or the upper bound). */
  readonly value: number;
}

export interface CapacityCrossing {
  readonly capacity: number;
  /** First point whose point forecast reaches capacity, or null within the horizon. */
  readonly point: Crossing | null;
  /** First point whose upper bound reaches capacity, or null within the horizon. */
  readonly upper: Crossing | null;
}

export function capacityCrossing(forecast: Pick<Forecast, 'points'>, capacity: number): CapacityCrossing {
  if (!Number.isFinite(capacity)) throw invalidArgument(`capacity must be a finite number, got ${capacity}`);
  let point: Crossing | null = null;
  let upper: Crossing | null = null;
  const { points } = forecast;
  for (let index = 0; index < points.length && (point === null || upper === null); index++) {
    const p = points[index];
    if (point === null && p.value >= capacity) point = { t: p.t, index, value: p.value };
    if (upper === null && p.upper >= capacity) upper = { t: p.t, index, value: p.upper };
  }
  return { capacity, point, upper };
}
