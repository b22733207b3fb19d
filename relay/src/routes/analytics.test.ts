import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser } from '../test-support/testing.js';
import { DEFAULT_USAGE_RETENTION, emptyCounters } from '../ports/usage-store.js';
import type { AnalyticsRow } from '../analytics/aggregate.js';
import type { UsageForecastResult } from '../analytics/usage-forecast.js';

type Listing = { rows: AnalyticsRow[] };
type Coded = { code: string; message: string };

test('GET /v1/analytics: a user sees the tunnels they own (every user of them), the admin all; bad input is a coded 400 saying what to give', async (t) => {
  const relay = await createTestRelay(t);
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  const aliceId = (await relay.store.findUserByName('alice'))!.id;
  const bobId = (await relay.store.findUserByName('bob'))!.id;
  await relay.store.claimTunnel('a-web', aliceId);
  await relay.store.claimTunnel('b-db', bobId);
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  await relay.store.usage.add([
    { ...emptyCounters(), minute, tunnel: 'a-web', user: 'bob', node: relay.nodeId, bytesUp: 10, bytesDown: 20, opened: 1, peak: 1 },
    { ...emptyCounters(), minute, tunnel: 'a-web', user: 'alice', node: relay.nodeId, bytesUp: 1, opened: 1, peak: 1 },
    { ...emptyCounters(), minute, tunnel: 'b-db', user: 'bob', node: relay.nodeId, bytesUp: 5, failed: { '3': 1 } },
  ], DEFAULT_USAGE_RETENTION);
  const get = async (token: string, query: string) => relay.app.inject({ method: 'GET', url: `/v1/analytics${query}`, headers: bearer(token) });

  const mine = await get(alice, '?by=tunnel&step=minute');
  assert.equal(mine.statusCode, 200, mine.body);
  assert.deepEqual(mine.json<Listing>().rows.map((r) => [r.key, r.bytesUp, r.opened]), [['a-web', 11, 2]]);
  const users = await get(alice, '?by=user&step=hour');
  assert.deepEqual(users.json<Listing>().rows.map((r) => r.key), ['alice', 'bob'], 'who used alice’s tunnel');
  const bobs = await get(bob, '?by=tunnel');
  assert.deepEqual(bobs.json<Listing>().rows.map((r) => [r.key, r.failed]), [['b-db', { '3': 1 }]]);
  const all = await get(ADMIN_TOKEN, '?by=node&step=day');
  assert.deepEqual(all.json<Listing>().rows.map((r) => [r.key, r.bytesUp]), [[relay.nodeId, 16]]);

  for (const [query, message] of [
    ['?by=host', /by \(tunnel, user or node\)/],
    ['?step=second', /step \(minute, hour or day\)/],
    ['?from=yesterday', /from \(an ISO 8601 time such as/],
    ['?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', /from must be before to/],
    ['?step=minute&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z', /shorten the range or use a coarser step/],
  ] as const) {
    const res = await get(alice, query);
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.json<Coded>().code, 'TETHER_ERR_INVALID_ARGUMENT');
    assert.match(res.json<Coded>().message, message, query);
  }
  assert.equal((await relay.app.inject({ method: 'GET', url: '/v1/analytics' })).statusCode, 401);
});

test('GET /v1/analytics/forecast answers with little history (a note, no points) and refuses bad input with coded 400s', async (t) => {
  const relay = await createTestRelay(t);
  const get = async (query: string) => relay.app.inject({ method: 'GET', url: `/v1/analytics/forecast${query}`, headers: bearer(ADMIN_TOKEN) });
  const res = await get('?metric=streams&horizon=7d&capacity=100');
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json<UsageForecastResult>();
  assert.equal(body.forecast, null);
  assert.equal(body.scope, 'cluster');
  assert.equal(body.horizonHours, 168);
  assert.match(body.notes[0], /history is short/);
  const node = await get('?metric=bytes&horizon=24h&scope=node');
  assert.equal(node.json<UsageForecastResult>().node, relay.nodeId);
  for (const [query, message] of [
    ['?metric=streams', /horizon \(a duration such as 48h, 7d or 2w\) is missing/],
    ['?metric=cpu&horizon=1d', /metric \(streams, bytes or tunnels\)/],
    ['?metric=streams&horizon=30m', /horizon must be a duration in whole hours/],
    ['?metric=streams&horizon=1d&capacity=-3', /capacity/],
    ['?metric=streams&horizon=1d&node=x', /node is for scope=node/],
  ] as const) {
    const bad = await get(query);
    assert.equal(bad.statusCode, 400, query);
    assert.equal(bad.json<Coded>().code, 'TETHER_ERR_INVALID_ARGUMENT');
    assert.match(bad.json<Coded>().message, message, query);
  }
});
