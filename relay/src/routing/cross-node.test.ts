import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createError, encodeData, encodeDatagram, encodeOpen, encodeOpenOk, encodeWindow, ErrorCode, FrameType, WireCode, type Frame, type TunnelSettings } from '@tether/shared';
import { Auditor } from '../audit/auditor.js';
import { AuditEventCode } from '../audit/event-codes.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { resolveLimits } from '../config.js';
import { peerIdentity } from '../identity.js';
import { systemClock } from '../ports/clock.js';
import { Policy } from '../policy/policy.js';
import { MemoryTunnelRegistry } from '../registry/memory-registry.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { ALICE, FakeTransport, settle } from '../test-support/router-testing.js';
import { PipeTransport } from '../test-support/pipe-transport.js';
import type { Link } from './link.js';
import type { PeerDialer } from './peer-dialer.js';
import { Router } from './router.js';

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);
const turns = async (n = 6): Promise<void> => {
  for (let i = 0; i < n; i++) await settle();
};

interface Node {
  id: string;
  router: Router;
  audit: MemoryAuditSink;
  metrics: MemoryMetrics;
  /** Peer links this node opened, by the node they lead to. */
  dials: string[];
}

/**
 * Nodes of one cluster in one process: one store and one registry shared by all (as Redis would
 * be), and peer links as in-process pipes. `unreachable` nodes refuse to be dialled.
 */
function cluster(t: TestContext, ids: string[], limits = {}) {
  const store = new SqliteStore(':memory:');
  const registry = new MemoryTunnelRegistry(systemClock, 15_000);
  const resolved = resolveLimits(limits);
  const unreachable = new Set<string>();
  const nodes = new Map<string, Node>();
  for (const id of ids) {
    const audit = new MemoryAuditSink();
    const auditor = new Auditor(audit, systemClock);
    const policy = new Policy(store, auditor, { cacheMs: 0 });
    const metrics = new MemoryMetrics();
    const router = new Router({ policy, store, registry, auditor, metrics, clock: systemClock, limits: resolved, log: pino({ level: 'silent' }), nodeId: id });
    nodes.set(id, { id, router, audit, metrics, dials: [] });
  }
  for (const node of nodes.values()) {
    const open = new Map<string, Link>();
    const dialer: PeerDialer = {
      has: (id) => open.has(id) && !open.get(id)!.closed,
      linkTo: async (id) => {
        const existing = open.get(id);
        if (existing && !existing.closed) return existing;
        node.dials.push(id);
        if (unreachable.has(id)) throw createError(ErrorCode.RELAY_UNREACHABLE, `relay node ${id} at http://x: connect ECONNREFUSED`);
        const [out, inbound] = PipeTransport.pair();
        nodes.get(id)!.router.attach(inbound, 'peerIn', peerIdentity(node.id));
        const link = node.router.attach(out, 'peerOut', peerIdentity(id));
        open.set(id, link);
        return link;
      },
    };
    node.router.usePeers(dialer);
  }
  t.after(async () => {
    for (const n of nodes.values()) n.router.close();
    await store.close();
  });
  return { store, registry, nodes, unreachable, node: (id: string) => nodes.get(id)! };
}

async function hostOn(node: Node, tunnel = 'web', settings?: TunnelSettings): Promise<FakeTransport> {
  const host = new FakeTransport();
  node.router.attach(host, 'host', ALICE, tunnel, 'local', settings);
  await turns();
  return host;
}

function connectorOn(node: Node): FakeTransport {
  const connector = new FakeTransport();
  node.router.attach(connector, 'connector', ALICE);
  return connector;
}

test('a connector on node B reaches a host on node A over one peer link: OPEN, OPEN_OK, data both ways, credit', async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'));
  const connector = connectorOn(c.node('b'));
  connector.receive(encodeOpen(1, 4096, 'web', Buffer.from('meta')));
  await turns();
  const open = framesOf(host, FrameType.OPEN)[0];
  assert.ok(open, 'the OPEN reached the host on the other node');
  assert.equal(open.tunnel, 'web');
  assert.equal(open.window, 4096, "the connector's window, passed on across both hops");
  assert.equal(Buffer.from(open.metadata ?? []).toString(), 'meta', 'metadata (resume tokens) crosses unread');
  host.receive(encodeOpenOk(open.streamId, 8192));
  await turns();
  assert.deepEqual(framesOf(connector, FrameType.OPEN_OK).map((f) => [f.streamId, f.window]), [[1, 8192]]);

  connector.receive(encodeData(1, Buffer.from('hello from b')));
  host.receive(encodeData(open.streamId, Buffer.from('hello from a')));
  host.receive(encodeWindow(open.streamId, 1000));
  await turns();
  assert.equal(Buffer.from(framesOf(host, FrameType.DATA)[0].payload).toString(), 'hello from b');
  assert.equal(Buffer.from(framesOf(connector, FrameType.DATA)[0].payload).toString(), 'hello from a');
  assert.deepEqual(framesOf(connector, FrameType.WINDOW).map((f) => [f.streamId, f.increment]), [[1, 1000]]);
  assert.deepEqual(c.node('b').dials, ['a']);
  assert.equal(c.node('b').router.stats().streams, 1);
  assert.equal(c.node('a').router.stats().streams, 1);
  assert.equal(c.node('b').metrics.value('tether_cross_node_streams_total', { direction: 'out' }), 1, "the connector's node counts it out");
  assert.equal(c.node('a').metrics.value('tether_cross_node_streams_total', { direction: 'in' }), 1, "the host's node counts it in");
  assert.equal(c.node('a').metrics.value('tether_cross_node_streams_total', { direction: 'out' }), 0);
  assert.equal(c.node('a').metrics.value('tether_links', { role: 'peer' }), 1);
  assert.equal(c.node('b').metrics.value('tether_stream_bytes_total', { direction: 'up' }), 'hello from b'.length);
});

test('many streams from several connectors share one peer link; each stays separate', async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'));
  const connectors = [connectorOn(c.node('b')), connectorOn(c.node('b'))];
  for (const [i, conn] of connectors.entries()) conn.receive(Buffer.concat([1, 3, 5].map((id) => encodeOpen(id, 4096, 'web', Buffer.from(`c${i}s${id}`)))));
  await turns(10);
  const opens = framesOf(host, FrameType.OPEN);
  assert.equal(opens.length, 6);
  for (const open of opens) host.receive(Buffer.concat([encodeOpenOk(open.streamId, 4096), encodeData(open.streamId, Buffer.from(`for ${Buffer.from(open.metadata).toString()}`))]));
  await turns(10);
  for (const [i, conn] of connectors.entries()) {
    assert.deepEqual(framesOf(conn, FrameType.DATA).map((f) => [f.streamId, Buffer.from(f.payload).toString()]).sort(), [1, 3, 5].map((id) => [id, `for c${i}s${id}`]));
  }
  assert.deepEqual(c.node('b').dials, ['a'], 'one link for all six');
});

test('DATA beyond the credit the far host granted is refused at the first node: nothing is buffered past a window', async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'));
  const connector = connectorOn(c.node('b'));
  connector.receive(encodeOpen(1, 4096, 'web'));
  await turns();
  host.receive(encodeOpenOk(framesOf(host, FrameType.OPEN)[0].streamId, 1024));
  await turns();
  connector.receive(encodeData(1, Buffer.alloc(2048)));
  await turns();
  const reset = framesOf(connector, FrameType.RESET)[0];
  assert.equal(reset?.code, WireCode.FLOW_CONTROL);
  assert.match(reset.message, /sent 2048 bytes with 1024 of credit/);
  assert.equal(framesOf(host, FrameType.DATA).length, 0);
  assert.equal(framesOf(host, FrameType.RESET)[0]?.code, WireCode.FLOW_CONTROL, 'the far end is told too');
});

test('the peer link going down resets the streams it carried on both sides with PEER_GONE, so they resume', async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'));
  const connector = connectorOn(c.node('b'));
  connector.receive(encodeOpen(1, 4096, 'web'));
  await turns();
  host.receive(encodeOpenOk(framesOf(host, FrameType.OPEN)[0].streamId, 4096));
  await turns();
  const peer = await (c.node('b').router as unknown as { peers: PeerDialer }).peers.linkTo('a');
  peer.transport.terminate();
  await turns();
  assert.equal(framesOf(connector, FrameType.RESET)[0]?.code, WireCode.PEER_GONE);
  assert.match(framesOf(connector, FrameType.RESET)[0].message, /relay node serving the tunnel went away/);
  assert.equal(framesOf(host, FrameType.RESET)[0]?.code, WireCode.PEER_GONE);
  assert.equal(c.node('a').router.stats().streams + c.node('b').router.stats().streams, 0);
  // The next open dials again.
  connector.receive(encodeOpen(3, 4096, 'web'));
  await turns();
  assert.equal(framesOf(host, FrameType.OPEN).length, 2);
  assert.deepEqual(c.node('b').dials, ['a', 'a']);
});

test('a holder that cannot be reached is skipped for the next; none reachable is TUNNEL_OFFLINE naming the nodes', async (t) => {
  const c = cluster(t, ['a', 'b', 'c']);
  await c.store.claimTunnel('web', ALICE.id);
  await hostOn(c.node('a'));
  const hostC = await hostOn(c.node('c'));
  c.unreachable.add('a');
  const connector = connectorOn(c.node('b'));
  connector.receive(encodeOpen(1, 4096, 'web'));
  await turns();
  assert.deepEqual(c.node('b').dials, ['a', 'c'], 'oldest holder first, then the next');
  assert.equal(framesOf(hostC, FrameType.OPEN).length, 1);
  connector.receive(encodeOpen(3, 4096, 'web'));
  await turns();
  assert.deepEqual(c.node('b').dials, ['a', 'c'], 'a holder already linked is tried first');
  assert.equal(framesOf(hostC, FrameType.OPEN).length, 2);

  c.unreachable.add('c');
  (await (c.node('b').router as unknown as { peers: PeerDialer }).peers.linkTo('c')).transport.terminate();
  await turns();
  connector.receive(encodeOpen(5, 4096, 'web'));
  await turns();
  const refused = framesOf(connector, FrameType.OPEN_ERR).find((f) => f.streamId === 5);
  assert.equal(refused?.code, WireCode.TUNNEL_OFFLINE);
  assert.match(refused.message, /^tunnel web is shared through relay node a, c, which this node cannot reach right now \(relay node c at http:\/\/x: connect ECONNREFUSED\); try again$/);
});

test('an OPEN that came over a peer link goes to local hosts only, never on to a third node', async (t) => {
  const c = cluster(t, ['a', 'b', 'c']);
  await c.store.claimTunnel('web', ALICE.id);
  const hostC = await hostOn(c.node('c'));
  // b believes a holds it (a stale lease): a has no host, and must not pass it on to c.
  await c.registry.claim({ tunnel: 'web', nodeId: 'a', linkId: 999, hostId: ALICE.id });
  const fromB = new FakeTransport();
  c.node('a').router.attach(fromB, 'peerIn', peerIdentity('b'));
  fromB.receive(encodeOpen(2, 4096, 'web'));
  await turns();
  assert.equal(framesOf(fromB, FrameType.OPEN_ERR)[0]?.code, WireCode.TUNNEL_OFFLINE);
  assert.equal(framesOf(hostC, FrameType.OPEN).length, 0);
  assert.deepEqual(c.node('a').dials, []);
});

test('peer links keep their id discipline: a peer sends even ids, and an odd one closes the link', async (t) => {
  const c = cluster(t, ['a']);
  await c.store.claimTunnel('web', ALICE.id);
  const fromB = new FakeTransport();
  c.node('a').router.attach(fromB, 'peerIn', peerIdentity('b'));
  fromB.receive(encodeOpen(1, 4096, 'web'));
  await turns();
  assert.equal(fromB.closedWith?.[1], ErrorCode.PROTOCOL_ERROR);
});

test("the holding node decides the host's right: a stream for a tunnel its host no longer owns is refused there, and audited as the peer node", async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'));
  // The name changes hands under the connected host (its user was deleted, the name claimed again).
  await c.store.deleteTunnel('web');
  await c.store.claimTunnel('web', 42);
  const fromB = new FakeTransport();
  c.node('a').router.attach(fromB, 'peerIn', peerIdentity('b'));
  fromB.receive(encodeOpen(2, 4096, 'web'));
  await turns();
  assert.equal(framesOf(fromB, FrameType.OPEN_ERR)[0]?.code, WireCode.TUNNEL_OFFLINE);
  assert.equal(framesOf(host, FrameType.OPEN).length, 0);
  const granted = c.node('a').audit.events().find((e) => e.code === AuditEventCode.ACCESS_GRANTED && e.action === 'tunnel.connect');
  assert.equal(granted?.subject?.name, 'node:b');
  assert.equal(granted?.rule, 'peer-node');
});

test("a tunnel's allow-list holds on every node: the connector's node classifies and refuses, the host's node carries what it lets through", async (t) => {
  const c = cluster(t, ['a', 'b']);
  await c.store.claimTunnel('web', ALICE.id);
  const host = await hostOn(c.node('a'), 'web', { allow: ['ssh'] });
  const connector = connectorOn(c.node('b'));
  connector.receive(Buffer.concat([encodeOpen(1, 65_536, 'web'), encodeOpen(3, 65_536, 'web')]));
  await turns();
  const [ssh, tls] = framesOf(host, FrameType.OPEN);
  host.receive(Buffer.concat([encodeOpenOk(ssh.streamId, 65_536), encodeOpenOk(tls.streamId, 65_536)]));
  await turns();
  const banner = Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n');
  connector.receive(Buffer.concat([encodeData(1, banner.subarray(0, 9)), encodeData(1, banner.subarray(9)), encodeData(3, Buffer.from([0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0]))]));
  await turns();
  assert.deepEqual(Buffer.concat(framesOf(host, FrameType.DATA).filter((f) => f.streamId === ssh.streamId).map((f) => f.payload)), banner);
  assert.equal(framesOf(host, FrameType.DATA).filter((f) => f.streamId === tls.streamId).length, 0, 'no byte of the refused stream crossed');
  assert.deepEqual(framesOf(connector, FrameType.RESET).map((f) => [f.streamId, f.code]), [[3, WireCode.PROTOCOL_NOT_ALLOWED]]);
  assert.equal(c.node('b').metrics.value('tether_streams_by_protocol_total', { protocol: 'ssh' }), 1);
  assert.equal(c.node('b').metrics.value('tether_streams_by_protocol_total', { protocol: 'tls' }), 1);
  assert.equal(c.node('a').metrics.value('tether_streams_by_protocol_total', { protocol: 'ssh' }), 0, 'classified once, where the connector is');
  assert.equal(c.node('b').audit.events().filter((e) => e.code === AuditEventCode.PROTOCOL_REFUSED).length, 1);
});

test('datagrams of a UDP flow cross the peer link both ways; the flow limit is kept by the node holding the host', async (t) => {
  const c = cluster(t, ['a', 'b'], { maxFlowsPerTunnel: 1 });
  await c.store.claimTunnel('dns', ALICE.id);
  const host = await hostOn(c.node('a'), 'dns', { udp: true });
  const connector = connectorOn(c.node('b'));
  connector.receive(encodeOpen(1, 4096, 'dns'));
  await turns();
  const open = framesOf(host, FrameType.OPEN)[0];
  host.receive(encodeOpenOk(open.streamId, 4096));
  await turns();
  connector.receive(encodeDatagram(1, Buffer.from('query')));
  host.receive(encodeDatagram(open.streamId, Buffer.from('answer')));
  await turns();
  assert.deepEqual(framesOf(host, FrameType.DATAGRAM).map((f) => [f.streamId, Buffer.from(f.payload).toString()]), [[open.streamId, 'query']]);
  assert.deepEqual(framesOf(connector, FrameType.DATAGRAM).map((f) => [f.streamId, Buffer.from(f.payload).toString()]), [[1, 'answer']]);
  for (const id of ['a', 'b']) assert.equal(c.node(id).metrics.value('tether_datagrams_total', { outcome: 'forwarded', reason: 'none' }), 2, `node ${id}`);
  connector.receive(encodeOpen(3, 4096, 'dns'));
  await turns();
  assert.equal(framesOf(connector, FrameType.OPEN_ERR).find((f) => f.streamId === 3)?.code, WireCode.FLOW_LIMIT);
});
