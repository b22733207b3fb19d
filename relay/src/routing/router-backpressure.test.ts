import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, encodeData, encodeOpen, encodeOpenOk, encodePing, ErrorCode, FrameType, WireCode } from '@tether/shared';
import { ALICE, attachedPair, FakeTransport, settle } from '../test-support/router-testing.js';

const alice = ALICE;
const setup = attachedPair;

/** Sends an OPEN and waits for the relay to resolve it. */
async function open(connector: FakeTransport, host: FakeTransport): Promise<void> {
  connector.receive(encodeOpen(1, 65_536, 'web'));
  await settle();
  host.receive(encodeOpenOk(2, 65_536));
}

test('a connector feeding a host that cannot keep up is paused until the host drains', async (t) => {
  const { host, connector } = await setup(t, { maxBufferedBytesPerConnection: 1000 });
  await open(connector, host);
  host.flush();
  assert.deepEqual(connector.frames.map((f) => f.type), [FrameType.OPEN_OK]);

  connector.receive(encodeData(1, Buffer.alloc(600)));
  assert.equal(connector.paused, false, 'under the limit');
  connector.receive(encodeData(1, Buffer.alloc(600)));
  assert.equal(connector.paused, true, 'over the limit: stop reading from the source');
  assert.equal(host.frames.filter((f) => f.type === FrameType.DATA).length, 2, 'nothing is dropped');

  host.flush();
  assert.equal(connector.paused, false, 'resumed once the host drained');
});

test('a paused source is resumed when the congested link goes away', async (t) => {
  const { host, connector } = await setup(t, { maxBufferedBytesPerConnection: 1000 });
  await open(connector, host);
  connector.receive(encodeData(1, Buffer.alloc(1200)));
  assert.equal(connector.paused, true);
  host.drop(1006);
  assert.equal(connector.paused, false);
  const reset = connector.frames.find((f) => f.type === FrameType.RESET);
  assert.equal(reset?.type === FrameType.RESET && reset.code, WireCode.PEER_GONE);
});

test('a second host attached for the same tunnel is closed with TUNNEL_IN_USE', async (t) => {
  const { router, host } = await setup(t, {});
  const late = new FakeTransport();
  router.attach(late, 'host', alice, 'web');
  await settle();
  assert.deepEqual(late.closedWith, [CloseCode.POLICY_VIOLATION, ErrorCode.TUNNEL_IN_USE]);
  assert.equal(host.closedWith, undefined);
  assert.equal(router.stats().hosts, 1);
});

test('a peer that sends PINGs or bad DATA but never reads the answers is closed with BUFFER_LIMIT', async (t) => {
  for (const flood of [
    () => encodePing(Buffer.alloc(8)),
    () => encodeData(99, Buffer.alloc(16)),
  ]) {
    const { connector, host } = await setup(t, { maxBufferedBytesPerConnection: 1000 });
    // The connector never lets its writes complete (it does not read).
    for (let i = 0; i < 200 && !connector.closedWith; i++) connector.receive(flood());
    assert.deepEqual(connector.closedWith, [CloseCode.BUFFER_LIMIT, ErrorCode.BUFFER_LIMIT]);
    assert.equal(host.closedWith, undefined, 'nobody else is affected');
  }
});
