import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser } from '../test-support/testing.js';

test('/healthz answers ok without a token', async (t) => {
  const relay = await createTestRelay(t);
  const res = await relay.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
});

test('/readyz: counts for the admin only, and 503 when the database is unavailable', async (t) => {
  const relay = await createTestRelay(t);
  const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready', database: 'ok' });
  const asAdmin = await relay.app.inject({ method: 'GET', url: '/readyz', headers: bearer(ADMIN_TOKEN) });
  assert.deepEqual(asAdmin.json(), { status: 'ready', database: 'ok', hosts: 0, connectors: 0, streams: 0, bytesIn: 0, bytesOut: 0, draining: false });
  const alice = await createUser(relay, 'alice');
  for (const token of [alice, 'not-a-token']) {
    const other = await relay.app.inject({ method: 'GET', url: '/readyz', headers: bearer(token) });
    assert.deepEqual([other.statusCode, other.json()], [200, { status: 'ready', database: 'ok' }]);
  }
  await relay.store.close();
  const broken = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(broken.statusCode, 503);
  assert.equal(broken.json<{ database: string }>().database, 'unavailable');
});
