import { addCounts, emptyCounters, STEP_MS, type UsageCounters, type UsageRow, type UsageStep } from '../ports/usage-store.js';

export type UsageGroup = 'tunnel' | 'user' | 'node';

/** One row of GET /v1/analytics: a bucket and a tunnel, user or node, with its counters. */
export interface AnalyticsRow extends UsageCounters {
  /** Bucket start, ISO 8601 UTC. */
  time: string;
  /** The tunnel, user or node name (what `by` asked for). */
  key: string;
}

/**
 * Rows of one bucket merged per tunnel, user or node. Counters add; `peak` adds too (the sum of
 * the peaks of the (tunnel, user, node) rows merged: exact for one of them, an upper bound when
 * several peaked at different moments of the bucket).
 */
export function aggregate(rows: readonly UsageRow[], by: UsageGroup): AnalyticsRow[] {
  const out = new Map<string, AnalyticsRow>();
  for (const r of rows) {
    const key = r[by];
    const id = `${r.bucket}\0${key}`;
    let into = out.get(id);
    if (!into) {
      into = { time: new Date(r.bucket).toISOString(), key, ...emptyCounters() };
      out.set(id, into);
    }
    into.bytesUp += r.bytesUp;
    into.bytesDown += r.bytesDown;
    into.opened += r.opened;
    into.closed += r.closed;
    into.durationMs += r.durationMs;
    into.peak += r.peak;
    addCounts(into.failed, r.failed);
    addCounts(into.protocols, r.protocols);
  }
  return [...out.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export type ForecastMetric = 'streams' | 'bytes' | 'tunnels';

/**
 * The series a forecast fits, one point per bucket from the first bucket with usage to the last
 * whole bucket before `end` (a bucket without rows is 0: nothing flowed). `streams` is the peak
 * of concurrent streams (summed over keys), `bytes` both directions, `tunnels` how many tunnels
 * carried anything.
 */
export function usageSeries(rows: readonly UsageRow[], metric: ForecastMetric, step: UsageStep, end: number): { t: number; value: number }[] {
  const size = STEP_MS[step];
  const values = new Map<number, number>();
  const tunnels = new Map<number, Set<string>>();
  for (const r of rows) {
    if (r.bucket + size > end) continue;
    if (metric === 'tunnels') {
      if (r.opened + r.bytesUp + r.bytesDown + r.peak === 0) continue;
      let set = tunnels.get(r.bucket);
      if (!set) tunnels.set(r.bucket, (set = new Set()));
      set.add(r.tunnel);
      values.set(r.bucket, set.size);
    } else {
      const v = metric === 'streams' ? r.peak : r.bytesUp + r.bytesDown;
      values.set(r.bucket, (values.get(r.bucket) ?? 0) + v);
    }
  }
  if (values.size === 0) return [];
  const first = Math.min(...values.keys());
  const last = Math.floor(end / size) * size - size;
  const points: { t: number; value: number }[] = [];
  for (let t = first; t <= last; t += size) points.push({ t, value: values.get(t) ?? 0 });
  return points;
}
