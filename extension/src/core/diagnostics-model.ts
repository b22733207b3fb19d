import { adviceFor } from './diagnostics-advice.js';
import type {
  AgentForwardingView, ConnectionPath, DiagnosticsError, DiagnosticsEvent, DiagnosticsEventKind, DiagnosticsView, PoolView, RttBucket, RttSample, ThroughputSample,
} from './diagnostics-protocol.js';
import { describePoolReason } from './pool-reason.js';
import type { PoolState } from './pool-state.js';
import { RingBuffer } from './ring-buffer.js';
import type { SessionRtt } from './session-rtt.js';

/** A connection as its owner counts it now (bytes since it opened). */
export type ConnectionSnapshot = Omit<ConnectionPath, 'throughput'>;


export interface DiagnosticsModelOptions {
  now?: () => number;
  /** Timeline entries kept (default 200). */
  events?: number;
  /** Errors kept (default 50). */
  errors?: number;
  /** RTT samples kept (default 600: 7.5 minutes of one pool pinging every 750 ms). */
  rttSamples?: number;
  /** Throughput samples kept per connection (default 120). */
  throughputSamples?: number;
  /** Milliseconds between panel updates, as the panel's timer runs them (default 1000). */
  intervalMs?: number;
}

/** Upper bounds of the RTT histogram's buckets, in ms (then one bucket for anything above). */
export const RTT_BUCKETS_MS = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000] as const;

interface Counted {
  at: number;
  bytesIn: number;
  bytesOut: number;
  samples: RingBuffer<ThroughputSample>;
}

/** The RTT histogram from the first to the last non-empty bucket. */
export function rttHistogram(samples: readonly { ms: number }[]): RttBucket[] {
  const counts = new Array<number>(RTT_BUCKETS_MS.length + 1).fill(0);
  for (const { ms } of samples) {
    const i = RTT_BUCKETS_MS.findIndex((bound) => ms <= bound);
    counts[i === -1 ? RTT_BUCKETS_MS.length : i]++;
  }
  const first = counts.findIndex((c) => c > 0);
  if (first === -1) return [];
  const last = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  const buckets: RttBucket[] = [];
  for (let i = first; i <= last; i++) buckets.push({ upToMs: RTT_BUCKETS_MS[i] ?? null, count: counts[i] });
  return buckets;
}

/** A pool's state and its active session's RTT, as the panel shows them. */
export function poolView(label: string, state: PoolState, rtt: SessionRtt): PoolView {
  return {
    label,
    reason: describePoolReason(state.reason),
    live: state.live,
    size: state.size,
    queued: state.queued,
    relays: state.endpoints.map((e) => ({
      url: e.url, state: e.state, active: e.url === state.active, rttMs: e.rttMs, streams: e.streams, since: e.since, lastError: e.lastError, retryInMs: e.retryInMs,
    })),
    rtt: { smoothedMs: round(rtt.smoothedMs), lastMs: round(rtt.lastMs), minMs: round(rtt.minMs) },
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * What the diagnostics panel and the exported bundle show, kept in bounded ring buffers. Events
 * (relay state changes, failovers, stream resumes, errors) are cheap and always kept; samples
 * (RTT of each PING, throughput per connection) only while `sampling` is on, which the panel
 * turns on while it is open. It has no timer of its own: the panel's tick calls `connections()`.
 */
export class DiagnosticsModel {
  private readonly now: () => number;
  private readonly events: RingBuffer<DiagnosticsEvent>;
  private readonly errors: RingBuffer<DiagnosticsError>;
  private readonly rtts: RingBuffer<RttSample>;
  private readonly throughputSamples: number;
  private readonly counted = new Map<string, Counted>();
  private readonly pools = new Map<string, PoolState>();
  private readonly agentViews = new Map<string, AgentForwardingView>();
  readonly intervalMs: number;
  /** Samples are taken only while this is on (a panel is open). */
  sampling = false;

  constructor(options: DiagnosticsModelOptions = {}) {
    this.now = options.now ?? Date.now;
    this.events = new RingBuffer(options.events ?? 200);
    this.errors = new RingBuffer(options.errors ?? 50);
    this.rtts = new RingBuffer(options.rttSamples ?? 600);
    this.throughputSamples = options.throughputSamples ?? 120;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  /** A pool reported a new state: relays that came up or went, failovers and their errors go on the timeline. */
  poolState(label: string, state: PoolState): void {
    const before = this.pools.get(label);
    this.pools.set(label, state);
    for (const endpoint of state.endpoints) {
      const was = before?.endpoints.find((e) => e.url === endpoint.url);
      const wasUp = was?.state === 'up';
      const isUp = endpoint.state === 'up';
      if (isUp && !wasUp) this.event('relay-up', label, `relay ${endpoint.url} up`);
      if (!isUp && wasUp && endpoint.state !== 'connecting') {
        const why = endpoint.lastError ? `: ${endpoint.lastError.message}` : '';
        this.event('relay-down', label, `relay ${endpoint.url} ${endpoint.state === 'draining' ? 'draining' : 'lost'}${why}`, endpoint.lastError?.code);
      }
      const error = endpoint.lastError;
      if (error && (error.code !== was?.lastError?.code || error.message !== was.lastError.message)) this.failure(label, error);
    }
    if (state.active === before?.active) return;
    if (state.active === undefined) {
      this.event('no-relay', label, `no relay reachable (${state.endpoints.length} configured)`);
      return;
    }
    const kind: DiagnosticsEventKind = state.reason.kind === 'failover' ? 'failover' : state.reason.kind === 'failback' ? 'failback' : 'relay-up';
    const code = state.reason.kind === 'failover' ? state.reason.code : undefined;
    this.event(kind, label, `new streams go to ${state.active} (${describePoolReason(state.reason)})`, code);
  }

  /** The pool is gone (a share stopped, the connections' pool closed). */
  poolClosed(label: string): void {
    this.pools.delete(label);
  }

  /** A stream lost its relay and is being resumed through another. */
  streamDetached(where: string, err: { code: string; message: string }): void {
    this.event('detached', where, `a stream lost its relay (${err.message}); resuming it through another`, err.code);
  }

  streamResumed(where: string): void {
    this.event('resumed', where, 'a stream resumed through another relay');
  }

  /** A failure with a code: kept with what to do about it, and on the timeline. */
  failure(where: string, err: { code: string; message: string }): void {
    const at = this.now();
    this.errors.push({ at, where, code: err.code, message: err.message, advice: adviceFor(err.code) });
    this.events.push({ at, kind: 'error', where, text: err.message, code: err.code });
  }

  /** One PING's round trip on a session of `pool` to `relay`; dropped unless sampling. */
  rtt(pool: string, relay: string, ms: number): void {
    if (!this.sampling) return;
    this.rtts.push({ at: this.now(), ms: round(ms), pool, relay });
  }

  /** Agent forwarding of a terminal's session as it stands; undefined once the terminal is gone. */
  agent(terminal: string, view: AgentForwardingView | undefined): void {
    if (view) this.agentViews.set(terminal, view);
    else this.agentViews.delete(terminal);
  }

  /**
   * The connections now, with their throughput since the last call (sampled only while sampling;
   * connections that are gone are forgotten).
   */
  connections(snapshots: readonly ConnectionSnapshot[]): ConnectionPath[] {
    const at = this.now();
    const seen = new Set<string>();
    const paths = snapshots.map((c): ConnectionPath => {
      seen.add(c.id);
      let counted = this.counted.get(c.id);
      if (this.sampling) {
        if (counted && at > counted.at) {
          const seconds = (at - counted.at) / 1000;
          counted.samples.push({ at, inBps: Math.max(0, c.bytesIn - counted.bytesIn) / seconds, outBps: Math.max(0, c.bytesOut - counted.bytesOut) / seconds });
        }
        if (!counted) {
          counted = { at, bytesIn: c.bytesIn, bytesOut: c.bytesOut, samples: new RingBuffer(this.throughputSamples) };
          this.counted.set(c.id, counted);
        }
        counted.at = at;
        counted.bytesIn = c.bytesIn;
        counted.bytesOut = c.bytesOut;
      }
      return { ...c, throughput: counted?.samples.toArray() ?? [] };
    });
    for (const id of [...this.counted.keys()]) if (!seen.has(id)) this.counted.delete(id);
    return paths;
  }

  /** Everything the panel shows, given the pools and connections as they are now. */
  view(pools: PoolView[], connections: ConnectionPath[]): DiagnosticsView {
    const rttSamples = this.rtts.toArray();
    return {
      now: this.now(),
      pools,
      events: this.events.toArray(),
      errors: this.errors.toArray(),
      rttSamples,
      rttHistogram: rttHistogram(rttSamples),
      connections,
      agents: this.agents(),
      intervalMs: this.intervalMs,
    };
  }

  /** Agent forwarding of each open SSH terminal. */
  agents(): AgentForwardingView[] {
    return [...this.agentViews.values()];
  }

  /** The timeline and errors (for the bundle). */
  history(): { events: DiagnosticsEvent[]; errors: DiagnosticsError[] } {
    return { events: this.events.toArray(), errors: this.errors.toArray() };
  }

  /** Forgets events, errors and samples (the panel's Clear). */
  clear(): void {
    this.events.clear();
    this.errors.clear();
    this.rtts.clear();
    for (const counted of this.counted.values()) counted.samples.clear();
  }

  private event(kind: DiagnosticsEventKind, where: string, text: string, code?: string): void {
    this.events.push({ at: this.now(), kind, where, text, ...(code ? { code } : {}) });
  }
}
