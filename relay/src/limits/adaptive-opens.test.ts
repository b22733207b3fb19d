import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOpen, encodeOpenErr, encodeOpenOk, ErrorCode, errorFromWire, FrameType, WireCode } from '@tether/shared';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { createTestRelay, HANG_GUARD, hostAndConnector } from '../test-support/testing.js';

const one = { initialLimit: 1, minLimit: 1, maxLimit: 1 };

test('past the adaptive limit of opens under way, new opens are shed with RATE_LIMITED; an answered open frees its place; open streams flow on', HANG_GUARD, async (t) => {
  const metrics = new MemoryMetrics();
  const relay = await createTestRelay(t, {}, ':memory:', { metrics, adaptiveOpens: one });
  await relay.listen();
  const { host, connector } = await hostAndConnector(relay);
  connector.send(encodeOpen(1, 65_536, 'web'));
  const first = await host.nextOf(FrameType.OPEN);
  // The host has not answered: the one place is taken.
  connector.send(encodeOpen(3, 65_536, 'web'));
  const shed = await connector.nextOf(FrameType.OPEN_ERR, 3);
  assert.equal(shed.code, WireCode.RATE_LIMITED);
  assert.match(shed.message, /^the relay is overloaded and takes no new streams for a moment; streams already open are not affected \(retry in 1 s\)$/);
  assert.equal(errorFromWire(shed.code, shed.message).code, ErrorCode.RATE_LIMITED);
  assert.equal(metrics.value('tether_opens_shed_total'), 1);
  host.send(encodeOpenOk(first.streamId, 65_536));
  await connector.nextOf(FrameType.OPEN_OK, 1);
  connector.send(encodeOpen(5, 65_536, 'web'));
  const third = await host.nextOf(FrameType.OPEN);
  // A host's refusal frees the place too.
  host.send(encodeOpenErr(third.streamId, WireCode.TARGET_REFUSED, 'nothing listens'));
  assert.equal((await connector.nextOf(FrameType.OPEN_ERR, 5)).code, WireCode.TARGET_REFUSED);
  connector.send(encodeOpen(7, 65_536, 'web'));
  await host.nextOf(FrameType.OPEN);
  assert.equal(relay.router.stats().streams, 2);
});

test('in shadow mode (with the rate limits) nothing is shed; adaptiveOpens: false turns it off', HANG_GUARD, async (t) => {
  for (const more of [{ rateLimitShadow: true, adaptiveOpens: one }, { adaptiveOpens: false as const }]) {
    const metrics = new MemoryMetrics();
    const relay = await createTestRelay(t, {}, ':memory:', { metrics, ...more });
    await relay.listen();
    const { host, connector } = await hostAndConnector(relay);
    for (const id of [1, 3, 5]) connector.send(encodeOpen(id, 65_536, 'web'));
    for (let i = 0; i < 3; i++) await host.nextOf(FrameType.OPEN);
    assert.equal(metrics.value('tether_opens_shed_total'), 0);
  }
});
