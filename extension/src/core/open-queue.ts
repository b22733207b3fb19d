import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { RelaySession } from './relay-session.js';

interface Waiter {
  resolve: (session: RelaySession) => void;
  reject: (err: TetherError) => void;
  timer: NodeJS.Timeout;
}

/**
 * New streams waiting for a relay session while none is up: at most `limit` at once (one more
 * fails at once with QUEUE_FULL), each for at most `timeoutMs` (then NO_RELAY).
 */
export class OpenQueue {
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly limit: number,
    private readonly timeoutMs: number,
    /** Called when a waiter joins or times out. */
    private readonly changed: () => void,
  ) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Waits for release(); `tried` names the relays for the NO_RELAY message. */
  wait(tried: () => string): Promise<RelaySession> {
    if (this.waiters.length >= this.limit) {
      return Promise.reject(createError(ErrorCode.QUEUE_FULL, `${this.waiters.length} opens are already waiting for a relay (the limit)`));
    }
    return new Promise<RelaySession>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(createError(ErrorCode.NO_RELAY, `no relay reachable within ${this.timeoutMs} ms (tried: ${tried()})`));
          this.changed();
        }, this.timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.push(waiter);
      this.changed();
    });
  }

  /** Hands every waiter the session `pick` chooses for it (NO_RELAY if there is none after all). */
  release(pick: () => RelaySession | undefined): void {
    for (const waiter of this.waiters.splice(0)) {
      const chosen = pick();
      clearTimeout(waiter.timer);
      if (chosen) waiter.resolve(chosen);
      else waiter.reject(createError(ErrorCode.NO_RELAY, 'the relay session went away before it could be used'));
    }
  }

  rejectAll(err: TetherError): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }
}
