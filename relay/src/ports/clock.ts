/** Time as the relay reads it, injectable so tests and leases need no real waiting. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (timestamps, lease expiry). */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision (durations, RTT). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
