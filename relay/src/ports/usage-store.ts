/** The three roll-up resolutions of usage analytics (docs/analytics.md). */
export type UsageStep = 'minute' | 'hour' | 'day';

export const USAGE_STEPS: readonly UsageStep[] = ['minute', 'hour', 'day'];

export const STEP_MS: Readonly<Record<UsageStep, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The start (ms, UTC) of the bucket of `step` that holds time `t`. */
export const bucketOf = (step: UsageStep, t: number): number => Math.floor(t / STEP_MS[step]) * STEP_MS[step];

/** The counters of one (bucket, tunnel, user, node). */
export interface UsageCounters {
  /** Payload bytes from the connector to the host. */
  bytesUp: number;
  /** Payload bytes from the host back to the connector. */
  bytesDown: number;
  /** Streams the host accepted (OPEN_OK). */
  opened: number;
  /** Streams that ended after being accepted (sessions), and their total duration. */
  closed: number;
  durationMs: number;
  /** Most streams of this key open at once within the bucket (a maximum, not a sum). */
  peak: number;
  /** Opens refused, by wire code (decimal string → count). */
  failed: Record<string, number>;
  /** Streams that ended, by what their first bytes spoke (`ssh`, `tls`, `http1`, `h2`, `unknown` → count; docs/protocols.md). */
  protocols: Record<string, number>;
}

/** What the recorder adds for one minute of one key; the store rolls it into the minute, hour and day rows. */
export interface UsageDelta extends UsageCounters {
  /** Start of the minute (ms since the epoch, a multiple of 60 000). */
  minute: number;
  tunnel: string;
  user: string;
  node: string;
}

/** One stored row. */
export interface UsageRow extends UsageCounters {
  step: UsageStep;
  /** Start of the bucket, ms since the epoch. */
  bucket: number;
  tunnel: string;
  user: string;
  node: string;
}

/** How long rows of each resolution are kept, in ms. */
export type UsageRetention = Readonly<Record<UsageStep, number>>;

/** 48 hours of minutes, 90 days of hours, two years of days. */
export const DEFAULT_USAGE_RETENTION: UsageRetention = { minute: 48 * 3_600_000, hour: 90 * 86_400_000, day: 730 * 86_400_000 };

export interface UsageQuery {
  step: UsageStep;
  /** Bucket starts from `from` (inclusive) to `to` (exclusive), ms. */
  from: number;
  to: number;
  /** Only these tunnels (absent: all). */
  tunnels?: readonly string[];
}

/**
 * Usage roll-ups as the store keeps them (SQLite, or Redis shared by every node). `add` is called
 * with batches (the recorder flushes every few seconds, never per frame): counters add up and
 * `peak` keeps the maximum, in the minute, hour and day rows at once, so rows written by several
 * nodes (or several flushes) for one key merge. Old rows go after their retention.
 */
export interface UsageStore {
  add(deltas: readonly UsageDelta[], retention: UsageRetention): Promise<void>;
  /** Rows of `query.step` in the range, ordered by bucket, then tunnel, user, node. */
  query(query: UsageQuery): Promise<UsageRow[]>;
  /** Drops rows older than their retention at time `now` (Redis expires them itself). */
  prune(now: number, retention: UsageRetention): Promise<void>;
}

export const emptyCounters = (): UsageCounters => ({ bytesUp: 0, bytesDown: 0, opened: 0, closed: 0, durationMs: 0, peak: 0, failed: {}, protocols: {} });

/** Adds the counts of `more` into `into`, key by key. */
export function addCounts(into: Record<string, number>, more: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(more)) into[key] = (into[key] ?? 0) + n;
}

/** Adds `more` into `into` (peak: the larger). */
export function mergeCounters(into: UsageCounters, more: UsageCounters): void {
  into.bytesUp += more.bytesUp;
  into.bytesDown += more.bytesDown;
  into.opened += more.opened;
  into.closed += more.closed;
  into.durationMs += more.durationMs;
  into.peak = Math.max(into.peak, more.peak);
  addCounts(into.failed, more.failed);
  addCounts(into.protocols, more.protocols);
}
