import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { encodeDatagram, encodeOpen, encodeOpenOk, encodeReset, FrameType, WireCode, type Frame } from '@tether/shared';
import type { RelayLimits } from '../config.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { ALICE, createTestRouter, FakeTransport, settle } from '../test-support/router-testing.js';

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);
const payloads = (t: FakeTransport): [number, string][] => framesOf(t, FrameType.DATAGRAM).map((f) => [f.streamId, Buffer.from(f.payload).toString()]);

/** A router with alice's UDP tunnel `dns` (host link registered with udp) and TCP tunnel `web`, and one connector. */
async function udpSetup(t: TestContext, limits: Partial<RelayLimits> = {}) {
  const metrics = new MemoryMetrics();
  const wired = createTestRouter(t, limits, { metrics });
  await wired.ports.store.claimTunnel('dns', ALICE.id);
  await wired.ports.store.claimTunnel('web', ALICE.id);
  const host = new FakeTransport();
  const tcpHost = new FakeTransport();
  const connector = new FakeTransport();
  wired.router.attach(host, 'host', ALICE, 'dns', 'local', { udp: true });
  wired.router.attach(tcpHost, 'host', ALICE, 'web');
  wired.router.attach(connector, 'connector', ALICE);
  await settle();
  const counted = (outcome: string, reason: string): number => metrics.value('tether_datagrams_total', { outcome, reason });
  /** Opens connector flow `id` to `tunnel`, accepted by its host unless `accept` is false; returns the host's id for it. */
  const openFlow = async (id: number, { tunnel = 'dns', accept = true } = {}): Promise<number> => {
    const target = tunnel === 'dns' ? host : tcpHost;
    connector.receive(encodeOpen(id, 65_536, tunnel));
    await settle();
    const open = framesOf(target, FrameType.OPEN).at(-1)!;
    if (accept) target.receive(encodeOpenOk(open.streamId, 65_536));
    return open.streamId;
  };
  return { ...wired, metrics, host, tcpHost, connector, counted, openFlow };
}

test('datagrams follow their flow both ways with the flow id rewritten, counted with their bytes', async (t) => {
  const s = await udpSetup(t);
  const first = await s.openFlow(1);
  const second = await s.openFlow(3);
  s.connector.receive(Buffer.concat([encodeDatagram(1, Buffer.from('query one')), encodeDatagram(3, Buffer.from('query two'))]));
  s.host.receive(encodeDatagram(second, Buffer.from('answer two')));
  s.host.receive(encodeDatagram(first, Buffer.from('answer one')));
  await settle();
  assert.deepEqual(payloads(s.host), [[first, 'query one'], [second, 'query two']]);
  assert.deepEqual(payloads(s.connector), [[3, 'answer two'], [1, 'answer one']]);
  assert.equal(s.counted('forwarded', 'none'), 4);
  assert.equal(s.metrics.value('tether_datagram_bytes_total', { direction: 'up' }), 18);
  assert.equal(s.metrics.value('tether_datagram_bytes_total', { direction: 'down' }), 20);
  // No DATA, no credit: a flow's bytes are its datagrams.
  assert.equal(framesOf(s.host, FrameType.DATA).length + framesOf(s.host, FrameType.WINDOW).length, 0);
});

test('datagrams with no open UDP flow are dropped and counted; the links stay up and carry on', async (t) => {
  const s = await udpSetup(t);
  const waiting = await s.openFlow(1, { accept: false });
  const tcp = await s.openFlow(3, { tunnel: 'web' });
  const cases: [string, FakeTransport, number][] = [
    ['unknown flow id from the connector', s.connector, 99],
    ['unknown flow id from the host', s.host, 98],
    ['a flow not accepted yet (connector side)', s.connector, 1],
    ['a flow not accepted yet (host side)', s.host, waiting],
    ['a stream of a TCP tunnel', s.connector, 3],
    ['a stream of a TCP tunnel (host side)', s.tcpHost, tcp],
  ];
  for (const [name, from, flow] of cases) {
    from.receive(encodeDatagram(flow, Buffer.from(name)));
    await settle();
  }
  assert.equal(s.counted('dropped', 'unknown_flow'), cases.length);
  for (const peer of [s.host, s.tcpHost, s.connector]) {
    assert.deepEqual(payloads(peer), []);
    assert.equal(peer.closedWith, undefined);
    assert.equal(framesOf(peer, FrameType.RESET).length, 0, 'a datagram is never answered');
  }
  s.host.receive(encodeOpenOk(waiting, 65_536));
  s.connector.receive(encodeDatagram(1, Buffer.from('now open')));
  await settle();
  assert.deepEqual(payloads(s.host), [[waiting, 'now open']]);
});

test('a datagram over maxDatagramSize is dropped and counted', async (t) => {
  const s = await udpSetup(t, { maxDatagramSize: 512 });
  const hostId = await s.openFlow(1);
  s.connector.receive(Buffer.concat([encodeDatagram(1, Buffer.alloc(513)), encodeDatagram(1, Buffer.alloc(512))]));
  await settle();
  assert.deepEqual(framesOf(s.host, FrameType.DATAGRAM).map((f) => [f.streamId, f.payload.length]), [[hostId, 512]]);
  assert.equal(s.counted('dropped', 'too_large'), 1);
});

test('datagrams towards a link that holds too much are dropped, not queued, and flow again once it drains', async (t) => {
  const s = await udpSetup(t, { maxDatagramBufferedBytes: 8 * 1024 });
  const hostId = await s.openFlow(1);
  s.host.flush();
  // The host reads nothing: what the relay sends it stays buffered.
  // One message each, as they would arrive: the datagrams of one message leave together.
  for (let i = 0; i < 40; i++) {
    s.connector.receive(encodeDatagram(1, Buffer.alloc(1000, i)));
    await Promise.resolve();
  }
  await settle();
  const sent = framesOf(s.host, FrameType.DATAGRAM).length;
  assert.ok(sent > 0 && sent < 40, `${sent} of 40 forwarded`);
  assert.equal(s.counted('dropped', 'congested'), 40 - sent);
  assert.equal(s.host.paused || s.connector.paused, false, 'nobody is held back for datagrams');
  s.host.flush();
  s.connector.receive(encodeDatagram(1, Buffer.from('after the drain')));
  await settle();
  assert.deepEqual(payloads(s.host).at(-1), [hostId, 'after the drain']);
});

test('a UDP tunnel takes at most maxFlowsPerTunnel flows; the next is refused with FLOW_LIMIT until one ends', async (t) => {
  const s = await udpSetup(t, { maxFlowsPerTunnel: 2 });
  await s.openFlow(1);
  await s.openFlow(3);
  s.connector.receive(encodeOpen(5, 65_536, 'dns'));
  await settle();
  const refused = framesOf(s.connector, FrameType.OPEN_ERR).find((f) => f.streamId === 5);
  assert.equal(refused?.code, WireCode.FLOW_LIMIT);
  assert.match(refused.message, /maxFlowsPerTunnel/);
  // TCP tunnels are not counted as flows.
  await s.openFlow(7, { tunnel: 'web' });
  await s.openFlow(9, { tunnel: 'web' });
  await s.openFlow(11, { tunnel: 'web' });
  assert.equal(framesOf(s.connector, FrameType.OPEN_OK).length, 5);
  s.connector.receive(encodeReset(1, WireCode.CANCELLED, 'idle'));
  await settle();
  await s.openFlow(13);
  assert.ok(framesOf(s.connector, FrameType.OPEN_OK).some((f) => f.streamId === 13));
});
