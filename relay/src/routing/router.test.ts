import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeAck,
  encodeData,
  encodeDatagram,
  encodeOpen,
  encodeOpenErr,
  encodeOpenOk,
  encodePing,
  encodePong,
  encodeReset,
  encodeWindow,
  ErrorCode,
  FrameType,
  WireCode,
} from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay, createUser, HANG_GUARD, hostAndConnector, openLink, openStream } from '../test-support/testing.js';

test('OPEN is refused with the code of what is wrong, and the link stays usable', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const bob = await createUser(relay, 'bob');
  await openLink(relay, '/v1/host?tunnel=db', bob);
  await relay.store.claimTunnel('cold', (await relay.store.findUserByName('alice'))!.id);
  const connector = await openLink(relay, '/v1/connect', alice);

  const cases: [string, string, number][] = [
    ['unknown tunnel', 'nope', WireCode.TUNNEL_UNKNOWN],
    ["another user's online tunnel (as unknown: its existence is not told)", 'db', WireCode.TUNNEL_UNKNOWN],
    ['own tunnel with no host', 'cold', WireCode.TUNNEL_OFFLINE],
  ];
  let id = 1;
  for (const [name, tunnel, code] of cases) {
    connector.send(encodeOpen(id, 65_536, tunnel));
    const err = await connector.nextOf(FrameType.OPEN_ERR, id);
    assert.equal(err.code, code, name);
    id += 2;
  }
  await connector.sync();
  assert.equal(relay.router.stats().streams, 0);
});

test('OPEN reaches the host under a new even id and OPEN_OK comes back under the connector id', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { maxBufferedBytesPerStream: 1 << 20 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const metadata = Buffer.from('{"target":"ssh"}');
  // Two OPENs batched in one message; the second asks for more than the relay lets a stream buffer.
  pair.connector.send(encodeOpen(1, 4096, 'web', metadata), encodeOpen(3, 1 << 24, 'web'));
  const first = await pair.host.nextOf(FrameType.OPEN);
  const second = await pair.host.nextOf(FrameType.OPEN);
  assert.deepEqual([first.streamId, first.window, first.tunnel, first.metadata.toString()], [2, 4096, 'web', metadata.toString()]);
  assert.deepEqual([second.streamId, second.window], [4, 1 << 20]);

  pair.host.send(encodeOpenOk(4, 1 << 24), encodeOpenOk(2, 8192));
  const ok3 = await pair.connector.nextOf(FrameType.OPEN_OK);
  const ok1 = await pair.connector.nextOf(FrameType.OPEN_OK);
  assert.deepEqual([ok3.streamId, ok3.window], [3, 1 << 20]);
  assert.deepEqual([ok1.streamId, ok1.window], [1, 8192]);
  assert.equal(relay.router.stats().streams, 2);

  // A second connector's streams get ids of their own on the host.
  const other = await openLink(relay, '/v1/connect', pair.token);
  other.send(encodeOpen(1, 4096, 'web'));
  assert.equal((await pair.host.nextOf(FrameType.OPEN)).streamId, 6);
});

test('DATA, WINDOW and RESET are forwarded with ids rewritten and payloads unchanged', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  const up = Buffer.from('SSH-2.0-OpenSSH_9.2\r\n');
  const down = Buffer.from([0, 1, 2, 253, 254, 255]);

  pair.connector.send(encodeData(1, up), encodeWindow(1, 1000));
  const data = await pair.host.nextOf(FrameType.DATA);
  assert.deepEqual([data.streamId, data.fin, data.payload], [hostId, false, up]);
  const window = await pair.host.nextOf(FrameType.WINDOW);
  assert.deepEqual([window.streamId, window.increment], [hostId, 1000]);

  pair.host.send(encodeData(hostId, down, true));
  const back = await pair.connector.nextOf(FrameType.DATA);
  assert.deepEqual([back.streamId, back.fin, back.payload], [1, true, down]);

  pair.host.send(encodeReset(hostId, WireCode.CANCELLED, 'bye'));
  const reset = await pair.connector.nextOf(FrameType.RESET);
  assert.deepEqual([reset.streamId, reset.code, reset.message], [1, WireCode.CANCELLED, 'bye']);
  await pair.host.sync();
  assert.equal(relay.router.stats().streams, 0);
  assert.ok(relay.router.stats().bytesIn > up.length + down.length);
});

test('a host refusing an OPEN reaches the connector as OPEN_ERR with its code', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 4096, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenErr(open.streamId, WireCode.TARGET_REFUSED, 'connect ECONNREFUSED 127.0.0.1:22'));
  const err = await pair.connector.nextOf(FrameType.OPEN_ERR, 1);
  assert.deepEqual([err.code, err.message], [WireCode.TARGET_REFUSED, 'connect ECONNREFUSED 127.0.0.1:22']);
  await pair.host.sync();
  assert.equal(relay.router.stats().streams, 0);
  // A host cannot open streams towards connectors.
  pair.host.send(encodeOpen(1, 4096, 'web'));
  assert.equal((await pair.host.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.PROTOCOL_ERROR);
});

test('sending past the granted credit resets the stream on both sides with FLOW_CONTROL', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  // The connector grants the host 100 bytes; the host grants the connector 200.
  const hostId = await openStream(pair, 1, 'web', 100, 200);
  pair.connector.send(encodeData(1, Buffer.alloc(150)));
  assert.equal((await pair.host.nextOf(FrameType.DATA, hostId)).payload.length, 150);
  pair.connector.send(encodeData(1, Buffer.alloc(51)));
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 1)).code, WireCode.FLOW_CONTROL);
  assert.equal((await pair.host.nextOf(FrameType.RESET, hostId)).code, WireCode.FLOW_CONTROL);
  assert.equal(relay.router.stats().streams, 0);

  // The other direction, after a WINDOW tops the credit up: 100 + 50 granted, 151 sent.
  const hostId3 = await openStream(pair, 3, 'web', 100, 200);
  pair.connector.send(encodeWindow(3, 50));
  await pair.host.nextOf(FrameType.WINDOW, hostId3);
  pair.host.send(encodeData(hostId3, Buffer.alloc(150)));
  await pair.connector.nextOf(FrameType.DATA, 3);
  pair.host.send(encodeData(hostId3, Buffer.alloc(1)));
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 3)).code, WireCode.FLOW_CONTROL);
  assert.equal((await pair.host.nextOf(FrameType.RESET, hostId3)).code, WireCode.FLOW_CONTROL);
});

test('a WINDOW that would let a stream buffer more than maxBufferedBytesPerStream resets it with BUFFER_LIMIT', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { maxBufferedBytesPerStream: 65_536 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1, 'web', 60_000, 1000);
  pair.connector.send(encodeWindow(1, 5536));
  assert.equal((await pair.host.nextOf(FrameType.WINDOW, hostId)).increment, 5536);
  pair.connector.send(encodeWindow(1, 1));
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 1)).code, WireCode.BUFFER_LIMIT);
  assert.equal((await pair.host.nextOf(FrameType.RESET, hostId)).code, WireCode.BUFFER_LIMIT);
  assert.equal(relay.router.stats().streams, 0);
});

test('DATA on an unknown stream gets RESET UNKNOWN_STREAM and the link stays open', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeData(41, Buffer.from('hi')));
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 41)).code, WireCode.UNKNOWN_STREAM);
  // Late WINDOW and RESET frames for finished streams are normal and ignored.
  pair.host.send(encodeWindow(8, 10), encodeReset(8, WireCode.CANCELLED, ''), encodeDatagram(3, Buffer.from('udp')));
  await pair.host.sync();
  assert.deepEqual(pair.host.pending(), []);
  await openStream(pair, 1);
});

test('DATA before OPEN_OK or after FIN resets the stream with PROTOCOL_ERROR', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 4096, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.connector.send(encodeData(1, Buffer.from('early')));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.PROTOCOL_ERROR);
  assert.equal((await pair.host.nextOf(FrameType.RESET, open.streamId)).code, WireCode.PROTOCOL_ERROR);

  const hostId = await openStream(pair, 3);
  pair.connector.send(encodeData(3, Buffer.from('last'), true));
  assert.equal((await pair.host.nextOf(FrameType.DATA, hostId)).fin, true);
  pair.connector.send(encodeData(3, Buffer.from('more')));
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 3)).code, WireCode.PROTOCOL_ERROR);
  assert.equal((await pair.host.nextOf(FrameType.RESET, hostId)).code, WireCode.PROTOCOL_ERROR);
});

test('a stream is removed once both sides sent FIN', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  pair.connector.send(encodeData(1, Buffer.alloc(0), true));
  await pair.host.nextOf(FrameType.DATA, hostId);
  assert.equal(relay.router.stats().streams, 1, 'half-closed streams stay routed');
  pair.host.send(encodeData(hostId, Buffer.from('reply'), false));
  assert.equal((await pair.connector.nextOf(FrameType.DATA, 1)).payload.toString(), 'reply');
  pair.host.send(encodeData(hostId, Buffer.alloc(0), true));
  assert.equal((await pair.connector.nextOf(FrameType.DATA, 1)).fin, true);
  await pair.host.sync();
  assert.equal(relay.router.stats().streams, 0);
});

test('the stream limit applies per connector link and per host link', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { maxStreamsPerConnection: 2 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 4096, 'web'), encodeOpen(3, 4096, 'web'), encodeOpen(5, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 5)).code, WireCode.STREAM_LIMIT);
  assert.equal(relay.router.stats().streams, 2);
  // The host link is full too, so another connector is refused as well.
  const other = await openLink(relay, '/v1/connect', pair.token);
  other.send(encodeOpen(1, 4096, 'web'));
  assert.equal((await other.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.STREAM_LIMIT);
});

test('a host that does not answer OPEN within openTimeoutMs: OPEN_ERR TIMEOUT, and its late OPEN_OK is dropped', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, { openTimeoutMs: 50 });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  pair.connector.send(encodeOpen(1, 4096, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 1)).code, WireCode.TIMEOUT);
  assert.equal((await pair.host.nextOf(FrameType.RESET, open.streamId)).code, WireCode.TIMEOUT);
  assert.equal(relay.router.stats().streams, 0);
  pair.host.send(encodeOpenOk(open.streamId, 4096));
  await pair.host.sync();
  await pair.connector.sync();
  assert.deepEqual(pair.connector.pending(), []);
});

test('PING is answered with PONG carrying the same bytes; PONG and DATAGRAM are accepted', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const data = Buffer.from('12345678');
  pair.connector.send(encodePing(data));
  const pong = await pair.connector.nextOf(FrameType.PONG);
  assert.deepEqual(pong.data, data);
  pair.host.send(encodePong(data), encodeDatagram(1, Buffer.from('x')));
  await pair.host.sync();
  assert.equal(pair.host.ws.readyState, pair.host.ws.OPEN);
});

test("a deleted user's host never receives streams of the tunnel name's next owner", HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const alice = await createUser(relay, 'alice');
  const oldHost = await openLink(relay, '/v1/host?tunnel=web', alice);
  const deleted = await relay.app.inject({ method: 'DELETE', url: '/v1/users/alice', headers: bearer(ADMIN_TOKEN) });
  assert.equal(deleted.statusCode, 204);

  // Deleting alice closed her host at once, so bob can take the free name for his own host.
  assert.deepEqual(await oldHost.closed, { code: 1008, reason: ErrorCode.UNAUTHORIZED });
  const bob = await createUser(relay, 'bob');
  const newHost = await openLink(relay, '/v1/host?tunnel=web', bob);
  const connector = await openLink(relay, '/v1/connect', bob);
  connector.send(encodeOpen(1, 4096, 'web'));
  const open = await newHost.nextOf(FrameType.OPEN);
  assert.equal(open.tunnel, 'web');
  assert.deepEqual(oldHost.pending(), [], 'the old host saw no OPEN');
});

test('ACK is forwarded both ways unread and uses no credit; before the open it resets the stream', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  // Tiny windows: ACKs must pass even when no credit is left.
  const hostId = await openStream(pair, 1, 'web', 10, 10);
  pair.connector.send(encodeData(1, Buffer.alloc(10)), encodeAck(1, 2 ** 40 + 7, true));
  assert.equal((await pair.host.nextOf(FrameType.DATA, hostId)).payload.length, 10);
  const up = await pair.host.nextOf(FrameType.ACK, hostId);
  assert.deepEqual([up.offset, up.fin], [2 ** 40 + 7, true]);
  pair.host.send(encodeAck(hostId, 10));
  const down = await pair.connector.nextOf(FrameType.ACK, 1);
  assert.deepEqual([down.offset, down.fin], [10, false]);

  pair.connector.send(encodeOpen(3, 4096, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.connector.send(encodeAck(3, 0));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.PROTOCOL_ERROR);
  assert.equal((await pair.host.nextOf(FrameType.RESET, open.streamId)).code, WireCode.PROTOCOL_ERROR);
});
