/**
 * Point forecasts and prediction intervals from a fitted model.
 *
 * The intervals are analytic: for additive Holt-Winters with independent Gaussian one-step errors of
 * variance sigma^2 (Hyndman et al., "Forecasting with Exponential Smoothing", 2008, ch. 6, class 1), the
 * h-step-ahead error is e_{t+h} + sum_{j=1}^{h-1} c_j e_{t+h-j} with
 *
 *   c_j = alpha + alpha beta j + sum_i gamma_i (1 - alpha) [j is a multiple of p_i]
 *
 * so its variance is sigma^2 (1 + sum_{j<h} c_j^2), and the interval is the point forecast +/- z sigma_h with
 * z the normal quantile for the coverage. This was chosen over quantiles of in-sample h-step errors because it
 * costs O(horizon) rather than O(training x horizon) (a week ahead per minute is 10,080 steps), needs no long
 * history per horizon, and is smooth in h. Its weakness: it trusts the Gaussian assumption, so bursty usage
 * with heavy tails gets intervals somewhat too narrow; the backtest's coverage figure is there to show that.
 */
import type { FittedHoltWinters } from './fit.js';
import { pointForecasts } from './holt-winters.js';
import { invalidArgument } from './invalid.js';
import { normalQuantile } from './normal.js';

export interface Prediction {
  readonly values: number[];
  readonly lower: number[];
  readonly upper: number[];
  /** Standard deviation of the forecast error at each horizon. */
  readonly sd: number[];
}

/** Forecasts for steps 1..horizon after the last training value, with intervals at `coverage` (0 < c < 1). */
export function predict(model: FittedHoltWinters, horizon: number, coverage: number): Prediction {
  if (!Number.isSafeInteger(horizon) || horizon < 1) throw invalidArgument(`horizon is a whole number of steps, at least 1; got ${horizon}`);
  if (!(coverage > 0 && coverage < 1)) throw invalidArgument(`coverage is a fraction strictly between 0 and 1 (e.g. 0.8); got ${coverage}`);
  const values = pointForecasts(model.state, model.spec, horizon);
  const { alpha, beta, gammas } = model.params;
  const { seasons } = model.spec;
  const z = normalQuantile(0.5 + coverage / 2);
  const lower: number[] = [];
  const upper: number[] = [];
  const sd: number[] = [];
  let sumSquares = 1;
  for (let h = 1; h <= horizon; h++) {
    if (h > 1) {
      const j = h - 1;
      let c = alpha + alpha * beta * j;
      for (let i = 0; i < seasons.length; i++) if (j % seasons[i] === 0) c += gammas[i] * (1 - alpha);
      sumSquares += c * c;
    }
    const s = model.sigma * Math.sqrt(sumSquares);
    sd.push(s);
    lower.push(values[h - 1] - z * s);
    upper.push(values[h - 1] + z * s);
  }
  return { values, lower, upper, sd };
}
