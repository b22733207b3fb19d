import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ErrorCode } from '@tether/shared';
import { buildApp } from './app.js';
import { SQLITE_BUSY_TIMEOUT_MS } from './stores/sqlite/sqlite-store.js';
import { ADMIN_TOKEN, bearer, createTestRelay } from './test-support/testing.js';

/** Sends raw bytes to the relay and resolves with the whole answer once the relay closes. */
function raw(port: number, request: string): Promise<{ status: number; body: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      try {
        resolve({ status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { code: string; message: string } });
      } catch (err) {
        reject(new Error(`not a JSON answer: ${text.slice(0, 200)} (${String(err)})`));
      }
    });
  });
}

test("errors of Node's HTTP parser are coded JSON like every other error", async (t) => {
  const relay = await createTestRelay(t, { handshakeTimeoutMs: 300 });
  const port = Number(new URL(await relay.listen()).port);
  const cases: [string, string, number, string][] = [
    ['garbage', 'NOT HTTP AT ALL\r\n\r\n', 400, ErrorCode.INVALID_ARGUMENT],
    ['headers too large', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, ErrorCode.INVALID_ARGUMENT],
    ['a request that never finishes', 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 408, ErrorCode.TIMEOUT],
  ];
  for (const [name, request, status, code] of cases) {
    const answer = await raw(port, request);
    assert.equal(answer.status, status, name);
    assert.equal(answer.body.code, code, name);
  }
});

test('bodies are not coerced and unknown fields are refused', async (t) => {
  const relay = await createTestRelay(t);
  for (const payload of [{ name: 12345 }, { name: 'alice', admin: true }, { name: ['alice'] }]) {
    const res = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: bearer(ADMIN_TOKEN), payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json<{ code: string }>().code, ErrorCode.INVALID_ARGUMENT, JSON.stringify(payload));
  }
  const users = await relay.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(ADMIN_TOKEN) });
  assert.deepEqual(users.json(), { users: [] });
});

test('request logs carry the path, never the query string', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const relay = await buildApp({ databaseFile: ':memory:', adminToken: ADMIN_TOKEN, logger: { level: 'info', stream } });
  t.after(() => relay.app.close());
  await relay.app.inject({ method: 'GET', url: '/v1/tunnels/web?token=hunter2', headers: bearer(ADMIN_TOKEN) });
  const log = lines.join('');
  assert.match(log, /"path":"\/v1\/tunnels\/web"/);
  assert.doesNotMatch(log, /hunter2/);
  // A logger instance is used as given.
  const given = pino({ level: 'silent' });
  const withInstance = await buildApp({ databaseFile: ':memory:', adminToken: ADMIN_TOKEN, logger: given });
  t.after(() => withInstance.app.close());
  assert.equal((await withInstance.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

test('a database another process keeps locked: 503 STORE_UNAVAILABLE after a short wait, not a frozen relay', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-busy-'));
  const file = join(dir, 'tether.db');
  const relay = await buildApp({ databaseFile: file, adminToken: ADMIN_TOKEN, logger: false });
  // A sibling relay on the same data folder, stopped in the middle of a write.
  const sibling = new Database(file);
  t.after(async () => {
    if (sibling.inTransaction) sibling.exec('ROLLBACK');
    sibling.close();
    await relay.app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  sibling.exec('BEGIN IMMEDIATE');
  const began = performance.now();
  const refused = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: bearer(ADMIN_TOKEN), payload: { name: 'alice' } });
  const waited = performance.now() - began;
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json<{ code: string }>().code, ErrorCode.STORE_UNAVAILABLE);
  assert.match(refused.json<{ message: string }>().message, /locked by another process/);
  assert.equal(refused.headers['retry-after'], '1');
  // The wait blocks the event loop (better-sqlite3 is synchronous): it must stay far below the
  // 3 s in which peers give up on a link that does not answer their pings.
  assert.ok(waited >= SQLITE_BUSY_TIMEOUT_MS * 0.8 && waited < 3000, `waited ${waited.toFixed(0)} ms`);
  sibling.exec('COMMIT');
  const created = await relay.app.inject({ method: 'POST', url: '/v1/users', headers: bearer(ADMIN_TOKEN), payload: { name: 'alice' } });
  assert.ok(created.statusCode < 300, `once the lock is gone the same request works (${created.statusCode} ${created.body})`);
});
