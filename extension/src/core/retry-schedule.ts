import type { Backoff } from './backoff.js';

/**
 * When one endpoint is attempted again: a timer over capped, jittered backoff that marks the
 * endpoint `due` when it fires (the pool attempts due endpoints it still wants).
 */
export class RetrySchedule {
  /** The timer fired: attempt at the next chance (with a probe). */
  due = false;
  /** When the timer fires (epoch ms), while one is set. */
  at: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;

  constructor(
    private readonly backoff: Backoff,
    /** The slowest pace, for endpoints that refused us. */
    private readonly maxMs: number,
    private readonly now: () => number,
    private readonly onDue: () => void,
    /**
     * While a (not slowest) retry waits longer than `everyMs`, `check` runs that often; the
     * retry fires as soon as one resolves (the endpoint answers its health check again).
     */
    private readonly watch?: { everyMs: number; check: () => Promise<void> },
  ) {}

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Sets the timer: the next backoff delay, or the slowest pace when `slowest`; never sooner
   * than `notBeforeMs` (a relay's Retry-After), and then without the health watch, which would
   * fire at once on a relay that is up but limiting us.
   */
  schedule(slowest: boolean, notBeforeMs = 0): void {
    const backoff = slowest ? this.maxMs : this.backoff.next();
    const delay = Math.max(backoff, notBeforeMs);
    this.at = this.now() + delay;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
    const watch = this.watch;
    if (!slowest && notBeforeMs <= backoff && watch && watch.everyMs > 0 && delay > watch.everyMs) {
      const timer = this.timer;
      this.watcher = setInterval(() => {
        watch.check().then(
          () => {
            if (this.timer === timer) this.fire();
          },
          () => undefined,
        );
      }, watch.everyMs);
      this.watcher.unref();
    }
  }

  private fire(): void {
    clearTimeout(this.timer);
    clearInterval(this.watcher);
    this.timer = undefined;
    this.watcher = undefined;
    this.at = undefined;
    this.due = true;
    this.onDue();
  }

  /** No timer and not due. */
  clear(): void {
    clearTimeout(this.timer);
    clearInterval(this.watcher);
    this.watcher = undefined;
    this.timer = undefined;
    this.at = undefined;
    this.due = false;
  }

  /** The endpoint stayed up: the next failure starts from the shortest delay again. */
  resetBackoff(): void {
    this.backoff.reset();
  }
}
