import type { RelayEndpoint } from './endpoints.js';
import { FAILBACK, NO_RELAY, PREFERRED, type PoolReason } from './pool-reason.js';

/**
 * Which endpoint new streams use, decided from a snapshot of each endpoint: pure functions with
 * no sockets and no timers (the caller says what is live and what is still recovering), so the
 * choice of relay is tested as a table.
 */
export interface Candidate {
  readonly endpoint: RelayEndpoint;
  /** Place in the order of preference (see rankEndpoints). */
  readonly rank: number;
  /** Has a live session (not a draining one). */
  readonly live: boolean;
  /** Smoothed round-trip time of the live session, 0 when none. */
  readonly rttMs: number;
  /** Lost or failed since it was last trusted, and not yet up long enough to be trusted again. */
  readonly recovering: boolean;
  /** Its only sessions are draining after a GOAWAY. */
  readonly draining: boolean;
  /** Code of its last error, undefined when it had none or has been up since. */
  readonly lastErrorCode: string | undefined;
}

/** Weighted random choice (weights ≥ 1); `random` is in [0, 1). */
export function pickWeighted<T extends { endpoint: RelayEndpoint }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((sum, item) => sum + item.endpoint.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= item.endpoint.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1];
}

/**
 * The order of preference: priority first; equal priorities in a weighted random order, so that
 * clients with the same list spread their sessions instead of all piling onto the first relay.
 */
export function rankEndpoints(endpoints: readonly RelayEndpoint[], random: () => number): RelayEndpoint[] {
  const order: RelayEndpoint[] = [];
  const byPriority = [...new Set(endpoints.map((e) => e.priority))].sort((a, b) => a - b);
  for (const priority of byPriority) {
    const group = endpoints.filter((e) => e.priority === priority).map((endpoint) => ({ endpoint }));
    while (group.length > 0) {
      const chosen = pickWeighted(group, random);
      group.splice(group.indexOf(chosen), 1);
      order.push(chosen.endpoint);
    }
  }
  return order;
}

/** By rank (the order of preference). */
export function byRank<T extends Candidate>(candidates: readonly T[]): T[] {
  return [...candidates].sort((a, b) => a.rank - b.rank);
}

/** Better first: priority, then lower RTT, then rank. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  return a.endpoint.priority - b.endpoint.priority || a.rttMs - b.rttMs || a.rank - b.rank;
}

/** Those that may take new streams: live, and (after a failure) up long enough to be trusted again. */
export function eligible<T extends Candidate>(candidates: readonly T[]): T[] {
  const live = candidates.filter((c) => c.live);
  const trusted = live.filter((c) => !c.recovering);
  return trusted.length > 0 ? trusted : live;
}

/**
 * The active endpoint (the best eligible one) and why. The current one is kept while it is
 * eligible and no eligible one has a better priority, so streams do not move for RTT alone.
 */
export function chooseActive<T extends Candidate>(
  candidates: readonly T[],
  current: T | undefined,
  currentReason: PoolReason,
): { active: T | undefined; reason: PoolReason } {
  const ranked = eligible(candidates).sort(compareCandidates);
  const best = ranked[0];
  if (!best) return { active: undefined, reason: NO_RELAY };
  if (current && ranked.includes(current) && current.endpoint.priority <= best.endpoint.priority) return { active: current, reason: currentReason };
  return { active: best, reason: whyMove(candidates, current, currentReason, best) };
}

function whyMove(candidates: readonly Candidate[], current: Candidate | undefined, currentReason: PoolReason, best: Candidate): PoolReason {
  if (current && !current.live) {
    return { kind: 'failover', from: current.endpoint.url, how: current.draining ? 'draining' : 'lost', code: current.lastErrorCode };
  }
  // Moving from one live endpoint to a better one: back where it was before a failover, or
  // simply the better one.
  if (current) return currentReason.kind === 'failover' ? FAILBACK : PREFERRED;
  const top = Math.min(...candidates.map((c) => c.endpoint.priority));
  if (best.endpoint.priority === top) return PREFERRED;
  // The first choice (at start, or after no relay at all) is not the best there is: say which
  // better one is down.
  const down = byRank(candidates).find((c) => c.endpoint.priority < best.endpoint.priority && c.lastErrorCode !== undefined);
  return down ? { kind: 'failover', from: down.endpoint.url, how: 'down', code: down.lastErrorCode } : PREFERRED;
}

/** The endpoint a new stream uses: among eligible ones of the active one's priority, by weight. */
export function pickForStream<T extends Candidate>(candidates: readonly T[], active: T | undefined, random: () => number): T | undefined {
  if (!active?.live) return undefined;
  const group = eligible(candidates).filter((c) => c.endpoint.priority === active.endpoint.priority);
  return pickWeighted(group, random);
}

/** Live ones, the active one first, then best first (where to re-attach streams). */
export function liveOrder<T extends Candidate>(candidates: readonly T[], active: T | undefined): T[] {
  return candidates.filter((c) => c.live).sort((a, b) => (b === active ? 1 : 0) - (a === active ? 1 : 0) || compareCandidates(a, b));
}
