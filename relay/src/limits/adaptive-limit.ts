/**
 * How many stream opens the relay takes on at once, found by watching its own health instead of
 * configured: a gradient limit in the manner of Netflix's concurrency-limits. Each window of
 * `windowSamples` finished opens compares their mean latency with the baseline (the lowest
 * latency seen lately) and moves the limit towards
 *
 *   limit · clamp(tolerance · baseline / latency, 0.5, 1) + queue(limit)
 *
 * smoothed by `smoothing`: latency at the baseline grows the limit by the queue allowance
 * (√limit), latency past `tolerance` × baseline shrinks it in proportion, and it settles where
 * latency is about `tolerance` × baseline. The limit only grows while at least half of it is in
 * use (an idle relay learns nothing about its capacity). Overload signals cut it at once by
 * `backoff`: an open that failed for lack of resources (`release(…, 'dropped')`) and an
 * event-loop delay past `maxEventLoopDelayMs`.
 *
 * `shadow`: every decision is made and counted (`wouldRefuse`), none is enforced, so a relay can
 * learn what the limit would do before it is switched on.
 *
 * Time plays no part: only samples move the limit, so tests feed synthetic ones. Known limit: the
 * baseline is the minimum over the last one to two `baselineWindow`s, so a relay that stays
 * congested longer than that takes its congested latency for normal; the event-loop guard and
 * `maxLimit` bound what that costs.
 */
export interface AdaptiveLimitOptions {
  initialLimit?: number;
  minLimit?: number;
  maxLimit?: number;
  /** Latency up to this multiple of the baseline counts as healthy (default 1.5). */
  tolerance?: number;
  /** Share of the way to the new limit taken per window (default 0.2). */
  smoothing?: number;
  /** Finished opens per limit update (default 10). */
  windowSamples?: number;
  /** Samples per baseline window (default 5000). */
  baselineWindow?: number;
  /** Event-loop delay (ms) past which the relay counts as overloaded (default 100). */
  maxEventLoopDelayMs?: number;
  /** Factor applied to the limit on an overload signal (default 0.9). */
  backoff?: number;
  /** Decide and count, never refuse (default false). */
  shadow?: boolean;
}

/** What an AdaptiveLimit has decided so far, for metrics. */
export interface AdaptiveLimitStats {
  limit: number;
  inflight: number;
  /** Acquires refused (never counted in shadow mode). */
  refused: number;
  /** Acquires the limit would have refused (in shadow mode and not). */
  wouldRefuse: number;
  samples: number;
}

export class AdaptiveLimit {
  private estimate: number;
  private inflightNow = 0;
  private refused = 0;
  private wouldRefuse = 0;
  private samples = 0;
  private windowSum = 0;
  private windowCount = 0;
  private windowPeakInflight = 0;
  private baselineCurrent = Number.POSITIVE_INFINITY;
  private baselinePrevious = Number.POSITIVE_INFINITY;
  private baselineCount = 0;
  private readonly o: Required<AdaptiveLimitOptions>;

  constructor(options: AdaptiveLimitOptions = {}) {
    this.o = {
      initialLimit: 20, minLimit: 4, maxLimit: 1000, tolerance: 1.5, smoothing: 0.2, windowSamples: 10,
      baselineWindow: 5000, maxEventLoopDelayMs: 100, backoff: 0.9, shadow: false, ...options,
    };
    this.estimate = clamp(this.o.initialLimit, this.o.minLimit, this.o.maxLimit);
  }

  /** The current limit: opens in flight at once. */
  get limit(): number {
    return Math.floor(this.estimate);
  }

  get stats(): AdaptiveLimitStats {
    return { limit: this.limit, inflight: this.inflightNow, refused: this.refused, wouldRefuse: this.wouldRefuse, samples: this.samples };
  }

  /**
   * Asks to start an open: true means go (and call `release` when it finished), false means
   * refuse it now (the relay answers with a retryable code). Shadow mode always says true.
   */
  acquire(): boolean {
    if (this.inflightNow >= this.limit) {
      this.wouldRefuse++;
      if (!this.o.shadow) {
        this.refused++;
        return false;
      }
    }
    this.inflightNow++;
    return true;
  }

  /**
   * Ends an open that `acquire` let through. `latencyMs`: how long it took (a sample);
   * `dropped`: it failed for lack of resources (overload: the limit is cut); `ignore`: it ended
   * for a reason that says nothing about the relay's health (refused by policy, cancelled).
   */
  release(latencyMs: number, outcome: 'ok' | 'dropped' | 'ignore' = 'ok'): void {
    const inflight = this.inflightNow;
    this.inflightNow = Math.max(0, this.inflightNow - 1);
    if (outcome === 'dropped') return this.cut();
    if (outcome === 'ignore' || !(latencyMs >= 0)) return;
    this.samples++;
    this.track(latencyMs);
    this.windowSum += latencyMs;
    this.windowCount++;
    this.windowPeakInflight = Math.max(this.windowPeakInflight, inflight);
    if (this.windowCount >= this.o.windowSamples) this.update();
  }

  /** Feeds one event-loop delay reading (ms, e.g. a monitorEventLoopDelay percentile). */
  observeEventLoopDelay(delayMs: number): void {
    if (delayMs > this.o.maxEventLoopDelayMs) this.cut();
  }

  private update(): void {
    const latency = this.windowSum / this.windowCount;
    const baseline = Math.min(this.baselineCurrent, this.baselinePrevious);
    const gradient = latency > 0 ? clamp((this.o.tolerance * baseline) / latency, 0.5, 1) : 1;
    let target = this.estimate * gradient + Math.sqrt(this.estimate);
    // Grow only when the limit was being used: an app-limited window says nothing about capacity.
    if (this.windowPeakInflight < this.estimate / 2) target = Math.min(target, this.estimate);
    this.estimate = clamp((1 - this.o.smoothing) * this.estimate + this.o.smoothing * target, this.o.minLimit, this.o.maxLimit);
    this.windowSum = 0;
    this.windowCount = 0;
    this.windowPeakInflight = 0;
  }

  /** The baseline is the lowest latency over the last one to two baseline windows. */
  private track(latencyMs: number): void {
    this.baselineCurrent = Math.min(this.baselineCurrent, latencyMs);
    if (++this.baselineCount < this.o.baselineWindow) return;
    this.baselinePrevious = this.baselineCurrent;
    this.baselineCurrent = Number.POSITIVE_INFINITY;
    this.baselineCount = 0;
  }

  private cut(): void {
    this.estimate = Math.max(this.o.minLimit, this.estimate * this.o.backoff);
  }
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
