/**
 * Nelder–Mead simplex minimisation, unconstrained (callers map bounded parameters through a logit).
 * Deterministic: the same function and start give the same answer, which the forecaster relies on (a
 * forecast must be reproducible from its inputs). Standard coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5 (Lagarias et al. 1998). NaN is treated as +Infinity, so a parameter set that
 * blows the model up is simply a bad one.
 */

export interface NelderMeadOptions {
  /** Edge of the initial simplex along each axis (default 1). */
  readonly initialStep?: number;
  /** Stop after about this many evaluations of `f` (default 200 per dimension); the last iteration is finished, which may take dim + 1 more. */
  readonly maxEvaluations?: number;
  /** Stop when the simplex's values differ by less than this, relative to the best (default 1e-8). */
  readonly tolerance?: number;
  /** Stop when the best value is at or below this (default 0): there is nothing left to win. */
  readonly good?: number;
}

export interface NelderMeadResult {
  readonly x: number[];
  readonly value: number;
  readonly evaluations: number;
}

export function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], options: NelderMeadOptions = {}): NelderMeadResult {
  const dim = start.length;
  const step = options.initialStep ?? 1;
  const maxEvaluations = options.maxEvaluations ?? 200 * Math.max(1, dim);
  const tolerance = options.tolerance ?? 1e-8;
  const good = options.good ?? 0;
  let evaluations = 0;
  const evaluate = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v;
  };
  if (dim === 0) return { x: [], value: evaluate([]), evaluations };

  const simplex: number[][] = [[...start]];
  for (let i = 0; i < dim; i++) {
    const vertex = [...start];
    vertex[i] += step;
    simplex.push(vertex);
  }
  const values = simplex.map(evaluate);
  const order = (): void => {
    const idx = simplex.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
    const s = idx.map((i) => simplex[i]);
    const v = idx.map((i) => values[i]);
    for (let i = 0; i <= dim; i++) {
      simplex[i] = s[i];
      values[i] = v[i];
    }
  };
  const along = (centroid: number[], worst: number[], coef: number): number[] =>
    centroid.map((c, i) => c + coef * (c - worst[i]));

  order();
  while (evaluations < maxEvaluations) {
    const spread = Math.abs(values[dim] - values[0]);
    if (spread <= tolerance * (Math.abs(values[0]) + 1e-30) || values[0] <= good) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j] += simplex[i][j] / dim;
    const worst = simplex[dim];
    const reflected = along(centroid, worst, 1);
    const fr = evaluate(reflected);
    if (fr < values[0]) {
      const expanded = along(centroid, worst, 2);
      const fe = evaluate(expanded);
      if (fe < fr) {
        simplex[dim] = expanded;
        values[dim] = fe;
      } else {
        simplex[dim] = reflected;
        values[dim] = fr;
      }
    } else if (fr < values[dim - 1]) {
      simplex[dim] = reflected;
      values[dim] = fr;
    } else {
      const outside = fr < values[dim];
      const contracted = along(centroid, worst, outside ? 0.5 : -0.5);
      const fc = evaluate(contracted);
      if (fc < (outside ? fr : values[dim])) {
        simplex[dim] = contracted;
        values[dim] = fc;
      } else {
        for (let i = 1; i <= dim; i++) {
          simplex[i] = simplex[i].map((x, j) => simplex[0][j] + 0.5 * (x - simplex[0][j]));
          values[i] = evaluate(simplex[i]);
        }
      }
    }
    order();
  }
  return { x: simplex[0], value: values[0], evaluations };
}
