/**
 * Forecast accuracy measures, as in Hyndman & Koehler, "Another look at measures of forecast accuracy" (2006).
 * MAPE is in percent and undefined where the actual value is 0 (idle hours are common in usage data), so such
 * points are left out of it; MASE has no such hole, which is why the CLI leads with it.
 */

/** Mean absolute error of the seasonal naive forecast y_t = y_{t-lag} over `values`, or NaN if too short. */
export function seasonalNaiveMae(values: readonly number[], lag: number): number {
  if (values.length <= lag) return NaN;
  let sum = 0;
  for (let t = lag; t < values.length; t++) sum += Math.abs(values[t] - values[t - lag]);
  return sum / (values.length - lag);
}

/** Accumulates errors over many forecast points (e.g. the folds of a backtest). */
export class AccuracyTally {
  private apeSum = 0;
  private apeCount = 0;
  private aseSum = 0;
  private aseCount = 0;
  private covered = 0;
  private count = 0;

  /** One forecast point: the actual value, the forecast and its interval, and the MASE scale for it. */
  add(actual: number, predicted: number, lower: number, upper: number, scale: number): void {
    const error = Math.abs(actual - predicted);
    if (actual !== 0) {
      this.apeSum += error / Math.abs(actual);
      this.apeCount++;
    }
    if (scale > 0 && Number.isFinite(scale)) {
      this.aseSum += error / scale;
      this.aseCount++;
    }
    if (actual >= lower && actual <= upper) this.covered++;
    this.count++;
  }

  /** Points added. */
  get points(): number {
    return this.count;
  }

  /** Mean absolute percentage error, in percent; null when every actual was 0 (or nothing was added). */
  get mape(): number | null {
    return this.apeCount > 0 ? (100 * this.apeSum) / this.apeCount : null;
  }

  /** Mean absolute scaled error; null when no point had a usable scale. */
  get mase(): number | null {
    return this.aseCount > 0 ? this.aseSum / this.aseCount : null;
  }

  /** Fraction of actual values inside their interval; null when nothing was added. */
  get coverage(): number | null {
    return this.count > 0 ? this.covered / this.count : null;
  }
}
