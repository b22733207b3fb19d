import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { ErrorCode } from '@tether/shared';
import { buildApp } from './app.js';
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
