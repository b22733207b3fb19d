import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { byRank, chooseActive, compareCandidates, eligible, liveOrder, pickForStream, pickWeighted, rankEndpoints, type Candidate } from './endpoint-ranking.js';
import type { RelayEndpoint } from './endpoints.js';
import { describePoolReason, FAILBACK, NO_RELAY, PREFERRED, type PoolReason } from './pool-reason.js';

interface Spec {
  priority?: number;
  weight?: number;
  rank?: number;
  live?: boolean;
  rttMs?: number;
  recovering?: boolean;
  draining?: boolean;
  error?: string;
}

/** Candidates named a, b, c… in the order given; rank defaults to that order. */
function field(...specs: Spec[]): Candidate[] {
  return specs.map((spec, index) => ({
    endpoint: { url: `http://${String.fromCharCode(97 + index)}`, priority: spec.priority ?? index, weight: spec.weight ?? 1 },
    rank: spec.rank ?? index,
    live: spec.live ?? false,
    rttMs: spec.rttMs ?? 0,
    recovering: spec.recovering ?? false,
    draining: spec.draining ?? false,
    lastErrorCode: spec.error,
  }));
}

const name = (c: Candidate | undefined): string | undefined => c?.endpoint.url.slice('http://'.length);
const LOST = 'TETHER_ERR_CONNECTION_LOST';

describe('chooseActive', () => {
  const cases: [what: string, candidates: Spec[], current: number | undefined, currentReason: PoolReason, active: string | undefined, reason: string][] = [
    ['nothing live: no relay', [{}, {}], undefined, PREFERRED, undefined, 'no relay'],
    ['the best priority at start', [{ live: true }, { live: true }], undefined, NO_RELAY, 'a', 'preferred'],
    ['lower RTT wins within a priority', [{ priority: 0, live: true, rttMs: 9 }, { priority: 0, live: true, rttMs: 2 }], undefined, NO_RELAY, 'b', 'preferred'],
    ['rank breaks an RTT tie', [{ priority: 0, live: true, rank: 1 }, { priority: 0, live: true, rank: 0 }], undefined, NO_RELAY, 'b', 'preferred'],
    ['the current one stays while as good (RTT alone does not move it)', [{ priority: 0, live: true, rttMs: 9 }, { priority: 0, live: true, rttMs: 1 }], 0, PREFERRED, 'a', 'preferred'],
    ['the current one keeps its reason', [{ error: LOST }, { live: true }], 1, { kind: 'failover', from: 'http://a', how: 'lost', code: LOST }, 'b', `failover: http://a lost (${LOST})`],
    ['the current one lost: failover, with its error', [{ error: LOST }, { live: true }], 0, PREFERRED, 'b', `failover: http://a lost (${LOST})`],
    ['the current one lost without an error', [{}, { live: true }], 0, PREFERRED, 'b', 'failover: http://a lost (closed)'],
    ['the current one draining', [{ draining: true, error: 'TETHER_ERR_GOING_AWAY' }, { live: true }], 0, PREFERRED, 'b', 'failover: http://a draining (TETHER_ERR_GOING_AWAY)'],
    ['a recovering endpoint is passed over while a trusted one is live', [{ live: true, recovering: true }, { live: true }], 1, { kind: 'failover', from: 'http://a', how: 'lost', code: LOST }, 'b', `failover: http://a lost (${LOST})`],
    ['once trusted again after a failover: failback', [{ live: true }, { live: true }], 1, { kind: 'failover', from: 'http://a', how: 'lost', code: LOST }, 'a', 'failback'],
    ['a better one trusted while on a preferred one: preferred', [{ live: true }, { live: true }], 1, PREFERRED, 'a', 'preferred'],
    ['only recovering ones live: they are used', [{ live: true, recovering: true }, { live: true, recovering: true }], undefined, NO_RELAY, 'a', 'preferred'],
    ['a first choice below a better one that is down', [{ error: 'TETHER_ERR_RELAY_UNREACHABLE' }, { live: true }], undefined, NO_RELAY, 'b', 'failover: http://a down (TETHER_ERR_RELAY_UNREACHABLE)'],
    ['the down one named is the best ranked with an error', [{ priority: 0, rank: 1, error: 'E1' }, { priority: 0, rank: 0, error: 'E2' }, { priority: 1, live: true }], undefined, NO_RELAY, 'c', 'failover: http://b down (E2)'],
    ['a first choice below a better one that is only idle', [{}, { live: true }], undefined, NO_RELAY, 'b', 'preferred'],
  ];
  for (const [what, specs, current, currentReason, active, reason] of cases) {
    test(what, () => {
      const candidates = field(...specs);
      const chosen = chooseActive(candidates, current === undefined ? undefined : candidates[current], currentReason);
      assert.equal(name(chosen.active), active);
      assert.equal(describePoolReason(chosen.reason), reason);
    });
  }

  test('a kept current endpoint is the same object, with the same reason object', () => {
    const candidates = field({ live: true }, { live: true });
    const chosen = chooseActive(candidates, candidates[0], FAILBACK);
    assert.equal(chosen.active, candidates[0]);
    assert.equal(chosen.reason, FAILBACK);
  });
});

describe('eligible, ordering and picking', () => {
  test('eligible: live and trusted, else every live one', () => {
    assert.deepEqual(eligible(field({ live: true }, { live: true, recovering: true }, {})).map(name), ['a']);
    assert.deepEqual(eligible(field({ live: true, recovering: true }, {})).map(name), ['a']);
    assert.deepEqual(eligible(field({}, { draining: true })), []);
  });

  test('compareCandidates: priority, then RTT, then rank', () => {
    const [a, b, c, d] = field({ priority: 1 }, { priority: 0, rttMs: 5 }, { priority: 0, rttMs: 5, rank: 0 }, { priority: 0, rttMs: 1, rank: 7 });
    assert.deepEqual([a, b, c, d].sort(compareCandidates).map(name), ['d', 'c', 'b', 'a']);
  });

  test('byRank sorts by rank and leaves its input alone', () => {
    const input = field({ rank: 2 }, { rank: 0 }, { rank: 1 });
    assert.deepEqual(byRank(input).map(name), ['b', 'c', 'a']);
    assert.deepEqual(input.map(name), ['a', 'b', 'c']);
  });

  test('liveOrder: the active one first, then best first; not-live ones left out', () => {
    const candidates = field({ live: true }, { live: true, priority: 0, rttMs: 3 }, {}, { live: true, priority: 5 });
    assert.deepEqual(liveOrder(candidates, candidates[3]).map(name), ['d', 'a', 'b']);
    assert.deepEqual(liveOrder(candidates, undefined).map(name), ['a', 'b', 'd']);
  });

  const picks: [what: string, specs: Spec[], active: number | undefined, random: number, picked: string | undefined][] = [
    ['nothing while no endpoint is active', [{ live: true }], undefined, 0, undefined],
    ['nothing while the active one is not live', [{}], 0, 0, undefined],
    ['the active one alone in its priority', [{ live: true }, { live: true }], 0, 0.99, 'a'],
    ['by weight among equals: low draw', [{ priority: 0, weight: 3, live: true }, { priority: 0, weight: 1, live: true }], 0, 0.74, 'a'],
    ['by weight among equals: high draw', [{ priority: 0, weight: 3, live: true }, { priority: 0, weight: 1, live: true }], 0, 0.76, 'b'],
    ['not a recovering one of the same priority', [{ priority: 0, live: true }, { priority: 0, live: true, recovering: true }], 0, 0.99, 'a'],
  ];
  for (const [what, specs, active, random, picked] of picks) {
    test(`pickForStream: ${what}`, () => {
      const candidates = field(...specs);
      assert.equal(name(pickForStream(candidates, active === undefined ? undefined : candidates[active], () => random)), picked);
    });
  }
});

describe('rankEndpoints', () => {
  const e = (url: string, priority: number, weight = 1): RelayEndpoint => ({ url, priority, weight });
  const draws = (...values: number[]): (() => number) => () => values.shift() ?? 0;

  const cases: [what: string, endpoints: RelayEndpoint[], random: () => number, order: string[]][] = [
    ['priority first, whatever the list order', [e('c', 2), e('a', 0), e('b', 1)], draws(), ['a', 'b', 'c']],
    ['equal priorities in a weighted draw: first draw low', [e('a', 0, 3), e('b', 0, 1)], draws(0.1), ['a', 'b']],
    ['equal priorities in a weighted draw: first draw high', [e('a', 0, 3), e('b', 0, 1)], draws(0.9), ['b', 'a']],
    ['groups drawn separately', [e('x', 1), e('a', 0), e('b', 0), e('y', 1)], draws(0.9, 0, 0.9, 0), ['b', 'a', 'y', 'x']],
  ];
  for (const [what, endpoints, random, order] of cases) {
    test(what, () => assert.deepEqual(rankEndpoints(endpoints, random).map((x) => x.url), order));
  }

  test('pickWeighted takes the item whose share holds the draw; a draw at the very top takes the last', () => {
    const items = [e('a', 0, 1), e('b', 0, 2)].map((endpoint) => ({ endpoint }));
    assert.equal(pickWeighted(items, () => 0.3).endpoint.url, 'a');
    assert.equal(pickWeighted(items, () => 0.34).endpoint.url, 'b');
    assert.equal(pickWeighted(items, () => 1).endpoint.url, 'b');
  });
});
