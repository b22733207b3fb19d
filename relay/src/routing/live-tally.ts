import { WireCode, wireCodeName } from '@tether/shared';

/** Latencies kept per sample at most: past it, a reservoir keeps an even sample of them. */
const MAX_LATENCIES = 2048;

/** What happened on this node since the last `take()`, for the dashboard's live charts. */
export interface LiveDelta {
  opens: number;
  errors: number;
  /** Open latencies (ms) of the opens accepted since the last take, or null when none. */
  openLatencyMs: { p50: number; p95: number; count: number } | null;
}

/**
 * The router's counts for the relay admin's live views, kept in process: opens, refusals and
 * resets by code (since start), and open latencies while someone watches (`watching`), so an
 * unwatched relay keeps no samples.
 */
export class LiveTally {
  /** Refused opens and relay- or far-end-made resets since the start, by wire code name. */
  readonly errorsByCode = new Map<string, number>();
  /** True while at least one live view is open: only then are latencies kept. */
  watching = false;
  private opens = 0;
  private errors = 0;
  private latencies: number[] = [];
  private latencySeen = 0;

  opened(): void {
    this.opens++;
  }

  /** An error with wire code `code` (refused open, reset). CANCELLED and NO_ERROR are not errors. */
  failed(code: number): void {
    if (code === WireCode.NO_ERROR || code === WireCode.CANCELLED) return;
    const name = wireCodeName(code) ?? `WIRE_${code}`;
    this.errorsByCode.set(name, (this.errorsByCode.get(name) ?? 0) + 1);
    this.errors++;
  }

  accepted(ms: number): void {
    if (!this.watching) return;
    this.latencySeen++;
    if (this.latencies.length < MAX_LATENCIES) {
      this.latencies.push(ms);
      return;
    }
    // Reservoir sampling: every latency of the period has the same chance to be kept.
    const slot = Math.floor(Math.random() * this.latencySeen);
    if (slot < MAX_LATENCIES) this.latencies[slot] = ms;
  }

  /** The period's counts and latency percentiles; starts the next period. */
  take(): LiveDelta {
    const sorted = this.latencies.sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const delta: LiveDelta = {
      opens: this.opens,
      errors: this.errors,
      openLatencyMs: sorted.length === 0 ? null : { p50: round(at(0.5)), p95: round(at(0.95)), count: this.latencySeen },
    };
    this.opens = 0;
    this.errors = 0;
    this.latencies = [];
    this.latencySeen = 0;
    return delta;
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
