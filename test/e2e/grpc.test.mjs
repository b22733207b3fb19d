// gRPC through the HTTP ingress, every party real: a @grpc/grpc-js server behind
// `tether share api --http h2c --access public`, the relay as a process, and a grpc-js client
// pointed at the relay's port with the tunnel's host name as :authority. All four kinds of call,
// status codes and trailers, deadlines and cancellation, over h2c and again over TLS (h2 by ALPN).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HANG_GUARD, Processes, startRelay, startShare, tempDir } from './fixtures.mjs';
import { collect, echoClient, grpc, HOLD, MISSING, startEchoServer, statusOf, unary } from './grpc-peers.mjs';

/**
 * A self-signed certificate for localhost, *.localhost and 127.0.0.1 (the share's relay URL) in
 * `dir`: `{ cert, key }` file paths. api.localhost is named too: Node's TLS (grpc-js's) accepts
 * no wildcard over a two-label name such as *.localhost.
 */
function selfSigned(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,DNS:*.localhost,DNS:api.localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** The relay with its HTTP ingress on localhost, the Echo server, and `tether share api` for it. */
async function grpcPath(procs, dir, { relayArgs = [], shareEnv = {} } = {}) {
  const echo = await startEchoServer();
  procs.defer(() => echo.stop());
  const relay = await startRelay(procs, dir, { args: ['--public-domain', 'localhost', ...relayArgs] });
  const port = Number(new URL(relay.url).port);
  await startShare(procs, { url: relay.url, token: relay.adminToken, tunnel: 'api', targetPort: echo.port, args: ['--http', 'h2c', '--access', 'public'], env: shareEnv });
  return { echo, relay, port, authority: `api.localhost:${port}` };
}

/** The cases every transport runs: `setup()` gives `{ client, echo }` once the suite's `before` ran. */
function grpcCases(setup) {
  test('unary: the reply, request metadata to the server, response headers and trailers back', async () => {
    const { client, echo } = setup();
    const metadata = new grpc.Metadata();
    metadata.set('x-ask', 'please');
    const seen = once(echo.events, 'call');
    const { reply, metadata: headers, status } = await unary(client, { text: 'hello', count: 41 }, { metadata });
    assert.deepEqual({ text: reply.text, count: reply.count }, { text: 'echo: hello', count: 42 });
    const [method, call] = await seen;
    assert.equal(method, 'unary');
    assert.deepEqual(call.metadata['x-ask'], 'please');
    assert.deepEqual(headers.get('x-echo'), ['please']);
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(status.metadata.get('x-served-by'), ['echo']);
  });

  test('server streaming: every message in order', async () => {
    const { client } = setup();
    const notes = await collect(client.serverStream({ text: 'n', count: 50 }));
    assert.deepEqual(notes.map((n) => n.text), Array.from({ length: 50 }, (_, i) => `n ${i}`));
  });

  test('client streaming: the server reads every message, then answers once', async () => {
    const { client } = setup();
    const reply = await new Promise((resolve, reject) => {
      const call = client.clientStream((err, r) => (err ? reject(err) : resolve(r)));
      for (let i = 1; i <= 20; i++) call.write({ text: `c${i}`, count: i });
      call.end();
    });
    assert.equal(reply.count, 210);
    assert.equal(reply.text, Array.from({ length: 20 }, (_, i) => `c${i + 1}`).join(','));
  });

  test('bidi streaming: each message answered while the call stays open', async () => {
    const { client } = setup();
    const call = client.bidi();
    const answers = [];
    // One message at a time: the next is sent only once the previous one's answer came back.
    for (const word of ['alpha', 'beta', 'gamma']) {
      call.write({ text: word, count: answers.length + 1 });
      const [note] = await once(call, 'data');
      answers.push(note);
    }
    call.end();
    const status = await statusOf(call);
    assert.deepEqual(answers.map((n) => [n.text, n.count]), [['ALPHA', 2], ['BETA', 4], ['GAMMA', 6]]);
    assert.equal(status.code, grpc.status.OK);
  });

  test('a failed call: NOT_FOUND, its details and its custom trailing metadata reach the client', async () => {
    const { client } = setup();
    const err = await unary(client, { text: MISSING }).then(() => assert.fail('the call should fail'), (e) => e);
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, `no note ${MISSING}`);
    assert.deepEqual(err.metadata.get('x-why'), ['no note by that name']);
    assert.deepEqual(err.metadata.get('x-detail-bin'), [Buffer.from([0, 1, 2, 255])]);
  });

  test('a deadline: the client gets DEADLINE_EXCEEDED, the server saw the deadline and sees the call cancelled', async () => {
    const { client, echo } = setup();
    const seen = once(echo.events, 'call');
    const cancelled = once(echo.events, 'cancelled');
    const deadline = new Date(Date.now() + 300);
    const err = await unary(client, { text: 'slow', delayMs: 60_000 }, { deadline }).then(() => assert.fail('the call should time out'), (e) => e);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    const [, call] = await seen;
    // grpc-timeout crossed the relay: the server knows when the client gives up.
    // grpc-js gives a Date or milliseconds since the epoch; Infinity when the call has no deadline.
    assert.ok(Number.isFinite(Number(call.deadline)), `the server saw no deadline: ${call.deadline}`);
    assert.deepEqual(await cancelled, ['unary']);
  });

  test('cancellation: the client cancels a server stream, the server handler sees it cancelled', async () => {
    const { client, echo } = setup();
    const cancelled = once(echo.events, 'cancelled');
    const call = client.serverStream({ text: 'held', count: HOLD });
    call.on('error', () => undefined);
    const [first] = await once(call, 'data');
    assert.equal(first.text, 'held 0');
    const status = statusOf(call);
    call.cancel();
    assert.equal((await status).code, grpc.status.CANCELLED);
    assert.deepEqual(await cancelled, ['serverStream']);
  });

  test('many calls at once share the path and all succeed', async () => {
    const { client } = setup();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => unary(client, { text: `m${i}`, count: i })));
    assert.deepEqual(replies.map((r) => r.reply.count), Array.from({ length: 100 }, (_, i) => i + 1));
  });
}

describe('gRPC through the HTTP ingress, h2c (prior knowledge)', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let path;
  let client;

  before(async () => {
    path = await grpcPath(procs, tmp.path);
    client = echoClient(`127.0.0.1:${path.port}`, path.authority);
  });

  after(async () => {
    client?.close();
    await procs.stopAll();
    tmp.dispose();
  });

  grpcCases(() => ({ client, echo: path.echo }));
});

describe('gRPC through the HTTP ingress, TLS (h2 by ALPN)', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let path;
  let client;

  before(async () => {
    const tls = selfSigned(tmp.path);
    path = await grpcPath(procs, tmp.path, { relayArgs: ['--tls-cert', tls.cert, '--tls-key', tls.key], shareEnv: { NODE_EXTRA_CA_CERTS: tls.cert } });
    const credentials = grpc.credentials.createSsl(readFileSync(tls.cert));
    client = echoClient(`127.0.0.1:${path.port}`, path.authority, { credentials, options: { 'grpc.ssl_target_name_override': 'api.localhost' } });
  });

  after(async () => {
    client?.close();
    await procs.stopAll();
    tmp.dispose();
  });

  grpcCases(() => ({ client, echo: path.echo }));
});
