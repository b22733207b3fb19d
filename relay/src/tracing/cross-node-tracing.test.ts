import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeOpenMetadata, encodeOpen, encodeOpenMetadata, encodeOpenOk, FrameType, parseTraceparent, type Frame } from '@tether/shared';
import { Auditor } from '../audit/auditor.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { resolveLimits } from '../config.js';
import { peerIdentity } from '../identity.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import { systemClock } from '../ports/clock.js';
import { Policy } from '../policy/policy.js';
import { MemoryTunnelRegistry } from '../registry/memory-registry.js';
import type { Link } from '../routing/link.js';
import { Router } from '../routing/router.js';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { PipeTransport } from '../test-support/pipe-transport.js';
import { ALICE, FakeTransport, settle } from '../test-support/router-testing.js';
import { OpenTracing } from './open-tracing.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CONNECTOR_SPAN = 'b7ad6b7169203331';

/** Two traced nodes sharing one store and registry, linked by in-process pipes (as in cross-node.test.ts). */
function tracedPair(t: TestContext) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const store = new SqliteStore(':memory:');
  const registry = new MemoryTunnelRegistry(systemClock, 15_000);
  const routers = new Map<string, Router>();
  for (const id of ['a', 'b']) {
    const auditor = new Auditor(new MemoryAuditSink(), systemClock);
    const policy = new Policy(store, auditor, { cacheMs: 0 });
    const tracing = new OpenTracing(provider.getTracer('test'), id);
    routers.set(id, new Router({ policy, store, registry, auditor, metrics: new MemoryMetrics(), clock: systemClock, limits: resolveLimits({}), log: pino({ level: 'silent' }), nodeId: id, tracing }));
  }
  for (const [id, router] of routers) {
    const open = new Map<string, Link>();
    router.usePeers({
      has: (peer) => open.has(peer),
      linkTo: async (peer) => {
        const existing = open.get(peer);
        if (existing && !existing.closed) return existing;
        const [out, inbound] = PipeTransport.pair();
        routers.get(peer)!.attach(inbound, 'peerIn', peerIdentity(id));
        const link = router.attach(out, 'peerOut', peerIdentity(peer));
        open.set(peer, link);
        return link;
      },
    });
  }
  t.after(async () => {
    for (const r of routers.values()) r.close();
    await store.close();
    await provider.shutdown();
  });
  return { store, exporter, router: (id: string) => routers.get(id)! };
}

const turns = async (n = 8): Promise<void> => {
  for (let i = 0; i < n; i++) await settle();
};

test('across two nodes: the connector\'s node and the host\'s node each add a tether.open, one chain of parents', async (t) => {
  const c = tracedPair(t);
  await c.store.claimTunnel('web', ALICE.id);
  const host = new FakeTransport();
  c.router('a').attach(host, 'host', ALICE, 'web');
  await turns();
  const connector = new FakeTransport();
  c.router('b').attach(connector, 'connector', ALICE);
  connector.receive(encodeOpen(1, 4096, 'web', encodeOpenMetadata({ traceparent: `00-${TRACE_ID}-${CONNECTOR_SPAN}-01` })));
  await turns();
  const open = host.frames.find((f): f is Extract<Frame, { type: 1 }> => f.type === FrameType.OPEN);
  assert.ok(open, 'the OPEN reached the host on the other node');
  host.receive(encodeOpenOk(open.streamId, 4096));
  await turns();

  const spans = c.exporter.getFinishedSpans().filter((s) => s.name === 'tether.open');
  assert.equal(spans.length, 2);
  const onB = spans.find((s) => s.attributes['tether.node.id'] === 'b')!;
  const onA = spans.find((s) => s.attributes['tether.node.id'] === 'a')!;
  assert.equal(onB.parentSpanContext?.spanId, CONNECTOR_SPAN);
  assert.deepEqual([onB.attributes['tether.role'], onB.attributes['tether.route'], onB.attributes['tether.peer.node.id'], onB.attributes['tether.outcome']], ['connector', 'peer', 'a', 'ok']);
  assert.equal(onA.parentSpanContext?.spanId, onB.spanContext().spanId, "node a's span is the child of node b's");
  assert.deepEqual([onA.attributes['tether.role'], onA.attributes['tether.route'], onA.attributes['tether.outcome']], ['peer', 'local', 'ok']);
  for (const s of spans) assert.equal(s.spanContext().traceId, TRACE_ID);
  assert.equal(parseTraceparent(decodeOpenMetadata(open.metadata).traceparent)?.spanId, onA.spanContext().spanId, "the host continues from node a's span");
});
