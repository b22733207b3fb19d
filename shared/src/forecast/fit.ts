/**
 * Fitting the smoothing parameters of holt-winters.ts: minimise the sum of squared one-step-ahead errors over
 * the training data, as Taylor (2003) and R's HoltWinters() do. Each parameter lives in (0, 1); the search
 * runs on their logits, so any real vector is a valid model and Nelder–Mead needs no bounds. It starts from
 * the best point of a small fixed grid (the SSE surface of Holt-Winters has several basins, and a single
 * start point lands in the wrong one too often), then refines. Everything is deterministic.
 *
 * The initial state is not fitted (see holt-winters.ts for how it is set); the residual variance counts it as
 * estimated, though: sigma^2 = SSE / (n - k), k = smoothing parameters + level + trend + longest period,
 * which offsets the too-small errors of the two cycles the initial state was computed from.
 */
import { copyState, filter, initialState, type HoltWintersParams, type HoltWintersSpec, type HoltWintersState } from './holt-winters.js';
import { invalidArgument } from './invalid.js';
import { nelderMead } from './nelder-mead.js';
import { checkSeasons } from './seasons.js';

export interface FittedHoltWinters {
  readonly spec: HoltWintersSpec;
  readonly params: HoltWintersParams;
  /** The state after the last training value, ready to forecast from. */
  readonly state: HoltWintersState;
  /** How many training values were fitted. */
  readonly n: number;
  /** Sum of squared one-step-ahead errors at the fitted parameters. */
  readonly sse: number;
  /** Estimated standard deviation of the one-step-ahead error. */
  readonly sigma: number;
  /** One-step-ahead errors over the training data, in order. */
  readonly residuals: readonly number[];
}

/** Smallest and largest smoothing parameter the search can reach (logit +/- 9). */
const LOGIT_LIMIT = 9;
const ALPHA_GRID = [0.05, 0.2, 0.5, 0.8];
const BETA_GRID = [0.001, 0.02, 0.15];
const GAMMA_GRID = [0.01, 0.1, 0.4];

const logistic = (x: number): number => 1 / (1 + Math.exp(-Math.max(-LOGIT_LIMIT, Math.min(LOGIT_LIMIT, x))));
const logit = (p: number): number => Math.log(p / (1 - p));

/** Fewest values fitHoltWinters takes with no season (with seasons: two cycles of the longest). */
export const MIN_POINTS = 4;

/**
 * Fits the model to `values` (evenly spaced and finite: forecast() gets them from regularise()). Throws
 * INVALID_ARGUMENT when there are fewer than two cycles of the longest period (MIN_POINTS with no season).
 */
export function fitHoltWinters(values: readonly number[], spec: HoltWintersSpec): FittedHoltWinters {
  checkSeasons(spec.seasons);
  const needed = spec.seasons.length > 0 ? 2 * spec.seasons[spec.seasons.length - 1] : MIN_POINTS;
  if (values.length < needed) throw invalidArgument(`fitting needs at least ${needed} values, got ${values.length}`);
  if (!values.every(Number.isFinite)) throw invalidArgument('fitting needs finite values; regularise() the series first');
  const start = initialState(values, spec);
  const toParams = (x: readonly number[]): HoltWintersParams => ({
    alpha: logistic(x[0]),
    beta: spec.trend ? logistic(x[1]) : 0,
    gammas: spec.seasons.map((_, i) => logistic(x[(spec.trend ? 2 : 1) + i])),
  });
  const sse = (x: readonly number[]): number => filter(values, spec, toParams(x), copyState(start));

  let best: number[] = [];
  let bestValue = Infinity;
  for (const point of grid(spec)) {
    const x = point.map(logit);
    const v = sse(x);
    if (v < bestValue) {
      bestValue = v;
      best = x;
    }
  }
  // A fit whose errors are all at rounding level (a noise-free series) cannot improve: stop there.
  const found = nelderMead(sse, best, { initialStep: 1, tolerance: 1e-10, good: 1e-20 * sumOfSquares(values) });
  const x = found.value < bestValue ? found.x : best;
  const params = toParams(x);
  const state = copyState(start);
  const residuals: number[] = [];
  const total = filter(values, spec, params, state, residuals);
  const k = 1 + (spec.trend ? 2 : 1) + spec.seasons.length + (spec.seasons.length > 0 ? spec.seasons[spec.seasons.length - 1] : 0);
  const sigma = Math.sqrt(total / Math.max(1, values.length - k));
  return { spec, params, state, n: values.length, sse: total, sigma, residuals };
}

function sumOfSquares(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return sum;
}

/** The start grid: every combination of the per-parameter grids, parameters in the order alpha, beta, gammas. */
function grid(spec: HoltWintersSpec): number[][] {
  const axes = [ALPHA_GRID, ...(spec.trend ? [BETA_GRID] : []), ...spec.seasons.map(() => GAMMA_GRID)];
  let points: number[][] = [[]];
  for (const axis of axes) points = points.flatMap((p) => axis.map((v) => [...p, v]));
  return points;
}
