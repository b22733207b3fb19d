/**
 * Generated usage-like series for the forecaster's tests: y = a + b t + sum_k A_k sin(2 pi t / p_k) + noise,
 * t counted in steps, noise Gaussian from a seeded PRNG so that every run sees the same numbers.
 */
import type { TimeSeries } from '../forecast/series.js';
import { Prng } from './testing.js';

export const HOUR_MS = 3_600_000;
/** 2026-01-05T00:00:00Z, a Monday. */
export const EPOCH = Date.UTC(2026, 0, 5);

export interface SyntheticSpec {
  readonly points: number;
  readonly level: number;
  /** Added per step. */
  readonly slope: number;
  /** [period in steps, amplitude]. */
  readonly waves: ReadonlyArray<readonly [number, number]>;
  /** Standard deviation of the Gaussian noise (0 for none). */
  readonly noise: number;
  readonly seed?: number;
  readonly step?: number;
  readonly start?: number;
}

/** Standard normal draws by Box–Muller from a seeded PRNG. */
export function gaussian(prng: Prng): () => number {
  return () => {
    const u = (prng.u32() + 1) / 0x1_0000_0001;
    const v = prng.u32() / 0x1_0000_0000;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export function syntheticSeries(spec: SyntheticSpec): TimeSeries {
  const step = spec.step ?? HOUR_MS;
  const start = spec.start ?? EPOCH;
  const normal = gaussian(new Prng(spec.seed ?? 1));
  const points = [];
  for (let i = 0; i < spec.points; i++) {
    let value = spec.level + spec.slope * i;
    for (const [period, amplitude] of spec.waves) value += amplitude * Math.sin((2 * Math.PI * i) / period);
    if (spec.noise > 0) value += spec.noise * normal();
    points.push({ t: start + i * step, value });
  }
  return { step, points };
}
