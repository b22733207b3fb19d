import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { classify, CloseCode, createError, encodeData, errorFromWire, encodeOpen, encodeOpenOk, encodeReset, ErrorCode, FrameType, WireCode, type Frame } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import type { TunnelRecord } from '../ports/store.js';
import { SqliteStore } from '../stores/sqlite/sqlite-store.js';
import { ALICE, attachedPair, FakeTransport, settle, type AttachedPair } from '../test-support/router-testing.js';

const alice = ALICE;

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);

interface Lookup {
  name: string;
  /** Answers the look-up (or fails it with `fail`). */
  release: (fail?: Error) => void;
}

/** A real SQLite store whose tunnel look-ups, once `gate` is set, the test answers by hand in any order. */
class GatedStore extends SqliteStore {
  readonly lookups: Lookup[] = [];
  gate = false;

  override getTunnel(name: string): Promise<TunnelRecord | undefined> {
    if (!this.gate) return super.getTunnel(name);
    return new Promise((resolve, reject) => {
      this.lookups.push({ name, release: (fail) => (fail ? reject(fail) : resolve(super.getTunnel(name))) });
    });
  }
}

function gatedStore(t: TestContext): GatedStore {
  const store = new GatedStore(':memory:');
  t.after(() => store.close());
  return store;
}

type Setup = AttachedPair;
const setup = attachedPair;

/** Opens connector stream `id` and accepts it on the host; returns the host's id for it. */
async function openAccepted(s: Setup, id: number): Promise<number> {
  s.connector.receive(encodeOpen(id, 65_536, 'web'));
  await settle();
  const open = framesOf(s.host, FrameType.OPEN).at(-1)!;
  s.host.receive(encodeOpenOk(open.streamId, 65_536));
  return open.streamId;
}

test('OPENs whose look-ups finish out of order reach the host in the order sent, and other streams flow meanwhile', async (t) => {
  const gated = gatedStore(t);
  const s = await setup(t, {}, { store: gated });
  const hostId = await openAccepted(s, 1);
  gated.gate = true;

  s.connector.receive(Buffer.concat([encodeOpen(3, 4096, 'web'), encodeOpen(5, 8192, 'web')]));
  await settle();
  assert.equal(gated.lookups.length, 2, 'both look-ups run at once');
  gated.lookups[1].release();
  await settle();
  assert.equal(framesOf(s.host, FrameType.OPEN).length, 1, 'the second OPEN waits for the first');

  // An open stream is not held up by the look-ups.
  s.connector.receive(encodeData(1, Buffer.from('meanwhile')));
  assert.equal(framesOf(s.host, FrameType.DATA).at(-1)?.payload.toString(), 'meanwhile');
  assert.equal(framesOf(s.host, FrameType.DATA).at(-1)?.streamId, hostId);

  gated.lookups[0].release();
  await settle();
  const opens = framesOf(s.host, FrameType.OPEN);
  assert.deepEqual(opens.map((o) => [o.streamId, o.window]), [[hostId, 65_536], [hostId + 2, 4096], [hostId + 4, 8192]]);
});

test('a store that fails refuses that OPEN with INTERNAL and leaves the link and its other streams alone', async (t) => {
  const gated = gatedStore(t);
  const s = await setup(t, {}, { store: gated });
  const hostId = await openAccepted(s, 1);
  gated.gate = true;
  s.connector.receive(encodeOpen(3, 4096, 'web'));
  await settle();
  gated.lookups[0].release(new Error('database is locked'));
  await settle();
  const refused = framesOf(s.connector, FrameType.OPEN_ERR).find((f) => f.streamId === 3);
  assert.equal(refused?.code, WireCode.INTERNAL);
  assert.doesNotMatch(refused?.message ?? '', /locked/, 'the store error stays in the relay log');
  assert.equal(s.connector.closedWith, undefined);
  s.connector.receive(encodeData(1, Buffer.from('still fine')));
  assert.equal(framesOf(s.host, FrameType.DATA).at(-1)?.streamId, hostId);
});

test('a store that is unavailable (Redis away) refuses that OPEN with STORE_UNAVAILABLE, retryable, in words; other streams flow', async (t) => {
  const gated = gatedStore(t);
  const s = await setup(t, {}, { store: gated });
  const hostId = await openAccepted(s, 1);
  gated.gate = true;
  s.connector.receive(encodeOpen(3, 4096, 'web'));
  await settle();
  gated.lookups[0].release(createError(ErrorCode.STORE_UNAVAILABLE, "the relay's Redis store is unavailable: connect ECONNREFUSED"));
  await settle();
  const refused = framesOf(s.connector, FrameType.OPEN_ERR).find((f) => f.streamId === 3);
  assert.equal(refused?.code, WireCode.STORE_UNAVAILABLE);
  assert.equal(classify(errorFromWire(refused.code, refused.message).code), 'retryable');
  assert.match(refused.message, /cannot reach its shared store to open a stream to tunnel web; streams already open keep flowing; try again shortly/);
  s.connector.receive(encodeData(1, Buffer.from('still fine')));
  assert.equal(framesOf(s.host, FrameType.DATA).at(-1)?.streamId, hostId);
});

test('a RESET sent while its OPEN is being looked up reaches the host right after the OPEN', async (t) => {
  const gated = gatedStore(t);
  const s = await setup(t, {}, { store: gated });
  gated.gate = true;
  s.connector.receive(Buffer.concat([encodeOpen(1, 4096, 'web'), encodeReset(1, WireCode.CANCELLED, 'changed my mind')]));
  await settle();
  assert.equal(s.host.frames.length, 0);
  gated.lookups[0].release();
  await settle();
  assert.deepEqual(s.host.frames.map((f) => f.type), [FrameType.OPEN, FrameType.RESET]);
});

test('limits on waiting OPENs: past the pending limit STREAM_LIMIT, past the deferred-frame limit the link closes', async (t) => {
  const gated = gatedStore(t);
  const s = await setup(t, { maxPendingOpensPerConnection: 2, maxDeferredFramesPerOpen: 2 }, { store: gated });
  gated.gate = true;
  s.connector.receive(Buffer.concat([encodeOpen(1, 4096, 'web'), encodeOpen(3, 4096, 'web'), encodeOpen(5, 4096, 'web')]));
  assert.equal(framesOf(s.connector, FrameType.OPEN_ERR).find((f) => f.streamId === 5)?.code, WireCode.STREAM_LIMIT);
  const reset = encodeReset(1, WireCode.CANCELLED, '');
  s.connector.receive(Buffer.concat([reset, reset, reset]));
  assert.deepEqual(s.connector.closedWith, [CloseCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL_ERROR]);
});

test('a lease held by another node is not followed on this one: TUNNEL_OFFLINE', async (t) => {
  const s = await setup(t);
  // The host's lease moves to another node (as if the host had re-registered there).
  const [lease] = await s.ports.registry.lookup('web');
  assert.ok(lease);
  await s.ports.registry.release('web', lease.nodeId, lease.linkId);
  await s.ports.registry.claim({ tunnel: 'web', nodeId: 'other-node', linkId: lease.linkId, hostId: alice.id });
  s.connector.receive(encodeOpen(1, 4096, 'web'));
  await settle();
  assert.equal(framesOf(s.connector, FrameType.OPEN_ERR)[0]?.code, WireCode.TUNNEL_OFFLINE);
  assert.equal(s.host.frames.filter((f) => f.type === FrameType.OPEN).length, 0);
});

test('every OPEN is an audited access decision and counted in the metrics', async (t) => {
  const audit = new MemoryAuditSink();
  const metrics = new MemoryMetrics();
  const s = await setup(t, {}, { audit, metrics });
  await openAccepted(s, 1);
  s.connector.receive(encodeOpen(3, 4096, 'nope'));
  await settle();
  const decisions = audit.events().filter((e) => e.action === 'tunnel.connect');
  assert.deepEqual(decisions.map((e) => [e.code, e.resource, e.rule, e.subject?.name]), [
    [AuditEventCode.ACCESS_GRANTED, 'tunnel:web', 'owner', 'alice'],
    [AuditEventCode.ACCESS_DENIED, 'tunnel:nope', 'no-such-tunnel', 'alice'],
  ]);
  assert.ok(audit.events().some((e) => e.code === AuditEventCode.TUNNEL_ONLINE && e.resource === 'tunnel:web'));
  assert.equal(metrics.value('tether_streams_opened_total'), 1);
  assert.equal(metrics.value('tether_open_refused_total', { code: String(WireCode.TUNNEL_UNKNOWN) }), 1);
  assert.equal(metrics.value('tether_links', { role: 'connector' }), 1);
  assert.equal(metrics.observations('tether_open_lookup_seconds').length, 2);
});
