import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp, generateAuditKeyring, type RelayApp } from '@tether/relay';
import { isTetherError } from '@tether/shared';
import { exportLines, parsePublicKeys, verifyLog } from '@tether/shared/audit';
import { AuditApi, auditQuery } from './audit-api.js';
import { RelayApi } from './relay-api.js';

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

test('auditQuery: only the values given, encoded', () => {
  assert.equal(auditQuery({}), '');
  assert.equal(auditQuery({ actor: 'user:a#1', after: 0, limit: undefined }), '?actor=user%3Aa%231&after=0');
});

// AuditApi against a relay that keeps a signed log (SQLite in memory): the answers have the
// shapes the types declare, the export streams what verifyLog accepts, refusals come back coded.
describe('AuditApi, against a relay', () => {
  const adminToken = 'admin-token-for-audit-tests';
  let relay: RelayApp;
  let url: string;
  let admin: AuditApi;
  let aliceToken: string;

  before(async () => {
    relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false, auditLog: { keys: generateAuditKeyring() } });
    await relay.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
    admin = AuditApi.of(url, adminToken);
    const relayApi = new RelayApi(url, adminToken);
    aliceToken = (await relayApi.createUser('alice')).token;
    await relayApi.createUser('bob');
  });
  after(async () => {
    await relay?.app.close();
  });

  test('entries, filtered and paged', async () => {
    const created = await admin.entries({ event: 'user.created' });
    assert.deepEqual(created.entries.map((e) => e.target), ['user:alice', 'user:bob']);
    assert.equal(created.next, null);
    assert.equal(typeof created.entries[0].details?.action, 'string');
    const page = await admin.entries({}, { limit: 1 });
    assert.equal(page.entries.length, 1);
    assert.equal(page.next, page.entries[0].index);
  });

  test('keys, a checkpoint, the checkpoints, and an export that verifies against them', async () => {
    const keys = await admin.keys();
    assert.equal(keys.keys.length, 1);
    assert.equal(keys.keys[0].active, true);
    const checkpoint = await admin.checkpoint();
    assert.equal(checkpoint.kid, keys.keys[0].kid);
    assert.deepEqual(await admin.checkpoints(), [checkpoint]);
    const lines = exportLines(await text(await admin.export()));
    assert.ok(lines.length >= checkpoint.size);
    const verdict = verifyLog(lines, { keys: parsePublicKeys(keys.pem), checkpoints: [checkpoint] });
    assert.equal(verdict.ok, true, verdict.problem?.message);
    assert.equal(verdict.checkpointsChecked, 1);
    const filtered = exportLines(await text(await admin.export({ target: 'user:bob' })));
    assert.deepEqual(filtered.map((l) => (JSON.parse(l) as { event: string }).event), ['user.created']);
  });

  test('a user may fetch the keys but not read the log: coded refusals', async () => {
    const alice = AuditApi.of(url, aliceToken);
    assert.match((await alice.keys()).pem, /BEGIN PUBLIC KEY/);
    await assert.rejects(alice.export(), (err) => isTetherError(err) && /FORBIDDEN|UNAUTHORIZED/.test(err.code));
    await assert.rejects(alice.entries(), (err) => isTetherError(err) && /FORBIDDEN|UNAUTHORIZED/.test(err.code));
    await assert.rejects(AuditApi.of(url, 'wrong').export(), (err) => isTetherError(err, 'TETHER_ERR_UNAUTHORIZED'));
  });
});

describe('AuditApi.export from something that is not a relay', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => new Promise<void>((done) => server.close(() => done())));

  test('a 200 that is not JSON lines is a coded error, not a log', async () => {
    await assert.rejects(AuditApi.of(url, 't').export(), (err) => isTetherError(err) && err.message.includes(url));
  });
});
