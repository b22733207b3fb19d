import type { MuxSession } from '@tether/shared';

/** The RTT of a relay session as its PINGs measured it (all 0 until the first PONG). */
export interface SessionRtt {
  /** Smoothed (as TCP does: 7/8 old, 1/8 new). */
  smoothedMs: number;
  lastMs: number;
  minMs: number;
}

/** The measured RTT of `session`; zeros when there is none. */
export function rttOf(session: MuxSession | undefined): SessionRtt {
  return { smoothedMs: session?.rttMs ?? 0, lastMs: session?.lastRttMs ?? 0, minMs: session?.minRttMs ?? 0 };
}
