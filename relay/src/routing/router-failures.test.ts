import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, encodeData, encodeOpen, encodeOpenOk, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { createTestRelay, HANG_GUARD, hostAndConnector, openLink, openStream, type FrameClient } from '../test-support/testing.js';

const limits = { maxFrameSize: 1024, maxMessageSize: 4096 };

interface BadInput {
  name: string;
  /** Sends the offending message on a connector whose stream 1 is open. */
  send: (link: FrameClient) => void;
  closeCode: number;
  /** The close reason (the error code); undefined when ws itself ends the link. */
  reason: string | undefined;
}

const header = (type: number, flags: number, streamId: number, length: number): Buffer => {
  const buf = Buffer.alloc(10);
  buf[0] = type;
  buf[1] = flags;
  buf.writeUInt32BE(streamId, 2);
  buf.writeUInt32BE(length, 6);
  return buf;
};

const badInputs: BadInput[] = [
  { name: 'unknown frame type', send: (l) => l.send(header(0x42, 0, 1, 0)), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'garbage text bytes', send: (l) => l.send(Buffer.from('GET / HTTP/1.1\r\n\r\n')), closeCode: CloseCode.MESSAGE_TOO_BIG, reason: ErrorCode.FRAME_TOO_LARGE },
  { name: 'truncated payload', send: (l) => l.send(encodeData(1, Buffer.alloc(100)).subarray(0, 50)), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'truncated header', send: (l) => l.send(encodeData(1, Buffer.alloc(4)).subarray(0, 7)), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'empty message', send: (l) => l.send(Buffer.alloc(0)), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.FRAME_TRUNCATED },
  { name: 'unknown DATA flag', send: (l) => l.send(Buffer.concat([header(FrameType.DATA, 0x80, 1, 1), Buffer.from('x')])), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.FRAME_INVALID },
  { name: 'text message', send: (l) => l.ws.send('hello relay'), closeCode: CloseCode.UNSUPPORTED_DATA, reason: ErrorCode.PROTOCOL_ERROR },
  { name: 'frame above maxFrameSize', send: (l) => l.send(encodeData(1, Buffer.alloc(1025))), closeCode: CloseCode.MESSAGE_TOO_BIG, reason: ErrorCode.FRAME_TOO_LARGE },
  { name: 'message above maxMessageSize', send: (l) => l.send(Buffer.alloc(4097)), closeCode: CloseCode.MESSAGE_TOO_BIG, reason: undefined },
  { name: 'OPEN with an even id', send: (l) => l.send(encodeOpen(4, 4096, 'web')), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.PROTOCOL_ERROR },
  { name: 'OPEN reusing an id', send: (l) => l.send(encodeOpen(1, 4096, 'web')), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.PROTOCOL_ERROR },
  { name: 'OPEN_OK from a connector', send: (l) => l.send(encodeOpenOk(1, 4096)), closeCode: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.PROTOCOL_ERROR },
];

test('bad input closes only the offending link, with a close code and the error code as reason', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, limits);
  await relay.listen();
  const healthy = await hostAndConnector(relay);
  const healthyId = await openStream(healthy, 1);
  let nextConnectorId = 3;

  for (const bad of badInputs) {
    const offender = await openLink(relay, '/v1/connect', healthy.token);
    const offenderHostId = await openStream({ host: healthy.host, connector: offender }, 1);
    bad.send(offender);
    const closed = await offender.closed;
    assert.equal(closed.code, bad.closeCode, bad.name);
    if (bad.reason !== undefined) assert.equal(closed.reason, bad.reason, bad.name);

    // The host learns that the offender's stream is gone; the healthy stream keeps working.
    assert.equal((await healthy.host.nextOf(FrameType.RESET, offenderHostId)).code, WireCode.PEER_GONE, bad.name);
    healthy.connector.send(encodeData(1, Buffer.from(bad.name)));
    assert.equal((await healthy.host.nextOf(FrameType.DATA, healthyId)).payload.toString(), bad.name);
    healthy.host.send(encodeData(healthyId, Buffer.from('ok')));
    assert.equal((await healthy.connector.nextOf(FrameType.DATA, 1)).payload.toString(), 'ok');
    // New streams can still be opened on the healthy links.
    await openStream(healthy, nextConnectorId);
    nextConnectorId += 2;
  }
  assert.equal(relay.router.stats().connectors, 1);
  assert.equal(relay.router.stats().hosts, 1);
});

test('a host sending bad input loses its link; its connectors see PEER_GONE and the tunnel goes offline', HANG_GUARD, async (t) => {
  const relay = await createTestRelay(t, limits);
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const hostId = await openStream(pair, 1);
  pair.host.send(encodeOpenOk(hostId, 4096));
  const closed = await pair.host.closed;
  assert.deepEqual(closed, { code: CloseCode.PROTOCOL_ERROR, reason: ErrorCode.PROTOCOL_ERROR });
  assert.equal((await pair.connector.nextOf(FrameType.RESET, 1)).code, WireCode.PEER_GONE);
  pair.connector.send(encodeOpen(3, 4096, 'web'));
  assert.equal((await pair.connector.nextOf(FrameType.OPEN_ERR, 3)).code, WireCode.TUNNEL_OFFLINE);
});
