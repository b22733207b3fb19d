import type { RouterStats } from '../routing/router.js';
import type { LiveTally } from '../routing/live-tally.js';

/** One second of this node, as the dashboard's live charts plot it. */
export interface LiveSample {
  /** Wall-clock ms of the sample. */
  t: number;
  node: string;
  streams: number;
  hosts: number;
  connectors: number;
  bytesIn: number;
  bytesOut: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
  opensPerSec: number;
  errorsPerSec: number;
  /** Of the opens accepted during the period; null when there were none. */
  openLatencyMs: { p50: number; p95: number; count: number } | null;
}

export interface LiveFeedOptions {
  node: string;
  stats: () => RouterStats;
  tally: LiveTally;
  periodMs?: number;
  now?: () => number;
}

type Subscriber = (sample: LiveSample) => void;

/**
 * Samples the router every `periodMs` (1 s) while at least one live view subscribes, and hands
 * each sample to every subscriber. With no subscriber there is no timer and the tally keeps no
 * latencies: an unwatched relay pays nothing for it.
 */
export class LiveFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  private last: LiveSample | undefined;
  private previous: { at: number; bytesIn: number; bytesOut: number } | undefined;
  private readonly periodMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LiveFeedOptions) {
    this.periodMs = options.periodMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get watching(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber; the returned function removes it. */
  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    if (!this.timer) this.start();
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Ends every subscription (the relay is closing). */
  close(): void {
    this.subscribers.clear();
    this.stop();
  }

  /** What a new subscriber is shown at once: the last sample sent, or a first one. */
  latest(): LiveSample {
    return this.last ?? this.sample();
  }

  /** The next sample: rates over the time since the previous one. */
  sample(): LiveSample {
    const stats = this.options.stats();
    const at = this.now();
    const delta = this.options.tally.take();
    const previous = this.previous ?? { at: at - this.periodMs, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut };
    const seconds = Math.max(0.001, (at - previous.at) / 1000);
    this.previous = { at, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut };
    this.last = {
      t: at,
      node: this.options.node,
      streams: stats.streams,
      hosts: stats.hosts,
      connectors: stats.connectors,
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
      bytesInPerSec: Math.round(Math.max(0, stats.bytesIn - previous.bytesIn) / seconds),
      bytesOutPerSec: Math.round(Math.max(0, stats.bytesOut - previous.bytesOut) / seconds),
      opensPerSec: Math.round((delta.opens / seconds) * 100) / 100,
      errorsPerSec: Math.round((delta.errors / seconds) * 100) / 100,
      openLatencyMs: delta.openLatencyMs,
    };
    return this.last;
  }

  private start(): void {
    this.options.tally.watching = true;
    // What happened before anyone watched is not this period's.
    this.options.tally.take();
    const stats = this.options.stats();
    this.previous = { at: this.now(), bytesIn: stats.bytesIn, bytesOut: stats.bytesOut };
    this.timer = setInterval(() => {
      const sample = this.sample();
      for (const subscriber of [...this.subscribers]) subscriber(sample);
    }, this.periodMs);
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.tally.watching = false;
    this.previous = undefined;
    this.last = undefined;
  }
}
