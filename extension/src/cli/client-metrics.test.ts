import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createError, ErrorCode } from '@tether/shared';
import type { PoolState } from '../core/pool-state.js';
import { serveClientMetrics } from './client-metrics.js';

const state: PoolState = {
  active: 'https://a.example',
  reason: { kind: 'preferred' },
  since: 0,
  queued: 2,
  live: 1,
  size: 2,
  endpoints: [
    { url: 'https://a.example', priority: 0, weight: 1, state: 'up', rttMs: 12.5, since: 0, streams: 3 },
    { url: 'https://b.example', priority: 1, weight: 1, state: 'down', rttMs: 0, since: 0, streams: 0 },
  ],
};

test('tether connect --metrics-port: the pool by state, RTT per live relay, streams, resumes and errors by code', async (t) => {
  const events = new EventEmitter();
  const server = await serveClientMetrics(0, '127.0.0.1', 'connect', { state: () => state, openStreams: () => 3, events });
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  events.emit('streamDetached', 's1', createError(ErrorCode.CONNECTION_LOST, 'lost'));
  events.emit('streamResumed', 's1');
  events.emit('connectionError', '127.0.0.1:5000', createError(ErrorCode.RATE_LIMITED, 'too many (retry in 1 s)'));
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('tether_client_relays{state="up",role="connect"}'), 1);
  assert.equal(value('tether_client_relays{state="down",role="connect"}'), 1);
  assert.equal(value('tether_client_relay_rtt_seconds{relay="https://a.example",role="connect"}'), 0.0125);
  assert.doesNotMatch(text, /tether_client_relay_rtt_seconds\{relay="https:\/\/b\.example"/, 'no RTT for a relay without a session');
  assert.equal(value('tether_client_sessions_live{role="connect"}'), 1);
  assert.equal(value('tether_client_opens_queued{role="connect"}'), 2);
  assert.equal(value('tether_client_streams_open{role="connect"}'), 3);
  assert.equal(value('tether_client_streams_resumed_total{role="connect"}'), 1);
  assert.equal(value('tether_client_streams_detached_total{role="connect"}'), 1);
  assert.equal(value('tether_client_connection_errors_total{code="TETHER_ERR_RATE_LIMITED",role="connect"}'), 1);
  assert.match(text, /^process_resident_memory_bytes\{role="connect"\} \d+/m);
  assert.equal((await fetch(`${url}/other`)).status, 404);
});

test('a --metrics-port in use is ADDRESS_IN_USE, saying what to do', async (t) => {
  const first = await serveClientMetrics(0, '127.0.0.1', 'share', { state: () => undefined, events: new EventEmitter() });
  t.after(() => first.close());
  const port = (first.address() as AddressInfo).port;
  await assert.rejects(serveClientMetrics(port, '127.0.0.1', 'share', { state: () => undefined, events: new EventEmitter() }), (err: Error & { code?: string }) => {
    assert.equal(err.code, ErrorCode.ADDRESS_IN_USE);
    assert.match(err.message, new RegExp(`--metrics-port ${port} on 127\\.0\\.0\\.1 is already in use: pick another port`));
    return true;
  });
});
