import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describePoolReason, FAILBACK, NO_RELAY, PREFERRED, samePoolReason, type PoolReason } from './pool-reason.js';

describe('describePoolReason', () => {
  const lost: PoolReason = { kind: 'failover', from: 'https://relay-a.example', how: 'lost', code: 'TETHER_ERR_CONNECTION_LOST' };
  const cases: [reason: PoolReason, text: string, short: string][] = [
    [PREFERRED, 'preferred', 'preferred'],
    [FAILBACK, 'failback', 'failback'],
    [NO_RELAY, 'no relay', 'no relay'],
    [lost, 'failover: https://relay-a.example lost (TETHER_ERR_CONNECTION_LOST)', 'failover: relay-a.example lost (TETHER_ERR_CONNECTION_LOST)'],
    [{ kind: 'failover', from: 'http://a', how: 'draining', code: 'TETHER_ERR_GOING_AWAY' }, 'failover: http://a draining (TETHER_ERR_GOING_AWAY)', 'failover: a draining (TETHER_ERR_GOING_AWAY)'],
    [{ kind: 'failover', from: 'http://a', how: 'down', code: 'TETHER_ERR_UNAUTHORIZED' }, 'failover: http://a down (TETHER_ERR_UNAUTHORIZED)', 'failover: a down (TETHER_ERR_UNAUTHORIZED)'],
    [{ kind: 'failover', from: 'http://a', how: 'lost', code: undefined }, 'failover: http://a lost (closed)', 'failover: a lost (closed)'],
  ];
  for (const [reason, text, short] of cases) {
    test(text, () => {
      assert.equal(describePoolReason(reason), text);
      assert.equal(describePoolReason(reason, (url) => url.replace(/^[a-z]+:\/\//, '')), short);
    });
  }

  test('samePoolReason compares what they say, not which object', () => {
    assert.equal(samePoolReason({ kind: 'preferred' }, PREFERRED), true);
    assert.equal(samePoolReason(PREFERRED, FAILBACK), false);
    assert.equal(samePoolReason({ kind: 'failover', from: 'http://a', how: 'lost', code: 'X' }, { kind: 'failover', from: 'http://a', how: 'down', code: 'X' }), false);
  });
});
