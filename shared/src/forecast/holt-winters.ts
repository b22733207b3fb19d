/**
 * Additive Holt-Winters with any number of nested seasons: Taylor's double-seasonal method (J. W. Taylor,
 * "Short-term electricity demand forecasting using double seasonal exponential smoothing", JORS 54, 2003)
 * with an additive trend, and the single-season and no-season (Holt's linear) methods as the cases with
 * fewer periods. For observation y_t, level l, trend b, seasonal components s_i with periods p_i:
 *
 *   S_t   = sum_i s_i[t - p_i]                           (each component's value one cycle ago)
 *   e_t   = y_t - (l_{t-1} + b_{t-1} + S_t)              (one-step-ahead error)
 *   l_t   = alpha (y_t - S_t) + (1 - alpha)(l_{t-1} + b_{t-1})
 *   b_t   = beta (l_t - l_{t-1}) + (1 - beta) b_{t-1}
 *   s_i,t = gamma_i (y_t - l_t - (S_t - s_i[t - p_i])) + (1 - gamma_i) s_i[t - p_i]
 *   yhat_{t+h|t} = l_t + h b_t + sum_i s_i[t + h - k p_i]  (the latest value of each phase)
 *
 * In error-correction form (used for the prediction variance, predict.ts): l_t = l_{t-1} + b_{t-1} + alpha e_t,
 * b_t = b_{t-1} + alpha beta e_t and s_i,t = s_i[t - p_i] + gamma_i (1 - alpha) e_t.
 *
 * Taylor's AR(1) adjustment of the residuals is left out: it helps at horizons of minutes, the CLI asks for
 * days. Without a trend (`trend: false`) b is 0 throughout.
 *
 * Initial state (from the first two cycles of the longest period P, which is why two are needed): the level
 * is the mean of the first cycle, the trend the difference of the first two cycles' means over P, and the
 * combined seasonal pattern c_j (j < P) the mean over the two cycles of the detrended value at phase j. That
 * pattern is split between the components from the shortest up: s_1[j] is the mean of c over the phases
 * equal to j modulo p_1, the next component takes the mean of what is left modulo its period, and the
 * longest takes the remainder. With no season the level and trend are a least-squares line through the
 * first few points.
 */

export interface HoltWintersSpec {
  /** Seasonal periods in steps, increasing, each a multiple of the one before; may be empty. */
  readonly seasons: readonly number[];
  /** Model a trend (default in fit.ts: true). */
  readonly trend: boolean;
}

export interface HoltWintersParams {
  readonly alpha: number;
  /** 0 when the spec has no trend. */
  readonly beta: number;
  /** One per season. */
  readonly gammas: readonly number[];
}

/** The state after the last observation filtered. seasonals[i][phase] is component i's latest value. */
export interface HoltWintersState {
  level: number;
  trend: number;
  readonly seasonals: Float64Array[];
  /** Index of the next observation (the phase of index t is t mod p_i). */
  t: number;
}

/** Points the no-season initial line is fitted through. */
const LINE_POINTS = 10;

/** The initial state, before observation 0. Needs 2 * (longest period) values, or 2 with no season. */
export function initialState(values: readonly number[], spec: HoltWintersSpec): HoltWintersState {
  const { seasons } = spec;
  if (seasons.length === 0) return initialLine(values, spec.trend);
  const P = seasons[seasons.length - 1];
  let mean0 = 0;
  let mean1 = 0;
  for (let j = 0; j < P; j++) {
    mean0 += values[j] / P;
    mean1 += values[P + j] / P;
  }
  const trend = spec.trend ? (mean1 - mean0) / P : 0;
  const centre = (P - 1) / 2;
  // Level at index -1, so that level + trend is the line's value at index 0.
  const level = mean0 - trend * (centre + 1);
  const combined = new Float64Array(P);
  for (let j = 0; j < P; j++) {
    for (let k = 0; k < 2; k++) {
      const t = k * P + j;
      combined[j] += (values[t] - (mean0 + trend * (t - centre))) / 2;
    }
  }
  const seasonals: Float64Array[] = [];
  let remainder = combined;
  for (let i = 0; i < seasons.length; i++) {
    const p = seasons[i];
    const component = new Float64Array(p);
    if (i === seasons.length - 1) {
      component.set(remainder);
    } else {
      const cycles = P / p;
      for (let j = 0; j < P; j++) component[j % p] += remainder[j] / cycles;
      remainder = remainder.map((v, j) => v - component[j % p]);
    }
    seasonals.push(component);
  }
  return { level, trend, seasonals, t: 0 };
}

function initialLine(values: readonly number[], withTrend: boolean): HoltWintersState {
  const m = Math.min(values.length, LINE_POINTS);
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < m; i++) {
    meanX += i / m;
    meanY += values[i] / m;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < m; i++) {
    sxy += (i - meanX) * (values[i] - meanY);
    sxx += (i - meanX) ** 2;
  }
  const trend = withTrend && sxx > 0 ? sxy / sxx : 0;
  return { level: meanY - trend * (meanX + 1), trend, seasonals: [], t: 0 };
}

export function copyState(state: HoltWintersState): HoltWintersState {
  return { level: state.level, trend: state.trend, seasonals: state.seasonals.map((s) => s.slice()), t: state.t };
}

/**
 * Runs the recursions over `values` from `state` (which is updated in place), returning the sum of squared
 * one-step-ahead errors. `errors`, when given, receives each error.
 */
export function filter(values: readonly number[], spec: HoltWintersSpec, params: HoltWintersParams, state: HoltWintersState, errors?: number[]): number {
  const { alpha } = params;
  const beta = spec.trend ? params.beta : 0;
  const { gammas } = params;
  const { seasons } = spec;
  const { seasonals } = state;
  const k = seasons.length;
  const old = new Float64Array(k);
  let { level, trend } = state;
  let sse = 0;
  for (let n = 0; n < values.length; n++, state.t++) {
    const y = values[n];
    let S = 0;
    for (let i = 0; i < k; i++) {
      old[i] = seasonals[i][state.t % seasons[i]];
      S += old[i];
    }
    const e = y - (level + trend + S);
    sse += e * e;
    if (errors !== undefined) errors.push(e);
    const newLevel = alpha * (y - S) + (1 - alpha) * (level + trend);
    trend = beta * (newLevel - level) + (1 - beta) * trend;
    level = newLevel;
    for (let i = 0; i < k; i++) {
      seasonals[i][state.t % seasons[i]] = gammas[i] * (y - level - (S - old[i])) + (1 - gammas[i]) * old[i];
    }
  }
  state.level = level;
  state.trend = trend;
  return sse;
}

/** Point forecasts for the `horizon` steps after the state's last observation. */
export function pointForecasts(state: HoltWintersState, spec: HoltWintersSpec, horizon: number): number[] {
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    let v = state.level + h * state.trend;
    const t = state.t - 1 + h;
    for (let i = 0; i < spec.seasons.length; i++) v += state.seasonals[i][t % spec.seasons[i]];
    out.push(v);
  }
  return out;
}
