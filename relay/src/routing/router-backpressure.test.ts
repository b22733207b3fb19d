import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, encodeData, encodeOpen, encodeOpenOk, encodePing, encodeReset, encodeWindow, ErrorCode, FrameType, WireCode, type Frame } from '@tether/shared';
import { ALICE, attachedPair, FakeTransport, settle } from '../test-support/router-testing.js';

const alice = ALICE;
const KiB = 1024;
const LIMIT = 64 * KiB;

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);

/** Opens connector stream `id` to `tunnel` and has `host` accept it with `window`; returns the host's id. */
async function open(connector: FakeTransport, host: FakeTransport, id: number, tunnel = 'web', window = 64 * KiB): Promise<number> {
  connector.receive(encodeOpen(id, 64 * KiB, tunnel));
  await settle();
  const hostId = framesOf(host, FrameType.OPEN).at(-1)!.streamId;
  host.receive(encodeOpenOk(hostId, window));
  await settle();
  return hostId;
}

test('a host that does not read stalls only the streams sending to it: its grants are held back, the connector is never paused', async (t) => {
  const { router, ports, host, connector } = await attachedPair(t, { maxBufferedBytesPerConnection: LIMIT });
  await ports.store.claimTunnel('db', alice.id);
  const other = new FakeTransport();
  router.attach(other, 'host', alice, 'db');
  await settle();
  const webId = await open(connector, host, 1, 'web', 64 * KiB);
  await open(connector, other, 3, 'db', 64 * KiB);
  assert.deepEqual(framesOf(connector, FrameType.OPEN_OK).map((f) => f.window), [64 * KiB, 64 * KiB], 'grants pass as they come');

  // The web host stops reading: the window's worth of data congests its link.
  connector.receive(encodeData(1, Buffer.alloc(64 * KiB)));
  assert.equal(host.paused, true, 'a congested link is not read');
  assert.equal(connector.paused, false, 'data within credit never pauses the sender');
  // A grant it sends meanwhile is held back.
  host.receive(encodeWindow(webId, 32 * KiB));
  await settle();
  assert.equal(framesOf(connector, FrameType.WINDOW).length, 0);
  connector.receive(encodeData(3, Buffer.from('the other stream flows')));
  other.flush();
  assert.equal(framesOf(other, FrameType.DATA).at(-1)?.payload.toString(), 'the other stream flows');

  // The host reads again: the held-back grant reaches the connector.
  host.flush();
  await settle();
  assert.equal(host.paused, false);
  assert.deepEqual(framesOf(connector, FrameType.WINDOW).map((f) => [f.streamId, f.increment]), [[1, 32 * KiB]]);
});

test('tiny frames towards a host that does not read congest it: the sender is paused, and resumed when the host goes', async (t) => {
  const { host, connector } = await attachedPair(t, { maxBufferedBytesPerConnection: LIMIT });
  await open(connector, host, 1);
  // Each forwarded frame costs a queued send however small it is: past twice the limit, the sender waits too.
  const tiny = Buffer.concat(Array.from({ length: 300 }, () => encodeData(1, Buffer.alloc(1))));
  connector.receive(tiny);
  assert.equal(connector.paused, true, 'the sender is held back');
  assert.equal(host.paused, true, 'the congested host is not read either');
  assert.equal(framesOf(host, FrameType.DATA).length, 300, 'nothing is dropped');
  host.drop(1006);
  assert.equal(connector.paused, false);
  await settle();
  assert.equal(framesOf(connector, FrameType.RESET)[0]?.code, WireCode.PEER_GONE);
});

test('a second host attached for the same tunnel is closed with TUNNEL_IN_USE', async (t) => {
  const { router, host } = await attachedPair(t);
  const late = new FakeTransport();
  router.attach(late, 'host', alice, 'web');
  await settle();
  assert.deepEqual(late.closedWith, [CloseCode.POLICY_VIOLATION, ErrorCode.TUNNEL_IN_USE]);
  assert.equal(host.closedWith, undefined);
  assert.equal(router.stats().hosts, 1);
});

test('replies to one message go out as one; a peer that never reads them is held back, then closed after drainDeadlineMs', async (t) => {
  for (const flood of [() => encodePing(Buffer.alloc(8)), () => encodeData(99, Buffer.alloc(16))]) {
    // A deadline long enough that a loaded machine still checks "not closed yet" before it passes.
    const { connector, host } = await attachedPair(t, { maxBufferedBytesPerConnection: LIMIT, drainDeadlineMs: 400 });
    const sends = (): number => connector.frames.length;
    connector.receive(Buffer.concat(Array.from({ length: 100 }, flood)));
    await settle();
    assert.equal(sends(), 100, 'one reply per frame');
    assert.equal(connector.paused, false, 'under the limit');
    connector.receive(Buffer.concat(Array.from({ length: 4000 }, flood)));
    await settle();
    assert.equal(connector.paused, true, 'over the limit: the relay stops reading it');
    assert.equal(connector.closedWith, undefined, 'not closed yet: it may still catch up');
    for (let waited = 0; connector.closedWith === undefined && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(connector.closedWith, [CloseCode.BUFFER_LIMIT, ErrorCode.BUFFER_LIMIT]);
    assert.equal(host.closedWith, undefined, 'nobody else is affected');
  }
});

test('a peer that catches up within the deadline is read again and stays', async (t) => {
  const { connector } = await attachedPair(t, { maxBufferedBytesPerConnection: LIMIT, drainDeadlineMs: 200, maxFramesPerTurn: 10_000 });
  connector.receive(Buffer.concat(Array.from({ length: 4000 }, () => encodePing(Buffer.alloc(8)))));
  await settle();
  assert.equal(connector.paused, true);
  connector.flush();
  assert.equal(connector.paused, false);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(connector.closedWith, undefined);
});

test('a message of many frames is handled in slices: the link is not read meanwhile, every frame is answered in order', async (t) => {
  const { connector } = await attachedPair(t, { maxFramesPerTurn: 100 });
  const pings = Array.from({ length: 350 }, (_, i) => encodePing(Buffer.from([0, 0, 0, 0, 0, 0, i >> 8, i & 0xff])));
  connector.receive(Buffer.concat(pings));
  assert.equal(connector.paused, true, 'the rest waits for the next turns');
  connector.receive(encodePing(Buffer.from('afterall')));
  for (let i = 0; i < 6; i++) await new Promise((resolve) => setImmediate(resolve));
  const pongs = framesOf(connector, FrameType.PONG);
  assert.equal(pongs.length, 351);
  assert.deepEqual(pongs.slice(0, 350).map((p) => p.data.readUInt16BE(6)), Array.from({ length: 350 }, (_, i) => i));
  assert.equal(pongs[350].data.toString(), 'afterall', 'a later message waits behind the backlog');
  assert.equal(connector.paused, false);
});

test('what one read forwards to a link leaves in one write, relay-made frames included', async (t) => {
  const { host, connector } = await attachedPair(t);
  host.corkable = true;
  connector.corkable = true;
  const hostId = await open(connector, host, 1);
  host.writes.length = 0;
  // One message from the connector: three DATA frames and a PING (answered by the relay itself).
  connector.receive(Buffer.concat([encodeData(1, Buffer.from('a')), encodeData(1, Buffer.from('b')), encodeData(1, Buffer.from('c'))]));
  assert.deepEqual(host.writes, [3], 'corked: nothing written yet, three messages waiting');
  await Promise.resolve();
  assert.deepEqual(host.writes, [3], 'one write of three messages once the batch is done');
  assert.deepEqual(framesOf(host, FrameType.DATA).map((f) => [f.streamId, f.payload.toString()]), [[hostId, 'a'], [hostId, 'b'], [hostId, 'c']]);
  connector.writes.length = 0;
  connector.receive(encodePing(Buffer.alloc(8)));
  host.receive(Buffer.concat([encodeData(hostId, Buffer.from('x')), encodeWindow(hostId, 1000)]));
  await Promise.resolve();
  assert.deepEqual(connector.writes, [3], 'the PONG the relay made and the DATA and WINDOW forwarded in the same batch: one write');
  assert.deepEqual(connector.frames.slice(-3).map((f) => f.type), [FrameType.PONG, FrameType.DATA, FrameType.WINDOW], 'in the order they were made');
  // A transport that cannot cork writes each message on its own, as before.
  const plain = await attachedPair(t);
  const plainHostId = await open(plain.connector, plain.host, 1);
  plain.host.writes.length = 0;
  plain.connector.receive(Buffer.concat([encodeData(1, Buffer.from('a')), encodeData(1, Buffer.from('b'))]));
  assert.deepEqual(plain.host.writes, [1, 1]);
  assert.equal(framesOf(plain.host, FrameType.DATA).filter((f) => f.streamId === plainHostId).length, 2);
});

test("a host that reads slower than it is fed: a shell's frame overtakes the bulk stream's backlog, WINDOW goes at once, each stream's frames keep their order, and a RESET follows its stream's data", async (t) => {
  // Budget = limit / 4 = 64 KiB handed to the transport before frames wait in their streams' queues.
  const { host, connector } = await attachedPair(t, { maxBufferedBytesPerConnection: 256 * KiB });
  const bulkId = await open(connector, host, 1, 'web', 256 * KiB);
  const shellId = await open(connector, host, 3, 'web', 256 * KiB);
  const chunks = [0, 1, 2, 3, 4].map((i) => Buffer.alloc(32 * KiB, i));
  connector.receive(Buffer.concat(chunks.map((c) => encodeData(1, c))));
  connector.receive(encodeData(3, Buffer.from('ls\n')));
  const dataTo = (id: number) => framesOf(host, FrameType.DATA).filter((f) => f.streamId === id);
  assert.equal(dataTo(bulkId).length, 2, 'two bulk frames fill the budget; the rest wait');
  assert.equal(dataTo(shellId).length, 0, 'the shell waits too, in its own queue');
  connector.receive(encodeWindow(1, 16 * KiB));
  assert.deepEqual(framesOf(host, FrameType.WINDOW).map((f) => [f.streamId, f.increment]), [[bulkId, 16 * KiB]], 'a WINDOW (for the other direction) does not wait behind data');

  host.flush(); // the host reads what it was sent: the queues go out, the small one first
  const order = framesOf(host, FrameType.DATA).slice(2).map((f) => f.streamId);
  assert.equal(order[0], shellId, `the shell's frame went first (order after the first two: ${order.join(', ')})`);

  connector.receive(encodeReset(1, WireCode.CANCELLED, 'done'));
  assert.equal(framesOf(host, FrameType.RESET).length, 0, 'the RESET waits behind its stream\'s data');
  for (let i = 0; i < 5 && dataTo(bulkId).length < 5; i++) host.flush();
  host.flush();
  assert.deepEqual(dataTo(bulkId).map((f) => f.payload[0]), [0, 1, 2, 3, 4], 'every bulk frame, in order');
  assert.equal(dataTo(shellId)[0]?.payload.toString(), 'ls\n');
  const last = host.frames.filter((f) => f.type === FrameType.DATA || f.type === FrameType.RESET).at(-1);
  assert.equal(last?.type, FrameType.RESET, 'the RESET came after the last of its data');
});

test('a small frame cut from a large message is copied before it is sent, so it cannot keep the message alive; a frame that is most of its message is not', async (t) => {
  /** Records how much memory each message sent keeps alive. */
  class PinWatch extends FakeTransport {
    readonly backing: [length: number, backing: number][] = [];
    override send(message: Buffer, done: () => void): void {
      this.backing.push([message.length, message.buffer.byteLength]);
      super.send(message, done);
    }
  }
  const { router, ports, connector } = await attachedPair(t);
  await ports.store.claimTunnel('db', alice.id);
  const host = new PinWatch();
  router.attach(host, 'host', alice, 'db');
  await settle();
  await open(connector, host, 1, 'db', 512 * KiB);
  const big = Buffer.alloc(200 * KiB, 7);
  const message = Buffer.concat([encodeData(1, Buffer.from('tiny')), encodeData(1, big)]);
  host.backing.length = 0;
  connector.receive(message);
  assert.deepEqual(framesOf(host, FrameType.DATA).slice(-2).map((f) => f.payload.length), [4, 200 * KiB]);
  const [tiny, bulk] = host.backing;
  assert.ok(tiny[1] <= 8 * KiB, `the tiny frame's memory is its own (${tiny[1]} bytes behind ${tiny[0]})`);
  assert.equal(bulk[1], message.length, 'the bulk frame is forwarded without a copy');
});

test('a stream the relay resets while its frames wait: they are dropped, the RESET goes at once, and the link carries other streams as before', async (t) => {
  const { host, connector } = await attachedPair(t, { maxBufferedBytesPerConnection: 256 * KiB });
  const bulkId = await open(connector, host, 1, 'web', 256 * KiB);
  connector.receive(Buffer.concat([0, 1, 2, 3, 4].map((i) => encodeData(1, Buffer.alloc(32 * KiB, i)))));
  const dataTo = (id: number) => framesOf(host, FrameType.DATA).filter((f) => f.streamId === id);
  assert.equal(dataTo(bulkId).length, 2, 'three frames wait');
  // A window past the relay's per-stream limit: the relay resets the stream.
  host.receive(encodeWindow(bulkId, 17 * 1024 * KiB));
  await settle();
  assert.equal(framesOf(host, FrameType.RESET).at(-1)?.code, WireCode.BUFFER_LIMIT);
  assert.equal(framesOf(connector, FrameType.RESET).at(-1)?.code, WireCode.BUFFER_LIMIT);
  for (let i = 0; i < 3; i++) host.flush();
  assert.equal(dataTo(bulkId).length, 2, 'the waiting frames were dropped');
  // Nothing is left counted against the link: a new stream's data goes straight out.
  const nextId = await open(connector, host, 3, 'web', 256 * KiB);
  connector.receive(encodeData(3, Buffer.alloc(48 * KiB, 9)));
  assert.equal(dataTo(nextId).length, 1);
  assert.equal(host.paused, false);
});
