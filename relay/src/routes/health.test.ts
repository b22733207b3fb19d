import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestRelay } from '../test-support/testing.js';

test('/healthz answers ok without a token', async (t) => {
  const relay = await createTestRelay(t);
  const res = await relay.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
});

test('/readyz reports counts, and 503 when the database is unavailable', async (t) => {
  const relay = await createTestRelay(t);
  const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready', database: 'ok', hosts: 0, connectors: 0, streams: 0, bytesIn: 0, bytesOut: 0, draining: false });
  await relay.store.close();
  const broken = await relay.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(broken.statusCode, 503);
  assert.equal(broken.json<{ database: string }>().database, 'unavailable');
});
