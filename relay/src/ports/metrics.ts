/**
 * The relay's metrics port: a registry of named instruments in the Prometheus model, so an
 * exporter (capability 9) is one implementation. Labels are a small fixed set per metric.
 */
export type Labels = Readonly<Record<string, string>>;

export interface MetricDefinition {
  /** snake_case with a `tether_` prefix, e.g. `tether_streams_opened_total`. */
  name: string;
  help: string;
  labelNames?: readonly string[];
  /**
   * At most this many label sets (an exporter may cap them lower); past it new ones are folded
   * into one. For labels from a large set (tunnel names), opted into by the operator.
   */
  maxSeries?: number;
}

export interface HistogramDefinition extends MetricDefinition {
  /** Upper bounds of the buckets, ascending (seconds for durations). */
  buckets: readonly number[];
}

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface Metrics {
  counter(definition: MetricDefinition): Counter;
  gauge(definition: MetricDefinition): Gauge;
  histogram(definition: HistogramDefinition): Histogram;
}
