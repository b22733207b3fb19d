import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { buildApp, type RelayApp } from '@tether/relay';
import {
  CloseCode,
  createError,
  ErrorCode,
  isTetherError,
  WireCode,
  type ErrorCodeString,
  ResumableStream,
  type ByteStream,
  type MuxStream,
  type OpenRequest,
  type TetherError,
} from '@tether/shared';
import { Connector } from './connector.js';
import { HostAgent } from './host-agent.js';
import { RelayApi } from './relay-api.js';
import { webSocketFactory } from './relay-session.js';
import { acceptingHost, closedPort, listening, memoryRelay } from '../test-support/testing.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Plays a relay whose tunnel `echo` echoes; other names are refused with the wire code in `refusals`. */
const refusals: Record<string, number> = {
  unknown: WireCode.TUNNEL_UNKNOWN,
  forbidden: WireCode.TUNNEL_FORBIDDEN,
  offline: WireCode.TUNNEL_OFFLINE,
  refused: WireCode.TARGET_REFUSED,
};
const echo = acceptingHost((stream) => {
  stream.on('data', (c) => {
    stream.write(Buffer.from(c));
    stream.consume(c.length);
  });
  stream.on('end', () => stream.end());
});
function echoOrRefuse(stream: MuxStream, tunnel: string, request: OpenRequest): void {
  if (tunnel !== 'echo') return stream.reject(refusals[tunnel] ?? WireCode.TUNNEL_UNKNOWN, `refusing ${tunnel}`);
  echo(stream, tunnel, request);
}

/** Writes `data` through a stream with backpressure, ends, and returns the SHA-256 of the reply. */
async function exchange(stream: ByteStream, data: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const done = new Promise<string>((resolve, reject) => {
    stream.on('data', (c) => {
      hash.update(c);
      stream.consume(c.length);
    });
    stream.once('end', () => resolve(hash.digest('hex')));
    stream.once('close', (err) => {
      if (err) reject(err);
    });
  });
  for (let offset = 0; offset < data.length; offset += 64 * 1024) {
    if (!stream.write(data.subarray(offset, offset + 64 * 1024))) await once(stream, 'drain');
  }
  stream.end();
  return done;
}

/** Connects to a local port, sends `data`, half-closes, and returns the SHA-256 of the reply. */
async function tcpExchange(port: number, data: Buffer): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const hash = createHash('sha256');
  socket.on('data', (c: Buffer) => hash.update(c));
  socket.end(data);
  await once(socket, 'end');
  socket.destroy();
  return hash.digest('hex');
}

const openError = (connector: Connector, tunnel: string): Promise<unknown> =>
  connector.open(tunnel).then(
    () => undefined,
    (err: unknown) => err,
  );

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('Connector (in-memory relay)', () => {
  test('opens many streams over one session', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory);
    const data = randomBytes(300 * 1024);
    const streams = await Promise.all([connector.open('echo'), connector.open('echo'), connector.open('echo')]);
    assert.deepEqual(relay.calls, [['connect', undefined]]);
    assert.deepEqual(await Promise.all(streams.map((s) => exchange(s, data))), [sha256(data), sha256(data), sha256(data)]);
    assert.ok(connector.rttMs >= 0);
    connector.close();
  });

  test('paths() names each open stream\'s origin, relay and bytes; rtt() and the rtt event report the PINGs measured', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory);
    assert.deepEqual(connector.paths(), []);
    assert.deepEqual(connector.rtt(), { smoothedMs: 0, lastMs: 0, minMs: 0 });
    const samples: [string, number][] = [];
    connector.on('rtt', (url, ms) => samples.push([url, ms]));
    const stream = await connector.open('echo', 'SSH terminal');
    stream.on('data', (c: Buffer) => stream.consume(c.length));
    stream.write(randomBytes(5000));
    await until(() => stream.bytesReceived === 5000);
    const [path] = connector.paths();
    assert.equal(path.tunnel, 'echo');
    assert.equal(path.origin, 'SSH terminal');
    assert.equal(typeof path.relay, 'string');
    assert.equal(path.relay, connector.state()?.active);
    assert.deepEqual([path.bytesIn, path.bytesOut], [stream.bytesReceived, stream.bytesSent]);
    assert.ok(path.bytesOut >= 5000, JSON.stringify(path));
    (await connector.session()).session.ping();
    await until(() => samples.length === 1);
    assert.equal(samples[0][0], connector.state()?.active);
    const rtt = connector.rtt();
    assert.equal(rtt.lastMs, samples[0][1]);
    assert.equal(rtt.minMs, samples[0][1]);
    assert.equal(rtt.smoothedMs, samples[0][1], 'the first sample is the smoothed RTT');
    connector.close();
  });

  const refused: [tunnel: string, code: ErrorCodeString][] = [
    ['unknown', ErrorCode.TUNNEL_UNKNOWN],
    ['forbidden', ErrorCode.TUNNEL_FORBIDDEN],
    ['offline', ErrorCode.TUNNEL_OFFLINE],
    ['refused', ErrorCode.TARGET_REFUSED],
  ];
  for (const [tunnel, code] of refused) {
    test(`open() rejects with ${code} when the relay refuses`, async () => {
      const connector = new Connector(memoryRelay(echoOrRefuse).factory);
      assert.ok(isTetherError(await openError(connector, tunnel), code));
      connector.close();
    });
  }

  test('refuses an invalid tunnel name without connecting', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory);
    assert.ok(isTetherError(await openError(connector, '-bad-'), ErrorCode.INVALID_TUNNEL_NAME));
    await assert.rejects(connector.listen('UPPER', '127.0.0.1', 0), (err) => isTetherError(err, ErrorCode.INVALID_TUNNEL_NAME));
    assert.equal(relay.calls.length, 0);
  });

  test('after the session is lost the pool reconnects by itself; new streams use the new session', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { pool: { backoff: { baseMs: 10, maxMs: 20 } } });
    await connector.open('echo');
    const first = await connector.session();
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'relay restarted'));
    assert.equal((await first.closed)?.code, ErrorCode.CONNECTION_LOST);
    await until(() => relay.calls.length === 2);
    const data = randomBytes(1000);
    assert.equal(await exchange(await connector.open('echo'), data), sha256(data));
    assert.notEqual(await connector.session(), first);
    connector.close();
  });

  test('streams on a session the relay is draining move to the new session and keep working', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { pool: { backoff: { baseMs: 10, maxMs: 20 } } });
    const resumed: number[] = [];
    connector.on('streamResumed', (_tunnel, attempt) => resumed.push(attempt));
    const old = await connector.open('echo');
    const first = await connector.session();
    relay.peers[0].goAway();
    await until(() => first.session.remoteGoAway !== undefined && resumed.length === 1);
    const fresh = await connector.open('echo');
    assert.equal(relay.calls.length, 2);
    assert.notEqual(await connector.session(), first);
    const data = randomBytes(300_000);
    assert.equal(await exchange(old, data), sha256(data), 'the old stream carries on through the new session');
    assert.equal(await exchange(fresh, data), sha256(data));
    assert.equal(first.session.streamCount, 0, 'nothing is left on the draining session');
    connector.close();
  });

  test('a stream whose session dies resumes on the next session with no byte lost', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { pool: { backoff: { baseMs: 10, maxMs: 20 } } });
    const stream = await connector.open('echo');
    const data = randomBytes(4 * 1024 * 1024);
    const result = exchange(stream, data);
    await until(() => stream.bytesReceived > 1024 * 1024);
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'relay died'));
    assert.equal(await result, sha256(data));
    assert.equal((stream as ResumableStream).resumes, 1);
    connector.close();
  });

  test('a detached stream that every relay now refuses for good (token revoked) ends at once with that code, not at the resume timeout', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { pool: { backoff: { baseMs: 10, maxMs: 20 } } });
    const stream = (await connector.open('echo')) as ResumableStream;
    // Every reconnect from now on is refused as a revoked token is.
    for (let i = 0; i < 50; i++) relay.failures.push(createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token'));
    const started = Date.now();
    relay.peers[0].destroy(createError(ErrorCode.UNAUTHORIZED, 'the relay closed the connection (close code 1008)'));
    await until(() => stream.state === 'closed');
    assert.equal(stream.error?.code, ErrorCode.UNAUTHORIZED);
    assert.match(stream.error.message, /refused the token/);
    assert.ok(Date.now() - started < 2000, `closed after ${Date.now() - started} ms`);
    assert.equal(stream.resumes, 0);
    connector.close();
  });

  test('a detached stream keeps waiting while a relay is only unreachable (retryable), and resumes when it returns', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { pool: { backoff: { baseMs: 10, maxMs: 20 } } });
    const stream = (await connector.open('echo')) as ResumableStream;
    for (let i = 0; i < 5; i++) relay.failures.push(createError(ErrorCode.RELAY_UNREACHABLE, 'down'));
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'relay died'));
    await until(() => stream.resumes === 1);
    assert.notEqual(stream.state, 'closed');
    assert.ok(relay.calls.length >= 7, `${relay.calls.length} attempts`);
    connector.close();
  });

  test('plain streams (resumable: false) end with their session', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory, { resumable: false });
    const stream = await connector.open('echo');
    relay.peers[0].destroy(createError(ErrorCode.CONNECTION_LOST, 'relay died'));
    await until(() => stream.state === 'closed');
    assert.equal(stream.error?.code, ErrorCode.CONNECTION_LOST);
    connector.close();
  });

  test('a failed connection is reported and the next open tries again', async () => {
    const relay = memoryRelay(echoOrRefuse);
    relay.failures.push(createError(ErrorCode.RELAY_UNREACHABLE, 'down'));
    const connector = new Connector(relay.factory);
    assert.ok(isTetherError(await openError(connector, 'echo'), ErrorCode.RELAY_UNREACHABLE));
    await connector.open('echo');
    assert.equal(relay.calls.length, 2);
    connector.close();
  });

  test('concurrent opens share one connection attempt', async () => {
    const relay = memoryRelay(echoOrRefuse);
    const connector = new Connector(relay.factory);
    await Promise.all([connector.session(), connector.session(), connector.open('echo')]);
    assert.equal(relay.calls.length, 1);
    connector.close();
  });

  test('a closed connector refuses with CANCELLED', async () => {
    const connector = new Connector(memoryRelay(echoOrRefuse).factory);
    await connector.open('echo');
    connector.close();
    assert.ok(isTetherError(await openError(connector, 'echo'), ErrorCode.CANCELLED));
  });

  test('pipe() joins a stream to separate input and output', async () => {
    const connector = new Connector(memoryRelay(echoOrRefuse).factory);
    const input = new PassThrough();
    const output = new PassThrough();
    const got = createHash('sha256');
    output.on('data', (c: Buffer) => got.update(c));
    const data = randomBytes(200 * 1024);
    const piping = connector.pipe('echo', input, output);
    input.end(data);
    assert.equal(await piping, undefined);
    assert.equal(got.digest('hex'), sha256(data));
    connector.close();
  });

  test('listen() gives every local connection its own stream', async () => {
    const connector = new Connector(memoryRelay(echoOrRefuse).factory);
    const events: string[] = [];
    connector.on('connection', () => events.push('connection'));
    connector.on('connectionClosed', (_remote, err) => events.push(`closed ${err?.code ?? 'clean'}`));
    const server = await connector.listen('echo', '127.0.0.1', 0);
    const port = (server.address() as net.AddressInfo).port;
    const a = randomBytes(100 * 1024);
    const b = randomBytes(70 * 1024);
    assert.deepEqual(await Promise.all([tcpExchange(port, a), tcpExchange(port, b)]), [sha256(a), sha256(b)]);
    await until(() => events.length === 4);
    assert.deepEqual(events.sort(), ['closed clean', 'closed clean', 'connection', 'connection']);
    connector.close();
  });

  test('listen(): a refused stream closes the local connection and is reported', async () => {
    const connector = new Connector(memoryRelay(echoOrRefuse).factory);
    const reported = once(connector, 'connectionError') as Promise<[string, TetherError]>;
    const server = await connector.listen('refused', '127.0.0.1', 0);
    const socket = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    socket.on('error', () => undefined);
    socket.resume();
    await once(socket, 'close');
    const [, err] = await reported;
    assert.equal(err.code, ErrorCode.TARGET_REFUSED);
    connector.close();
  });

  test('listen() on a busy port → ADDRESS_IN_USE with a sentence', async () => {
    const busy = net.createServer();
    const port = await listening(busy);
    const connector = new Connector(memoryRelay(echoOrRefuse).factory);
    await assert.rejects(connector.listen('echo', '127.0.0.1', port), (err) => isTetherError(err, ErrorCode.ADDRESS_IN_USE) && /is already in use: stop the other process, or pick another port$/.test(err.message));
    connector.close();
    busy.close();
  });
});

describe('HostAgent and Connector over a real relay', () => {
  const adminToken = 'admin-token-for-connector-tests';
  let relay: RelayApp;
  let url = '';
  const tokens: Record<string, string> = {};
  const echo = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  let echoPort = 0;
  const agents: HostAgent[] = [];
  const connectors: Connector[] = [];

  const host = async (user: string, tunnel: string, port = echoPort): Promise<HostAgent> => {
    const agent = new HostAgent({ tunnel, target: { host: '127.0.0.1', port }, factory: webSocketFactory({ relay: url, token: tokens[user] }) });
    agents.push(agent);
    await agent.start();
    return agent;
  };
  const connector = (user: string): Connector => {
    const c = new Connector(webSocketFactory({ relay: url, token: tokens[user] }));
    connectors.push(c);
    return c;
  };

  before(async () => {
    echoPort = await listening(echo);
    relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false });
    await relay.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
    const admin = new RelayApi(url, adminToken);
    for (const name of ['alice', 'bob']) tokens[name] = (await admin.createUser(name)).token;
    await host('alice', 'alice-echo');
    await host('alice', 'alice-closed', await closedPort());
    await (await host('alice', 'alice-gone')).stop();
  });
  after(async () => {
    for (const c of connectors) c.close();
    await Promise.all(agents.map((a) => a.stop(0)));
    await relay.app.close();
    echo.close();
  });

  test('streams carry bytes both ways through the relay', async () => {
    const c = connector('alice');
    const data = [randomBytes(2 * 1024 * 1024), randomBytes(512 * 1024), randomBytes(1)];
    const streams = await Promise.all(data.map(() => c.open('alice-echo')));
    assert.deepEqual(await Promise.all(streams.map((s, i) => exchange(s, data[i]))), data.map(sha256));
  });

  const refused: [user: string, tunnel: string, code: ErrorCodeString][] = [
    ['alice', 'nosuch', ErrorCode.TUNNEL_UNKNOWN],
    ['bob', 'alice-echo', ErrorCode.TUNNEL_UNKNOWN],
    ['alice', 'alice-closed', ErrorCode.TARGET_REFUSED],
    ['alice', 'alice-gone', ErrorCode.TUNNEL_OFFLINE],
  ];
  for (const [user, tunnel, code] of refused) {
    test(`${user} opening ${tunnel} → ${code}`, async () => {
      assert.ok(isTetherError(await openError(connector(user), tunnel), code));
    });
  }

  const hostRefused: [user: string, tunnel: string, code: ErrorCodeString][] = [
    ['alice', 'alice-echo', ErrorCode.TUNNEL_IN_USE],
    ['bob', 'alice-gone', ErrorCode.TUNNEL_FORBIDDEN],
  ];
  for (const [user, tunnel, code] of hostRefused) {
    test(`${user} sharing ${tunnel} → ${code}`, async () => {
      await assert.rejects(host(user, tunnel), (err) => isTetherError(err, code));
    });
  }

  test('listen() carries local connections through the relay', async () => {
    const server = await connector('alice').listen('alice-echo', '127.0.0.1', 0);
    const data = randomBytes(256 * 1024);
    assert.equal(await tcpExchange((server.address() as net.AddressInfo).port, data), sha256(data));
  });

  test('the host agent reconnects after the relay drops its link, and reports the relay\'s code', async () => {
    const agent = await host('alice', 'alice-drop');
    const disconnected = once(agent, 'disconnected') as Promise<[TetherError, number | undefined]>;
    const ready = once(agent, 'ready');
    const link = relay.router.hostFor('alice-drop');
    assert.ok(link);
    relay.router.closeLink(link, createError(ErrorCode.BUFFER_LIMIT, 'too much queued', CloseCode.BUFFER_LIMIT));
    const [err, delay] = await disconnected;
    assert.equal(err.code, ErrorCode.BUFFER_LIMIT);
    assert.equal(typeof delay, 'number');
    await ready;
    const data = randomBytes(1000);
    assert.equal(await exchange(await connector('alice').open('alice-drop'), data), sha256(data));
  });

  test('stop() sends GOAWAY: no new streams, the open one finishes', async () => {
    const agent = await host('alice', 'alice-leaving');
    const c = connector('alice');
    const open = await c.open('alice-leaving');
    const stopping = agent.stop(60_000);
    await until(() => relay.router.hostFor('alice-leaving') === undefined);
    assert.ok(isTetherError(await openError(c, 'alice-leaving'), ErrorCode.TUNNEL_OFFLINE));
    const data = randomBytes(64 * 1024);
    assert.equal(await exchange(open, data), sha256(data));
    await stopping;
  });
});
