/**
 * `@tether/shared/forecast`: forecasting of usage series (additive Holt-Winters with daily and weekly seasons),
 * capacity crossing and rolling-origin backtests. Pure maths: no Node built-in, no I/O.
 */
export * from './backtest.js';
export * from './capacity.js';
export { DEFAULT_COVERAGE, MAX_HORIZON, forecast, type Forecast, type ForecastModel, type ForecastOptions, type ForecastPoint } from './forecast.js';
export * from './fit.js';
export type { HoltWintersParams, HoltWintersSpec, HoltWintersState } from './holt-winters.js';
export * from './metrics.js';
export * from './predict.js';
export * from './seasons.js';
export { regularise, type RegularSeries, type RegulariseOptions, type SeriesPoint, type TimeSeries } from './series.js';
