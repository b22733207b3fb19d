import { RelayApi } from './relay-api.js';

export type AnalyticsGroup = 'tunnel' | 'user' | 'node';
export type AnalyticsStep = 'minute' | 'hour' | 'day';
export type ForecastMetric = 'streams' | 'bytes' | 'tunnels';

/** One row of `GET /v1/analytics`: a bucket and a tunnel, user or node. */
export interface AnalyticsRow {
  time: string;
  key: string;
  bytesUp: number;
  bytesDown: number;
  opened: number;
  closed: number;
  durationMs: number;
  peak: number;
  failed: Record<string, number>;
  /** Streams that ended, by protocol (docs/protocols.md); absent from relays that do not count them. */
  protocols?: Record<string, number>;
}

export interface AnalyticsAnswer {
  by: AnalyticsGroup;
  step: AnalyticsStep;
  from: string;
  to: string;
  rows: AnalyticsRow[];
}

export interface ForecastAnswer {
  metric: ForecastMetric;
  scope: 'node' | 'cluster';
  node?: string;
  step: 'hour';
  horizonHours: number;
  history: { points: number; from: string | null; to: string | null };
  forecast: { coverage: number; seasons: number[]; droppedSeasons: number[]; trend: boolean; points: { time: string; value: number; lower: number; upper: number }[] } | null;
  backtest: { mape: number | null; mase: number | null; coverage: number | null; nominalCoverage: number; points: number; folds: number } | null;
  capacity: { capacity: number; point: string | null; upper: string | null } | null;
  notes: string[];
}

const query = (values: Record<string, string | number | undefined>): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
};

/** The relay's usage analytics API (docs/analytics.md), with coded errors as RelayApi. */
export class AnalyticsApi {
  constructor(private readonly api: RelayApi) {}

  static of(relay: string, token: string, timeoutMs?: number): AnalyticsApi {
    return new AnalyticsApi(new RelayApi(relay, token, timeoutMs));
  }

  usage(options: { by?: AnalyticsGroup; step?: AnalyticsStep; from?: string; to?: string } = {}): Promise<AnalyticsAnswer> {
    return this.api.request('GET', `/v1/analytics${query(options)}`);
  }

  forecast(options: { metric: ForecastMetric; horizon: string; scope?: 'node' | 'cluster'; node?: string; capacity?: number }): Promise<ForecastAnswer> {
    return this.api.request('GET', `/v1/analytics/forecast${query(options)}`);
  }
}
