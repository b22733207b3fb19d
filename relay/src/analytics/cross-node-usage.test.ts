import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { encodeData, encodeOpen, encodeOpenErr, encodeOpenOk, encodeReset, FrameType, WireCode, type Frame } from '@tether/shared';
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
import { UsageRecorder } from './usage-recorder.js';

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);
const turns = async (n = 8): Promise<void> => {
  for (let i = 0; i < n; i++) await settle();
};

test('across two nodes a stream is counted once, on the connector’s node; a refusal from the far node too', async (t) => {
  const store = new SqliteStore(':memory:');
  const registry = new MemoryTunnelRegistry(systemClock, 15_000);
  const limits = resolveLimits({});
  const nodes = new Map<string, { router: Router; usage: UsageRecorder }>();
  for (const id of ['a', 'b']) {
    const auditor = new Auditor(new MemoryAuditSink(), systemClock);
    const usage = new UsageRecorder({ store: store.usage, clock: systemClock, nodeId: id, flushMs: 3_600_000 });
    const router = new Router({ usage, policy: new Policy(store, auditor, { cacheMs: 0 }), store, registry, auditor, metrics: new MemoryMetrics(), clock: systemClock, limits, log: pino({ level: 'silent' }), nodeId: id });
    nodes.set(id, { router, usage });
  }
  for (const [id, node] of nodes) {
    let link: Link | undefined;
    node.router.usePeers({
      has: () => link !== undefined && !link.closed,
      linkTo: async (to) => {
        if (link && !link.closed) return link;
        const [out, inbound] = PipeTransport.pair();
        nodes.get(to)!.router.attach(inbound, 'peerIn', peerIdentity(id));
        link = node.router.attach(out, 'peerOut', peerIdentity(to));
        return link;
      },
    });
  }
  t.after(async () => {
    for (const n of nodes.values()) {
      n.router.close();
      await n.usage.close();
    }
    await store.close();
  });
  await store.claimTunnel('web', ALICE.id);
  const host = new FakeTransport();
  nodes.get('a')!.router.attach(host, 'host', ALICE, 'web');
  await turns();
  const connector = new FakeTransport();
  nodes.get('b')!.router.attach(connector, 'connector', ALICE);
  connector.receive(Buffer.concat([encodeOpen(1, 65_536, 'web'), encodeOpen(3, 65_536, 'web')]));
  await turns();
  const [first, second] = framesOf(host, FrameType.OPEN);
  host.receive(Buffer.concat([encodeOpenOk(first.streamId, 65_536), encodeOpenErr(second.streamId, WireCode.TARGET_REFUSED, 'no')]));
  await turns();
  connector.receive(encodeData(1, Buffer.alloc(500)));
  host.receive(encodeData(first.streamId, Buffer.alloc(70)));
  await turns();
  connector.receive(encodeReset(1, WireCode.CANCELLED, 'done'));
  await turns();
  for (const n of nodes.values()) await n.usage.flush();
  const now = Date.now();
  const rows = await store.usage.query({ step: 'hour', from: now - 3_600_000, to: now + 1 });
  assert.deepEqual(rows.map((r) => [r.node, r.tunnel, r.user, r.bytesUp, r.bytesDown, r.opened, r.closed, r.peak, r.failed]), [
    ['b', 'web', 'alice', 500, 70, 1, 1, 1, { [WireCode.TARGET_REFUSED]: 1 }],
  ]);
});
