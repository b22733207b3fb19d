import { collectDefaultMetrics, Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry, type Metric } from 'prom-client';
import type { Counter, Gauge, Histogram, HistogramDefinition, Labels, MetricDefinition, Metrics } from '../ports/metrics.js';

/** Default cap on the label sets one metric may hold before new ones are folded into `_other`. */
export const DEFAULT_MAX_SERIES_PER_METRIC = 500;

/** The label value every label of a label set past a metric's cap is given. */
export const OTHER_LABEL_VALUE = '_other';

export const SERIES_DROPPED_METRIC = 'tether_metrics_series_dropped_total';

export interface PromMetricsOptions {
  /** Label sets per metric before new ones are folded into `_other` (default 500). */
  maxSeriesPerMetric?: number;
  /** Expose the Node process metrics (CPU, memory, event loop lag, GC…). Default true. */
  processMetrics?: boolean;
}

/**
 * The Node process metrics, collected once per process on a registry of their own (never the
 * global one) and registered into every PromMetrics registry that asks for them. prom-client's
 * collectors cannot be stopped (event loop monitor, GC observer): one set per process, not one
 * per app, so a test process that builds hundreds of apps does not pile them up.
 */
let processMetrics: Metric[] | undefined;
function sharedProcessMetrics(): Metric[] {
  if (!processMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // The registry hands back its Metric instances, typed as plain MetricObjects.
    processMetrics = registry.getMetricsAsArray() as unknown as Metric[];
  }
  return processMetrics;
}

/** The text exposition of a registry, for a scrape endpoint. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/** True when `metrics` can be scraped (the relay serves GET /metrics only then). */
export function isExposition(metrics: unknown): metrics is MetricsExposition {
  return typeof metrics === 'object' && metrics !== null && typeof (metrics as MetricsExposition).render === 'function' && typeof (metrics as MetricsExposition).contentType === 'string';
}

/**
 * Keeps the label sets a metric has seen, up to a cap. Past it a new label set is folded into
 * one whose every label is `_other`, and the fold is counted: a tunnel name or a peer-sent code
 * in a label can never grow the registry (and a scrape) without bound.
 */
class SeriesGuard {
  private readonly seen = new Map<string, Record<string, string>>();
  private readonly other: Record<string, string>;

  constructor(
    private readonly labelNames: readonly string[],
    private readonly cap: number,
    private readonly dropped: () => void,
  ) {
    this.other = Object.fromEntries(labelNames.map((n) => [n, OTHER_LABEL_VALUE]));
  }

  /** The labels to record under: only the declared names (missing ones empty), or the fold. */
  labels(labels: Labels | undefined): Record<string, string> {
    const names = this.labelNames;
    if (names.length === 0) return {};
    let key = '';
    for (let i = 0; i < names.length; i++) key += (i === 0 ? '' : '\u0001') + (labels?.[names[i]] ?? '');
    const known = this.seen.get(key);
    if (known) return known;
    if (this.seen.size >= this.cap) {
      this.dropped();
      return this.other;
    }
    const normalized: Record<string, string> = {};
    for (const n of names) normalized[n] = labels?.[n] ?? '';
    this.seen.set(key, normalized);
    return normalized;
  }
}

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * The metrics port on prom-client: one Registry per instance (never prom-client's global one,
 * so several relays in one process keep apart), served as the Prometheus text exposition.
 * Asking twice for a name returns the same instrument; as another kind, it throws.
 */
export class PromMetrics implements Metrics, MetricsExposition {
  readonly registry = new Registry();
  private readonly cap: number;
  private readonly instruments = new Map<string, { kind: Kind; instrument: Counter | Gauge | Histogram }>();
  private readonly dropped: PromCounter<'metric'>;

  constructor(options: PromMetricsOptions = {}) {
    this.cap = options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC;
    if (!Number.isInteger(this.cap) || this.cap < 1) throw new RangeError(`maxSeriesPerMetric must be a positive integer, got ${this.cap}`);
    this.dropped = new PromCounter({
      name: SERIES_DROPPED_METRIC,
      help: `Updates to a label set past its metric's cap of ${this.cap} label sets, recorded under ${OTHER_LABEL_VALUE} instead`,
      labelNames: ['metric'],
      registers: [this.registry],
    });
    if (options.processMetrics ?? true) for (const metric of sharedProcessMetrics()) this.registry.registerMetric(metric);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  counter(definition: MetricDefinition): Counter {
    return this.instrument(definition, 'counter', (labelNames, guard) => {
      const c = new PromCounter({ name: definition.name, help: definition.help, labelNames, registers: [this.registry] });
      return { inc: (labels, value = 1) => c.inc(guard.labels(labels), value) };
    });
  }

  gauge(definition: MetricDefinition): Gauge {
    return this.instrument(definition, 'gauge', (labelNames, guard) => {
      const g = new PromGauge({ name: definition.name, help: definition.help, labelNames, registers: [this.registry] });
      return {
        set: (value, labels) => g.set(guard.labels(labels), value),
        inc: (labels, value = 1) => g.inc(guard.labels(labels), value),
        dec: (labels, value = 1) => g.dec(guard.labels(labels), value),
      };
    });
  }

  histogram(definition: HistogramDefinition): Histogram {
    return this.instrument(definition, 'histogram', (labelNames, guard) => {
      const h = new PromHistogram({ name: definition.name, help: definition.help, labelNames, buckets: [...definition.buckets], registers: [this.registry] });
      return { observe: (value, labels) => h.observe(guard.labels(labels), value) };
    });
  }

  private instrument<T extends Counter | Gauge | Histogram>(definition: MetricDefinition, kind: Kind, make: (labelNames: string[], guard: SeriesGuard) => T): T {
    const existing = this.instruments.get(definition.name);
    if (existing) {
      if (existing.kind !== kind) throw new Error(`metric ${definition.name} is a ${existing.kind}, not a ${kind}`);
      return existing.instrument as T;
    }
    const labelNames = [...(definition.labelNames ?? [])];
    const cap = Math.min(definition.maxSeries ?? this.cap, this.cap);
    const guard = new SeriesGuard(labelNames, cap, () => this.dropped.inc({ metric: definition.name }));
    const instrument = make(labelNames, guard);
    this.instruments.set(definition.name, { kind, instrument });
    return instrument;
  }
}
