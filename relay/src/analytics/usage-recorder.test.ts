import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageDelta, UsageStore } from '../ports/usage-store.js';
import { WireCode } from '@tether/shared';
import { UsageRecorder } from './usage-recorder.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');

function harness(fail = () => false, maxKeys?: number) {
  let now = T0 + 5_000;
  const batches: UsageDelta[][] = [];
  const store: UsageStore = {
    add: async (deltas) => {
      if (fail()) throw new Error('store down');
      batches.push(deltas.map((d) => structuredClone(d)));
    },
    query: async () => [],
    prune: async () => undefined,
  };
  const recorder = new UsageRecorder({ store, clock: { now: () => now, monotonic: () => now }, nodeId: 'n1', flushMs: 3_600_000, maxKeys });
  return { recorder, batches, tick: (ms: number) => (now += ms) };
}

const stream = (tunnel: string) => ({ tunnel, up: 0, down: 0 });
const pick = (d: UsageDelta) => [d.minute - T0, d.tunnel, d.user, d.node, d.bytesUp, d.bytesDown, d.opened, d.closed, d.durationMs, d.peak, d.failed];

test('the recorder batches per minute and key: opens, peak, bytes of live streams at each flush, sessions and failed opens', async (t) => {
  const { recorder, batches, tick } = harness();
  t.after(() => recorder.close());
  const a = stream('web');
  const b = stream('web');
  recorder.streamOpened(a, 'alice');
  recorder.streamOpened(b, 'alice');
  recorder.openFailed('web', 'bob', 3);
  recorder.openFailed('web', 'bob', 3);
  a.up = 100;
  a.down = 1000;
  assert.equal(batches.length, 0, 'nothing written before a flush');
  await recorder.flush();
  assert.deepEqual(batches[0].map(pick), [
    [0, 'web', 'alice', 'n1', 100, 1000, 2, 0, 0, 2, {}],
    [0, 'web', 'bob', 'n1', 0, 0, 0, 0, 0, 0, { '3': 2 }],
  ]);
  // The next minute: a's later bytes land in it, its close counts a session; b stays open (peak 2).
  tick(60_000);
  a.up = 150;
  recorder.streamClosed(a, 65_000, 'ssh');
  await recorder.flush();
  assert.deepEqual(batches[1].map(pick), [[60_000, 'web', 'alice', 'n1', 50, 0, 0, 1, 65_000, 1, {}]]);
  assert.deepEqual(batches[1][0].protocols, { ssh: 1 }, 'ended streams are counted by protocol');
  assert.equal(recorder.openStreams(), 1);
  // A closed stream is not counted twice; an unknown one is ignored.
  recorder.streamClosed(a, 1);
  b.down = 7;
  tick(60_000);
  await recorder.flush();
  assert.deepEqual(batches[2].map(pick), [[120_000, 'web', 'alice', 'n1', 0, 7, 0, 0, 0, 1, {}]]);
});

test('a batch the store refused is kept and merged into the next flush', async (t) => {
  let down = true;
  const { recorder, batches } = harness(() => down);
  t.after(() => recorder.close());
  const s = stream('db');
  recorder.streamOpened(s, 'carol');
  s.up = 10;
  await recorder.flush();
  assert.equal(batches.length, 0);
  s.up = 15;
  recorder.openFailed('db', 'carol', 9);
  down = false;
  await recorder.flush();
  assert.deepEqual(batches[0].map(pick), [[0, 'db', 'carol', 'n1', 15, 0, 1, 0, 0, 1, { '9': 1 }]]);
});

test('a flood of names cannot grow the store: TUNNEL_UNKNOWN refusals go under _unknown, keys past the cap under _other', async (t) => {
  const { recorder, batches } = harness(() => false, 3);
  t.after(() => recorder.close());
  for (let i = 0; i < 50; i++) recorder.openFailed(`probe-${i}`, 'mallory', WireCode.TUNNEL_UNKNOWN);
  for (let i = 0; i < 5; i++) recorder.openFailed(`t${i}`, 'mallory', WireCode.RATE_LIMITED);
  await recorder.flush();
  assert.deepEqual(batches[0].map((d) => [d.tunnel, d.user, d.failed]), [
    ['_unknown', 'mallory', { [WireCode.TUNNEL_UNKNOWN]: 50 }],
    ['t0', 'mallory', { [WireCode.RATE_LIMITED]: 1 }],
    ['t1', 'mallory', { [WireCode.RATE_LIMITED]: 1 }],
    ['_other', '_other', { [WireCode.RATE_LIMITED]: 3 }],
  ]);
});
