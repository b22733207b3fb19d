import type { PoolReason } from './pool-reason.js';

export type EndpointState = 'up' | 'connecting' | 'down' | 'draining' | 'failed' | 'idle';

/** One endpoint as the pool sees it (for status displays; times are epoch ms from `now`). */
export interface EndpointStatus {
  url: string;
  priority: number;
  weight: number;
  /** up: a live session; draining: only a session that got GOAWAY; down: retrying after a retryable error; failed: after one that is not (retried slowly). */
  state: EndpointState;
  /** Smoothed round-trip time of the live session, 0 when none. */
  rttMs: number;
  /** When `state` last changed. */
  since: number;
  /** Streams open on this endpoint's sessions (live and draining). */
  streams: number;
  lastError?: { code: string; message: string };
  /** Time to the next attempt, when one is scheduled. */
  retryInMs?: number;
}

/** What the pool is doing and why; emitted as 'state' on every change. */
export interface PoolState {
  /** URL of the endpoint new streams go to. */
  active: string | undefined;
  /** Why `active` is what it is (describePoolReason says it in words). */
  reason: PoolReason;
  /** When `active` last changed (epoch ms). */
  since: number;
  /** acquire() calls waiting for a session. */
  queued: number;
  /** Live sessions (not draining). */
  live: number;
  /** Live sessions the pool keeps. */
  size: number;
  endpoints: EndpointStatus[];
}
