import { createError, ErrorCode, isTetherError, withRetryAfter } from '@tether/shared';

/**
 * Stream opens a relay rate-limited: until the time its refusal named, new opens to that
 * tunnel fail here at once, with the same coded error, instead of asking the relay again (a
 * listener that gets a burst of connections must not hammer a relay that said "later").
 */
export class OpenHoldOff {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws RATE_LIMITED while opens to `tunnel` are held off. */
  check(tunnel: string): void {
    const until = this.until.get(tunnel);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.until.delete(tunnel);
      return;
    }
    const err = createError(ErrorCode.RATE_LIMITED, withRetryAfter(`the relay limits stream opens to tunnel ${tunnel}; not asking it again yet`, left));
    err.retryAfterMs = left;
    throw err;
  }

  /** Notes an open's failure: a RATE_LIMITED one with a retry-after holds off that tunnel's opens. */
  failed(tunnel: string, err: unknown): void {
    if (!isTetherError(err, ErrorCode.RATE_LIMITED) || !err.retryAfterMs) return;
    const until = this.now() + err.retryAfterMs;
    this.until.set(tunnel, Math.max(until, this.until.get(tunnel) ?? 0));
  }
}
