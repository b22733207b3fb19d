import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { buildApp, type RelayApp } from '@tether/relay';
import { CloseCode, createError, Defaults, ErrorCode, isTetherError, SUBPROTOCOL, type ErrorCodeString } from '@tether/shared';
import { RelayApi } from './relay-api.js';
import { listening } from '../test-support/testing.js';
import { canSkipMasking, connectRelaySession, webSocketFactory, type RelaySessionOptions } from './relay-session.js';

const rejection = (options: RelaySessionOptions): Promise<unknown> =>
  connectRelaySession(options).then(
    (relay) => {
      relay.close();
      return undefined;
    },
    (err: unknown) => err,
  );

describe('connectRelaySession against a real relay', () => {
  const adminToken = 'admin-token-for-session-tests';
  let relay: RelayApp;
  let url = '';
  let alice = '';

  before(async () => {
    relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false });
    await relay.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
    alice = (await new RelayApi(url, adminToken).createUser('alice')).token;
  });
  after(() => relay.app.close());

  test('opens a session that the caller can close cleanly', async () => {
    const session = await webSocketFactory({ relay: url, token: alice })('host', 'box');
    assert.ok(relay.router.hostFor('box'));
    // The relay says which node took the link, and the client says what it is.
    assert.equal(session.node, relay.nodeId);
    assert.match(relay.router.hostFor('box')!.client ?? '', /^tether\/\S+ node\/\d+\.\d+\.\d+ \w+-\w+$/);
    session.close();
    assert.equal(await session.closed, undefined);
    assert.equal(session.session.closed, true);
  });

  test('the factory connects to the relay it is given, else to its own', async () => {
    const factory = webSocketFactory({ relay: 'http://127.0.0.1:9', token: alice });
    const session = await factory('connect', undefined, url);
    session.close();
    assert.equal(await session.closed, undefined);
    const fallback = await factory('connect').then(() => undefined, (err: unknown) => err);
    assert.ok(isTetherError(fallback, ErrorCode.RELAY_UNREACHABLE));
  });

  const refusals: [what: string, options: () => RelaySessionOptions, code: ErrorCodeString][] = [
    ['a bad token', () => ({ relay: url, token: 'not-a-token', endpoint: 'connect' }), ErrorCode.UNAUTHORIZED],
    ['an invalid tunnel name', () => ({ relay: url, token: alice, endpoint: 'host', tunnel: 'Bad_Name' }), ErrorCode.INVALID_TUNNEL_NAME],
    // Refused before anything is sent: the relay serves its API at the root.
    ['a relay URL with a path', () => ({ relay: `${url}/elsewhere`, token: alice, endpoint: 'connect' }), ErrorCode.INVALID_ARGUMENT],
  ];
  for (const [what, options, code] of refusals) {
    test(`${what} → ${code}`, async () => {
      assert.ok(isTetherError(await rejection(options()), code));
    });
  }

  test('a tunnel already shared → TUNNEL_IN_USE', async () => {
    const first = await connectRelaySession({ relay: url, token: alice, endpoint: 'host', tunnel: 'taken' });
    assert.ok(isTetherError(await rejection({ relay: url, token: alice, endpoint: 'host', tunnel: 'taken' }), ErrorCode.TUNNEL_IN_USE));
    first.close();
  });

  test('the relay closing the link with a code ends the session with that code', async () => {
    const session = await connectRelaySession({ relay: url, token: alice, endpoint: 'host', tunnel: 'kicked' });
    const link = relay.router.hostFor('kicked');
    assert.ok(link);
    relay.router.closeLink(link, createError(ErrorCode.TIMEOUT, 'idle', CloseCode.IDLE_TIMEOUT));
    const err = await session.closed;
    assert.equal(err?.code, ErrorCode.TIMEOUT);
    assert.equal(err?.closeCode, CloseCode.IDLE_TIMEOUT);
  });

  test('a relay that is not listening → RELAY_UNREACHABLE', async () => {
    const server = net.createServer();
    const port = await listening(server);
    server.close();
    await once(server, 'close');
    assert.ok(isTetherError(await rejection({ relay: `http://127.0.0.1:${port}`, token: alice, endpoint: 'connect' }), ErrorCode.RELAY_UNREACHABLE));
  });
});

describe('connectRelaySession against misbehaving servers', () => {
  // The token picks the behaviour: `Authorization: Bearer <behaviour>`.
  const behaviourOf = (req: http.IncomingMessage): string => /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const seen: { url: string; authorization: string | undefined; protocol: string | undefined }[] = [];
  const closeReasons: string[] = [];
  const server = http.createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<html>oops</html>');
  });
  const held: net.Socket[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols, req) => (behaviourOf(req) === 'no-subprotocol' ? false : protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  server.on('upgrade', (req, socket, head) => {
    const behaviour = behaviourOf(req);
    if (behaviour === 'http-500') {
      socket.end('HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\noops!');
      return;
    }
    if (behaviour === 'page') {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<html></html>');
      return;
    }
    if (behaviour === 'hang') {
      held.push(socket as net.Socket);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, protocol: ws.protocol });
      ws.on('error', () => undefined);
      ws.on('close', (_code, reason) => closeReasons.push(reason.toString()));
      if (behaviour === 'close-1001') ws.close(CloseCode.GOING_AWAY);
      else if (behaviour === 'close-4000') ws.close(4000, 'bye');
      else if (behaviour === 'close-coded') ws.close(CloseCode.POLICY_VIOLATION, ErrorCode.TUNNEL_FORBIDDEN);
      else if (behaviour === 'garbage') ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      else if (behaviour === 'text') {
        ws.send('not a frame');
        setTimeout(() => ws.close(4000, 'done'), 20);
      }
      // 'silent': says nothing, answers nothing.
    });
  });
  let base = '';

  before(async () => {
    base = `http://127.0.0.1:${await listening(server)}`;
  });
  after(() => {
    for (const s of held) s.destroy();
    for (const ws of wss.clients) ws.terminate();
    server.close();
  });

  const failures: [behaviour: string, code: ErrorCodeString, message: (base: string) => string, extra?: Partial<RelaySessionOptions>][] = [
    [
      'no-subprotocol',
      ErrorCode.UNSUPPORTED_VERSION,
      (b) => `${b} does not speak ${SUBPROTOCOL}: it is not a Tether relay, or one of a version this client does not support; check the relay URL, or use a client of the relay's version`,
    ],
    [
      'http-500',
      ErrorCode.RELAY_REJECTED,
      (b) => `${b} answered GET /v1/connect with HTTP 500 Internal Server Error and no Tether error: it is not a Tether relay, or a proxy in front of the relay cannot reach it; check the relay URL and that the relay is running`,
    ],
    ['page', ErrorCode.RELAY_REJECTED, (b) => `${b} is not a Tether relay (it answered the WebSocket upgrade with HTTP 200 OK); check the relay URL`],
    ['hang', ErrorCode.RELAY_UNREACHABLE, (b) => `${b} did not answer within 0.1 s; check the relay URL, and that the relay is running`, { handshakeTimeoutMs: 100 }],
  ];
  for (const [behaviour, code, message, extra] of failures) {
    test(`handshake: ${behaviour} → ${code}`, async () => {
      const err = await rejection({ relay: base, token: behaviour, endpoint: 'connect', ...extra });
      assert.ok(isTetherError(err, code), String(err));
      assert.equal(err.message, message(base));
    });
  }

  const endings: [behaviour: string, code: ErrorCodeString, message: RegExp | ((base: string) => string), extra?: Partial<RelaySessionOptions>][] = [
    ['close-1001', ErrorCode.GOING_AWAY, () => 'relay went away'],
    // Accepted and closed before a word: a stranger, or a relay in trouble.
    [
      'close-4000',
      ErrorCode.CONNECTION_LOST,
      (b) => `${b} accepted the WebSocket and closed it at once (close code 4000, "bye"): it is not a Tether relay, or it is failing; check the relay URL and the relay's log`,
    ],
    ['close-coded', ErrorCode.TUNNEL_FORBIDDEN, () => 'the relay closed the connection (close code 1008)'],
    ['text', ErrorCode.CONNECTION_LOST, () => 'connection to relay lost (close code 4000, "done")'],
    ['silent', ErrorCode.CONNECTION_LOST, /^no traffic from relay for 50 ms$/, { pingIntervalMs: 10, idleTimeoutMs: 50 }],
  ];
  for (const [behaviour, code, message, extra] of endings) {
    test(`session: ${behaviour} → closed with ${code}`, async () => {
      const session = await connectRelaySession({ relay: base, token: behaviour, endpoint: 'connect', ...extra });
      const err = await session.closed;
      assert.equal(err?.code, code);
      if (typeof message === 'function') assert.equal(err?.message, message(base));
      else assert.match(err?.message ?? '', message);
    });
  }

  test('a malformed frame from the relay ends the WebSocket with the decoder\'s code', async () => {
    const before = closeReasons.length;
    const session = await connectRelaySession({ relay: base, token: 'garbage', endpoint: 'connect' });
    const err = await session.closed;
    assert.ok(err?.code.startsWith('TETHER_ERR_FRAME') || err?.code === ErrorCode.UNKNOWN_FRAME_TYPE, err?.code);
    while (closeReasons.length === before) await new Promise((r) => setTimeout(r, 5));
    assert.equal(closeReasons.at(-1), err?.code);
  });

  test('sends the token, the subprotocol and the tunnel', async () => {
    const session = await webSocketFactory({ relay: base, token: 'silent' })('host', 'my-box');
    const request = seen.at(-1);
    assert.equal(request?.url, '/v1/host?tunnel=my-box');
    assert.equal(request?.authorization, 'Bearer silent');
    assert.equal(request?.protocol, SUBPROTOCOL);
    session.close();
    assert.equal(await session.closed, undefined);
  });
});

describe('masking is skipped only where no intermediary can see the bytes', () => {
  for (const [url, skip] of [
    ['ws://127.0.0.1:8080', true],
    ['ws://127.9.9.9', true],
    ['ws://localhost:1', true],
    ['ws://[::1]:8080', true],
    ['wss://relay.example.com', true],
    ['ws://relay.example.com:8080', false],
    ['ws://10.0.0.5:8080', false],
    ['ws://128.0.0.1', false],
  ] as const) {
    test(`${url} → ${skip ? 'zero mask' : 'random mask'}`, () => {
      assert.equal(canSkipMasking(url), skip);
    });
  }
});

test('clients keep their receive windows within the per-stream limit the relay announces at the upgrade', async (t) => {
  const adminToken = 'admin-token-for-window-test';
  const relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false, limits: { maxBufferedBytesPerStream: 256 * 1024 } });
  t.after(() => relay.app.close());
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
  const token = (await new RelayApi(url, adminToken).createUser('dora')).token;
  const cut = await connectRelaySession({ relay: url, token, endpoint: 'connect' });
  // A client that asks for less than the limit keeps what it asked for.
  const small = await connectRelaySession({ relay: url, token, endpoint: 'connect', session: { initialWindow: 64 * 1024, maxWindow: 128 * 1024 } });
  t.after(() => {
    cut.close();
    small.close();
  });
  assert.ok(Defaults.initialWindow > 256 * 1024 && Defaults.maxWindow > 256 * 1024);
  assert.equal(cut.session.options.maxWindow, 256 * 1024);
  assert.equal(cut.session.options.initialWindow, 256 * 1024);
  assert.equal(small.session.options.maxWindow, 128 * 1024);
  assert.equal(small.session.options.initialWindow, 64 * 1024);
});

test('clients frame their data to the limit the relay announces at the upgrade', async (t) => {
  const adminToken = 'admin-token-for-frame-size-test';
  const relay = await buildApp({ databaseFile: ':memory:', adminToken, logger: false, limits: { maxFrameSize: 4096, maxMessageSize: 8192 } });
  t.after(() => relay.app.close());
  await relay.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(relay.app.server.address() as net.AddressInfo).port}`;
  const token = (await new RelayApi(url, adminToken).createUser('carol')).token;
  const host = await connectRelaySession({ relay: url, token, endpoint: 'host', tunnel: 'small' });
  const connector = await connectRelaySession({ relay: url, token, endpoint: 'connect' });
  t.after(() => {
    host.close();
    connector.close();
  });
  assert.equal(host.session.maxFrameSize, 4096);
  assert.equal(connector.session.maxFrameSize, 4096);

  let received = 0;
  const done = new Promise<void>((resolve) => {
    host.session.on('stream', (stream) => {
      stream.accept();
      stream.on('data', (chunk) => {
        received += chunk.length;
        stream.consume(chunk.length);
      });
      stream.on('end', () => resolve());
    });
  });
  const stream = connector.session.openStream('small');
  stream.write(Buffer.alloc(100_000, 7)); // far more than one frame: it must be split, not refused
  stream.end();
  await done;
  assert.equal(received, 100_000);
  assert.equal(connector.session.closed, false, 'the relay did not close the link for oversize frames');
});
