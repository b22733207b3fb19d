import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '@tether/shared';
import { DiagnosticsModel, poolView, rttHistogram } from './diagnostics-model.js';
import type { EndpointStatus, PoolState } from './pool-state.js';

const A = 'http://127.0.0.1:8080';
const B = 'http://127.0.0.1:8081';

/** A builder for pool states: endpoints by URL, `active` and the reason. */
function pool(endpoints: Partial<EndpointStatus>[], active: string | undefined, reason: PoolState['reason'] = { kind: 'preferred' }): PoolState {
  return {
    active, reason, since: 0, queued: 0, live: endpoints.filter((e) => e.state === 'up').length, size: 2,
    endpoints: endpoints.map((e) => ({ url: A, priority: 0, weight: 1, state: 'up', rttMs: 0, since: 0, streams: 0, ...e })),
  };
}

function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test('a failover shows on the timeline: the relay lost with its code, the switch, and the error with what to do', () => {
  const model = new DiagnosticsModel({ now: clock().now });
  model.poolState('connections', pool([{ url: A }, { url: B }], A));
  const lost = { code: ErrorCode.CONNECTION_LOST, message: `relay ${A} ended the session` };
  model.poolState('connections', pool([{ url: A, state: 'down', lastError: lost }, { url: B }], B, { kind: 'failover', from: A, how: 'lost', code: lost.code }));
  const { events, errors } = model.history();
  assert.deepEqual(events.map((e) => e.kind), ['relay-up', 'relay-up', 'relay-up', 'relay-down', 'error', 'failover']);
  assert.equal(events[3].text, `relay ${A} lost: ${lost.message}`);
  assert.equal(events[3].code, ErrorCode.CONNECTION_LOST);
  assert.match(events[5].text, new RegExp(`new streams go to ${B} \\(failover: ${A} lost \\(${ErrorCode.CONNECTION_LOST}\\)\\)`));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, ErrorCode.CONNECTION_LOST);
  assert.match(errors[0].advice, /resume through another relay/);
  // The same state again is not news.
  model.poolState('connections', pool([{ url: A, state: 'down', lastError: lost }, { url: B }], B, { kind: 'failover', from: A, how: 'lost', code: lost.code }));
  assert.equal(model.history().events.length, events.length);
});

test('no relay at all, then the preferred one back: no-relay then relay-up', () => {
  const model = new DiagnosticsModel({ now: clock().now });
  model.poolState('sharing laptop', pool([{ url: A }], A));
  model.poolState('sharing laptop', pool([{ url: A, state: 'connecting' }], undefined, { kind: 'no-relay' }));
  model.poolState('sharing laptop', pool([{ url: A }], A));
  assert.deepEqual(model.history().events.map((e) => [e.kind, e.where]), [
    ['relay-up', 'sharing laptop'], ['relay-up', 'sharing laptop'], ['no-relay', 'sharing laptop'], ['relay-up', 'sharing laptop'], ['relay-up', 'sharing laptop'],
  ]);
});

test('RTT samples are kept only while sampling, bounded, and counted in the histogram', () => {
  const model = new DiagnosticsModel({ now: clock().now, rttSamples: 3 });
  model.rtt('connections', A, 5);
  assert.deepEqual(model.view([], []).rttSamples, [], 'nothing is sampled while no panel is open');
  model.sampling = true;
  for (const ms of [0.3, 0.4, 7, 150]) model.rtt('connections', A, ms);
  const view = model.view([], []);
  assert.deepEqual(view.rttSamples.map((s) => s.ms), [0.4, 7, 150]);
  assert.deepEqual(view.rttHistogram, [
    { upToMs: 0.5, count: 1 }, { upToMs: 1, count: 0 }, { upToMs: 2, count: 0 }, { upToMs: 5, count: 0 }, { upToMs: 10, count: 1 },
    { upToMs: 20, count: 0 }, { upToMs: 50, count: 0 }, { upToMs: 100, count: 0 }, { upToMs: 200, count: 1 },
  ]);
});

test('the RTT histogram puts what is above every bound in a last bucket, and is empty with no samples', () => {
  assert.deepEqual(rttHistogram([]), []);
  assert.deepEqual(rttHistogram([{ ms: 2000 }, { ms: 5000 }]), [{ upToMs: 2000, count: 1 }, { upToMs: null, count: 1 }]);
});

test('throughput per connection is bytes over the time between two samples, only while sampling', () => {
  const time = clock();
  const model = new DiagnosticsModel({ now: time.now });
  const conn = { id: 'listener-1', tunnel: 'laptop', origin: '127.0.0.1:2222', relays: [A], openStreams: 1, bytesIn: 0, bytesOut: 0 };
  assert.deepEqual(model.connections([conn])[0].throughput, []);
  model.sampling = true;
  model.connections([conn]);
  time.advance(2000);
  const [path] = model.connections([{ ...conn, bytesIn: 4000, bytesOut: 1000 }]);
  assert.deepEqual(path.throughput, [{ at: 3000, inBps: 2000, outBps: 500 }]);
  assert.deepEqual(path.relays, [A]);
  // A connection that is gone is forgotten: back again, it starts a new series.
  model.connections([]);
  assert.deepEqual(model.connections([conn])[0].throughput, []);
});

test('agent forwarding state per terminal, removed with the terminal', () => {
  const model = new DiagnosticsModel();
  model.agent('t1', { terminal: 't1', tunnel: 'laptop', requested: true, agent: 'ssh-agent', live: true });
  assert.deepEqual(model.view([], []).agents.map((a) => a.live), [true]);
  model.agent('t1', undefined);
  assert.deepEqual(model.view([], []).agents, []);
});

test('stream detach and resume go on the timeline; clear forgets the history', () => {
  const model = new DiagnosticsModel();
  model.streamDetached('laptop', { code: ErrorCode.CONNECTION_LOST, message: 'gone' });
  model.streamResumed('laptop');
  assert.deepEqual(model.history().events.map((e) => e.kind), ['detached', 'resumed']);
  model.clear();
  assert.deepEqual(model.history(), { events: [], errors: [] });
});

test('poolView marks the active relay and carries the session RTT as measured', () => {
  const view = poolView('connections', pool([{ url: A, rttMs: 1.5 }, { url: B, state: 'down' }], A), { smoothedMs: 1.23456, lastMs: 1.1, minMs: 0.9 });
  assert.deepEqual(view.relays.map((r) => [r.url, r.active, r.state]), [[A, true, 'up'], [B, false, 'down']]);
  assert.equal(view.reason, 'preferred');
  assert.deepEqual(view.rtt, { smoothedMs: 1.235, lastMs: 1.1, minMs: 0.9 });
});
