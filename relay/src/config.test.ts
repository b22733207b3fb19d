import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { defaultLimits, resolveLimits } from './config.js';

test('resolveLimits fills every limit with its default', () => {
  assert.deepEqual(resolveLimits(), defaultLimits);
  assert.deepEqual(resolveLimits({ openTimeoutMs: undefined }), defaultLimits);
});

test('resolveLimits takes valid overrides', () => {
  const limits = resolveLimits({ maxFrameSize: 1024, maxMessageSize: 1034, maxStreamsPerConnection: 1 });
  assert.equal(limits.maxFrameSize, 1024);
  assert.equal(limits.maxMessageSize, 1034);
  assert.equal(limits.maxStreamsPerConnection, 1);
  assert.equal(limits.idleTimeoutMs, defaultLimits.idleTimeoutMs);
  // A datagram travels in one frame: the default datagram limit follows a smaller frame limit.
  assert.equal(limits.maxDatagramSize, 1024);
  assert.equal(resolveLimits({ maxDatagramSize: 512 }).maxDatagramSize, 512);
});

test('resolveLimits refuses limits that cannot work', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['unknown key', { maxWidgets: 3 }],
    ['non-integer', { openTimeoutMs: 1.5 }],
    ['string', { openTimeoutMs: '100' }],
    ['NaN', { pingIntervalMs: Number.NaN }],
    ['infinite', { idleTimeoutMs: Number.POSITIVE_INFINITY }],
    ['zero', { maxStreamsPerConnection: 0 }],
    ['negative', { drainTimeoutMs: -1 }],
    ['null', { handshakeTimeoutMs: null }],
    ['message smaller than a frame', { maxFrameSize: 4096, maxMessageSize: 4096 }],
    ['datagram above the frame limit', { maxFrameSize: 4096, maxDatagramSize: 4097 }],
    ['frame above 16 MiB', { maxFrameSize: 16 * 1024 * 1024 + 1, maxMessageSize: 32 * 1024 * 1024 }],
  ];
  for (const [name, partial] of cases) {
    assert.throws(() => resolveLimits(partial), { code: ErrorCode.INVALID_CONFIG }, name);
  }
});
