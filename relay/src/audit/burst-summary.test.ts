import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent } from '../ports/audit-sink.js';
import { BURST_LIMIT, BURST_WINDOW_MS, BurstSummary } from './burst-summary.js';

const denied = (resource: string, subjectId = 7): AuditEvent => ({
  code: 'access.denied',
  at: new Date().toISOString(),
  subject: { id: subjectId, name: `u${subjectId}`, admin: false },
  action: 'tunnel.connect',
  resource,
  rule: 'no-such-tunnel',
  reason: `no tunnel ${resource}`,
});

test('a flood of alike decisions: the first few as they come, the rest counted in one record when the window ends', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const out: AuditEvent[] = [];
  const bursts = new BurstSummary((e) => out.push(e));
  for (let i = 0; i < 5000; i++) bursts.offer(denied(`tunnel:n${i}`));
  bursts.offer(denied('tunnel:other-user', 8));
  bursts.offer({ code: 'stream.closed', at: '', subject: null, action: 'tunnel.connect', resource: 'tunnel:web', detail: { up: 1 } });
  assert.equal(out.length, BURST_LIMIT + 2, 'another subject and other events are not held back');
  t.mock.timers.tick(BURST_WINDOW_MS);
  assert.equal(out.length, BURST_LIMIT + 3);
  const summary = out[out.length - 1];
  assert.equal(summary.resource, 'tunnel:n4999');
  assert.equal(summary.detail?.repeated, 5000 - BURST_LIMIT);
  assert.equal(summary.detail?.resources, 'tunnel:n10 tunnel:n11 tunnel:n12 tunnel:n13 tunnel:n14');
  assert.match(summary.reason ?? '', /^4990 more like this within 1000 ms, counted in one record; the last: no tunnel tunnel:n4999$/);
  // A new window starts fresh.
  bursts.offer(denied('tunnel:again'));
  assert.equal(out[out.length - 1].resource, 'tunnel:again');
});

test('flush records what open windows counted, and a window with nothing held back records nothing more', () => {
  const out: AuditEvent[] = [];
  const bursts = new BurstSummary((e) => out.push(e));
  for (let i = 0; i < BURST_LIMIT; i++) bursts.offer(denied('tunnel:a', 1));
  for (let i = 0; i < BURST_LIMIT + 3; i++) bursts.offer(denied('tunnel:b', 2));
  bursts.flush();
  assert.deepEqual(out.map((e) => e.detail?.repeated ?? 0), [...new Array<number>(2 * BURST_LIMIT).fill(0), 3]);
  bursts.flush();
  assert.equal(out.length, 2 * BURST_LIMIT + 1);
});
