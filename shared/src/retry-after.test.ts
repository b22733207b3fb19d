import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, errorFromWire, rateLimited, WireCode } from './errors.js';
import { retryAfterHeaderMs, retryAfterOf, withRetryAfter } from './retry-after.js';

describe('retry-after in messages and headers', () => {
  test('a message says when in tenths of a second, rounded up, and reads back', () => {
    assert.equal(withRetryAfter('too many opens', 2500), 'too many opens (retry in 2.5 s)');
    assert.equal(withRetryAfter('too many opens', 2000), 'too many opens (retry in 2 s)');
    assert.equal(withRetryAfter('x', 1), 'x (retry in 0.1 s)');
    assert.equal(withRetryAfter('x', 0), 'x (retry in 0.1 s)');
    assert.equal(retryAfterOf('too many opens (retry in 2.5 s)'), 2500);
    assert.equal(retryAfterOf('too many opens (retry in 60 s)'), 60_000);
    // Said twice, it is said once.
    assert.equal(withRetryAfter(withRetryAfter('x', 1000), 3000), 'x (retry in 3 s)');
  });

  test('messages that do not end with it have none', () => {
    assert.equal(retryAfterOf('tunnel web is not being shared right now'), undefined);
    assert.equal(retryAfterOf('(retry in 2 s) at the start'), undefined);
    assert.equal(retryAfterOf('x (retry in -2 s)'), undefined);
  });

  test('an OPEN_ERR with RATE_LIMITED becomes an error carrying retryAfterMs; other codes carry none', () => {
    const err = errorFromWire(WireCode.RATE_LIMITED, 'too many stream opens (retry in 1.5 s)');
    assert.equal(err.code, ErrorCode.RATE_LIMITED);
    assert.equal(err.retryAfterMs, 1500);
    assert.equal(err.retryable, true);
    assert.equal(errorFromWire(WireCode.TUNNEL_OFFLINE, 'offline (retry in 1.5 s)').retryAfterMs, undefined);
  });

  test('rateLimited() puts it in both the message and the field, and its wire code survives the trip', () => {
    const err = rateLimited('too many API calls from 10.0.0.1', 1234.2);
    assert.equal(err.message, 'too many API calls from 10.0.0.1 (retry in 1.3 s)');
    assert.equal(err.retryAfterMs, 1235);
    assert.equal(err.wireCode, WireCode.RATE_LIMITED);
    assert.equal(errorFromWire(err.wireCode, err.message).retryAfterMs, 1300);
  });

  test('Retry-After headers: delta-seconds or an HTTP date; anything else is none', () => {
    assert.equal(retryAfterHeaderMs('3'), 3000);
    assert.equal(retryAfterHeaderMs(['7', '9']), 7000);
    const now = Date.parse('2026-12-01T12:00:00Z');
    assert.equal(retryAfterHeaderMs('Tue, 01 Dec 2026 12:00:05 GMT', now), 5000);
    assert.equal(retryAfterHeaderMs('Tue, 01 Dec 2026 11:00:00 GMT', now), 0);
    assert.equal(retryAfterHeaderMs(undefined), undefined);
    assert.equal(retryAfterHeaderMs('soon'), undefined);
    assert.equal(retryAfterHeaderMs('-1'), undefined);
    assert.equal(retryAfterHeaderMs('12345'.repeat(3)), undefined);
  });
});
