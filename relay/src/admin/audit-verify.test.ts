import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { ErrorCode } from '@tether/shared';
import { generateAuditKeyring } from '../audit/audit-keys.js';
import { installErrorHandlers } from '../http-errors.js';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD } from '../test-support/testing.js';
import { auditVerifyRoutes } from './audit-verify.js';

type Body = { code: string; message: string };

test('the Audit page\'s verification: the stored chain and its signed checkpoints hold; the admin only', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, {}, ':memory:', { auditLog: { keys: generateAuditKeyring(), checkpointIntervalMs: 0 } });
  const alice = await createUser(relay, 'alice');
  await relay.app.inject({ method: 'GET', url: '/v1/users', headers: bearer('wrong') });
  const checkpoint = await relay.app.inject({ method: 'POST', url: '/v1/audit/checkpoint', headers: bearer(ADMIN_TOKEN) });
  assert.equal(checkpoint.statusCode, 200, checkpoint.body);
  await createUser(relay, 'bob');

  const res = await relay.app.inject({ method: 'GET', url: '/admin/api/audit/verify', headers: bearer(ADMIN_TOKEN) });
  assert.equal(res.statusCode, 200, res.body);
  const verdict = res.json<{ ok: boolean; records: number; first: number; checkpoints: number; checkpointsChecked: number; root: string }>();
  assert.equal(verdict.ok, true, res.body);
  assert.equal(verdict.first, 0);
  assert.ok(verdict.records >= 4, `records: ${verdict.records}`);
  assert.equal(verdict.checkpoints, 1);
  assert.equal(verdict.checkpointsChecked, 1);
  assert.match(verdict.root, /^[0-9a-f]{64}$/);

  const refused = await relay.app.inject({ method: 'GET', url: '/admin/api/audit/verify', headers: bearer(alice) });
  assert.deepEqual([refused.statusCode, refused.json<Body>().code], [403, ErrorCode.FORBIDDEN]);

  // Past the cap the relay says how to verify offline instead of holding the whole log.
  const small = Fastify();
  installErrorHandlers(small);
  small.decorate('requireAdmin', async () => undefined);
  await small.register(auditVerifyRoutes, { log: relay.auditLog, maxRecords: 2 });
  t.after(() => small.close());
  const capped = await small.inject({ url: '/admin/api/audit/verify' });
  assert.equal(capped.statusCode, 400);
  assert.match(capped.json<Body>().message, /tether audit verify/);
});

test('a relay without an audit log says so', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  const res = await relay.app.inject({ method: 'GET', url: '/admin/api/audit/verify', headers: bearer(ADMIN_TOKEN) });
  assert.deepEqual([res.statusCode, res.json<Body>().code], [404, ErrorCode.NOT_FOUND]);
});
