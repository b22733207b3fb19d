import type { Counter, Gauge, Histogram, Metrics } from '../ports/metrics.js';

const counter: Counter = { inc: () => undefined };
const gauge: Gauge = { set: () => undefined, inc: () => undefined, dec: () => undefined };
const histogram: Histogram = { observe: () => undefined };

/** Instruments that record nothing: the default until an exporter is configured. */
export const noopMetrics: Metrics = {
  counter: () => counter,
  gauge: () => gauge,
  histogram: () => histogram,
};
