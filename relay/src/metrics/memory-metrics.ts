import type { Counter, Gauge, Histogram, HistogramDefinition, Labels, MetricDefinition, Metrics } from '../ports/metrics.js';

const key = (labels: Labels | undefined): string =>
  labels ? Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',') : '';

interface Series {
  definition: MetricDefinition;
  kind: 'counter' | 'gauge' | 'histogram';
  values: Map<string, number>;
  /** Histograms: every observation per label set. */
  observations: Map<string, number[]>;
}

/**
 * Keeps every instrument's values in memory, per label set. Asking twice for one name returns
 * the same instrument; asking for it as another kind is a programming error and throws.
 */
export class MemoryMetrics implements Metrics {
  private readonly series = new Map<string, Series>();

  counter(definition: MetricDefinition): Counter {
    const s = this.get(definition, 'counter');
    return { inc: (labels, value = 1) => this.add(s, labels, value) };
  }

  gauge(definition: MetricDefinition): Gauge {
    const s = this.get(definition, 'gauge');
    return {
      set: (value, labels) => s.values.set(key(labels), value),
      inc: (labels, value = 1) => this.add(s, labels, value),
      dec: (labels, value = 1) => this.add(s, labels, -value),
    };
  }

  histogram(definition: HistogramDefinition): Histogram {
    const s = this.get(definition, 'histogram');
    return {
      observe: (value, labels) => {
        const k = key(labels);
        const list = s.observations.get(k) ?? [];
        list.push(value);
        s.observations.set(k, list);
        this.add(s, labels, 1);
      },
    };
  }

  /** The value of a counter or gauge (a histogram: its observation count) for one label set. */
  value(name: string, labels?: Labels): number {
    return this.series.get(name)?.values.get(key(labels)) ?? 0;
  }

  /** Every observation of a histogram for one label set. */
  observations(name: string, labels?: Labels): readonly number[] {
    return this.series.get(name)?.observations.get(key(labels)) ?? [];
  }

  private get(definition: MetricDefinition, kind: Series['kind']): Series {
    const existing = this.series.get(definition.name);
    if (existing) {
      if (existing.kind !== kind) throw new Error(`metric ${definition.name} is a ${existing.kind}, not a ${kind}`);
      return existing;
    }
    const created: Series = { definition, kind, values: new Map(), observations: new Map() };
    this.series.set(definition.name, created);
    return created;
  }

  private add(s: Series, labels: Labels | undefined, value: number): void {
    const k = key(labels);
    s.values.set(k, (s.values.get(k) ?? 0) + value);
  }
}
