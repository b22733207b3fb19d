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

  constructor(
    private readonly backoff: Backoff,
    /** The slowest pace, for endpoints that refused us. */
    private readonly maxMs: number,
    private readonly now: () => number,
    private readonly onDue: () => void,
  ) {}

  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** Sets the timer: the next backoff delay, or the slowest pace when `slowest`. */
  schedule(slowest: boolean): void {
    const delay = slowest ? this.maxMs : this.backoff.next();
    this.at = this.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.at = undefined;
      this.due = true;
      this.onDue();
    }, delay);
    this.timer.unref();
  }

  /** No timer and not due. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.at = undefined;
    this.due = false;
  }

  /** The endpoint stayed up: the next failure starts from the shortest delay again. */
  resetBackoff(): void {
    this.backoff.reset();
  }
}
