import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createError, ErrorCode, errorFromWire, WireCode } from '@tether/shared';
import { OpenHoldOff } from './open-hold-off.js';

test('after a RATE_LIMITED open, opens to that tunnel fail here until the time it named; other tunnels are not held', () => {
  let now = 1_000_000;
  const holdOff = new OpenHoldOff(() => now);
  holdOff.check('web');
  holdOff.failed('web', errorFromWire(WireCode.RATE_LIMITED, 'too many stream opens to tunnel web (retry in 2.5 s)'));
  now += 1000;
  assert.throws(() => holdOff.check('web'), (err: Error & { code?: string; retryAfterMs?: number }) => {
    assert.equal(err.code, ErrorCode.RATE_LIMITED);
    assert.equal(err.retryAfterMs, 1500);
    assert.equal(err.message, 'the relay limits stream opens to tunnel web; not asking it again yet (retry in 1.5 s)');
    return true;
  });
  holdOff.check('db');
  now += 1500;
  holdOff.check('web');
});

test('other failures, and RATE_LIMITED without a time, hold nothing off', () => {
  const holdOff = new OpenHoldOff(() => 0);
  holdOff.failed('web', errorFromWire(WireCode.TUNNEL_OFFLINE, 'offline'));
  holdOff.failed('web', createError(ErrorCode.RATE_LIMITED, 'too many'));
  holdOff.failed('web', new Error('boom'));
  holdOff.check('web');
});
