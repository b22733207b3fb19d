import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { encodeData, encodeOpen, encodeOpenOk, FrameType, WireCode, type AllowableProtocol, type Frame } from '@tether/shared';
import { DEFAULT_HELD_BYTES_PER_LINK } from './protocol-gate.js';
import { AuditEventCode } from '../audit/event-codes.js';
import { MemoryAuditSink } from '../audit/memory-sink.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import type { AuditEvent } from '../ports/audit-sink.js';
import { ALICE, createTestRouter, FakeTransport, settle } from '../test-support/router-testing.js';

type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
const framesOf = <T extends Frame['type']>(t: FakeTransport, type: T): FrameOf<T>[] => t.frames.filter((f): f is FrameOf<T> => f.type === type);

const SSH_BANNER = Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
const KEXINIT = Buffer.from([0, 0, 4, 0xdc, 8, 20, ...Buffer.alloc(32, 0xaa)]);

/** A ClientHello for `name` in one TLS record (no ALPN). */
function clientHello(name: string): Buffer {
  const n = Buffer.from(name);
  const sni = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0]), n]);
  sni.writeUInt16BE(0, 0);
  sni.writeUInt16BE(n.length + 5, 2);
  sni.writeUInt16BE(n.length + 3, 4);
  sni[6] = 0;
  sni.writeUInt16BE(n.length, 7);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0, 0, 2, 0x13, 1, 1, 0, sni.length >> 8, sni.length & 0xff]), sni]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1, hs.length >> 8, hs.length & 0xff]), hs]);
}

interface Gate {
  host: FakeTransport;
  connector: FakeTransport;
  audit: MemoryAuditSink;
  metrics: MemoryMetrics;
  /** Opens connector stream `id` to `web` and accepts it with `hostWindow` of credit; returns the host's id. */
  open(id: number, hostWindow?: number): Promise<number>;
  /** Payload bytes the host received on stream `hostId`, in order. */
  delivered(hostId: number): Buffer;
  events(code: string): AuditEvent[];
}

/** A router with alice's tunnel `web` hosted (under `allow`, if any) and a connector. */
async function gate(t: TestContext, allow?: AllowableProtocol[]): Promise<Gate> {
  const audit = new MemoryAuditSink();
  const metrics = new MemoryMetrics();
  const { router, ports } = createTestRouter(t, {}, { audit, metrics });
  await ports.store.claimTunnel('web', ALICE.id);
  const host = new FakeTransport();
  const connector = new FakeTransport();
  router.attach(host, 'host', ALICE, 'web', 'local', allow ? { allow } : undefined);
  router.attach(connector, 'connector', ALICE);
  await settle();
  return {
    host,
    connector,
    audit,
    metrics,
    async open(id, hostWindow = 65_536) {
      connector.receive(encodeOpen(id, 65_536, 'web'));
      await settle();
      const open = framesOf(host, FrameType.OPEN).at(-1)!;
      host.receive(encodeOpenOk(open.streamId, hostWindow));
      return open.streamId;
    },
    delivered: (hostId) => Buffer.concat(framesOf(host, FrameType.DATA).filter((f) => f.streamId === hostId).map((f) => f.payload)),
    events: (code) => audit.events().filter((e) => e.code === code),
  };
}

test('without an allow-list every stream is observed only: each DATA frame goes on as it comes', async (t) => {
  const g = await gate(t);
  const hostId = await g.open(1);
  // The banner in two pieces: the first is undecided, and still forwarded at once.
  g.connector.receive(encodeData(1, SSH_BANNER.subarray(0, 10)));
  assert.deepEqual(g.delivered(hostId), SSH_BANNER.subarray(0, 10));
  g.connector.receive(encodeData(1, SSH_BANNER.subarray(10)));
  g.connector.receive(encodeData(1, KEXINIT, true));
  assert.deepEqual(g.delivered(hostId), Buffer.concat([SSH_BANNER, KEXINIT]));
  assert.equal(framesOf(g.host, FrameType.DATA).length, 3);
  assert.equal(g.metrics.value('tether_streams_by_protocol_total', { protocol: 'ssh' }), 1);

  g.host.receive(encodeData(hostId, Buffer.from('SSH-2.0-srv\r\n'), true));
  const [closed] = g.events(AuditEventCode.STREAM_CLOSED);
  assert.deepEqual(closed.detail, { up: SSH_BANNER.length + KEXINIT.length, down: 13, durationMs: closed.detail!.durationMs, protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' });
});

test('with an allow-list, an allowed stream is held until known, then delivered intact and in order', async (t) => {
  const g = await gate(t, ['ssh']);
  const hostId = await g.open(1);
  g.connector.receive(encodeData(1, SSH_BANNER.subarray(0, 5)));
  g.connector.receive(encodeData(1, SSH_BANNER.subarray(5, 20)));
  // Not known yet: nothing reached the host.
  assert.equal(g.delivered(hostId).length, 0);
  g.connector.receive(encodeData(1, Buffer.concat([SSH_BANNER.subarray(20), KEXINIT])));
  g.connector.receive(encodeData(1, Buffer.from('more')));
  assert.deepEqual(g.delivered(hostId), Buffer.concat([SSH_BANNER, KEXINIT, Buffer.from('more')]));
  assert.equal(framesOf(g.connector, FrameType.RESET).length, 0);
  assert.equal(g.metrics.value('tether_streams_by_protocol_total', { protocol: 'ssh' }), 1);
  // A second stream whose first frame decides goes straight through.
  const second = await g.open(3);
  g.connector.receive(encodeData(3, SSH_BANNER));
  assert.deepEqual(g.delivered(second), SSH_BANNER);
});

test('with an allow-list, a stream of another protocol is refused with its code and no byte reaches the host', async (t) => {
  const table: [string, AllowableProtocol[], Buffer[], string, Record<string, string>][] = [
    ['TLS on an ssh tunnel', ['ssh'], [clientHello('example.com').subarray(0, 30), clientHello('example.com').subarray(30)], 'tunnel web carries only ssh; this stream speaks TLS (SNI example.com)', { protocol: 'tls', sni: 'example.com' }],
    ['HTTP on an ssh tunnel', ['ssh'], [Buffer.from('GET /private HTTP/1.1\r\nHost: x\r\n\r\n')], 'tunnel web carries only ssh; this stream speaks HTTP/1.x (GET)', { protocol: 'http1', method: 'GET' }],
    ['SSH on an http tunnel', ['http'], [SSH_BANNER], 'tunnel web carries only http; this stream speaks SSH (OpenSSH_9.2p1)', { protocol: 'ssh', sshVersion: 'OpenSSH_9.2p1 Debian-2+deb12u3' }],
    ['unknown bytes on a tls tunnel', ['tls', 'ssh'], [Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])], 'tunnel web carries only tls, ssh; this stream speaks no protocol the relay recognises', { protocol: 'unknown' }],
    ['an undecided start ended by FIN', ['ssh'], [Buffer.from('SSH-2.0-Open')], 'tunnel web carries only ssh; this stream speaks no protocol the relay recognises', { protocol: 'unknown' }],
  ];
  for (const [name, allow, chunks, message, detail] of table) {
    await t.test(name, async (t) => {
      const g = await gate(t, allow);
      const hostId = await g.open(1);
      chunks.forEach((chunk, i) => g.connector.receive(encodeData(1, chunk, name.includes('FIN') && i === chunks.length - 1)));
      await settle();
      const [reset] = framesOf(g.connector, FrameType.RESET);
      assert.deepEqual([reset?.streamId, reset?.code, reset?.message], [1, WireCode.PROTOCOL_NOT_ALLOWED, message]);
      assert.equal(g.delivered(hostId).length, 0, 'no byte reached the host');
      assert.equal(framesOf(g.host, FrameType.RESET)[0]?.code, WireCode.PROTOCOL_NOT_ALLOWED);
      const [refused] = g.events(AuditEventCode.PROTOCOL_REFUSED);
      assert.deepEqual([refused?.reason, refused?.resource, refused?.subject?.name, refused?.detail], [message, 'tunnel:web', 'alice', { address: 'local', ...detail }]);
      assert.deepEqual(g.events(AuditEventCode.STREAM_CLOSED)[0]?.detail?.protocol, detail.protocol);
      assert.equal(g.metrics.value('tether_streams_by_protocol_total', { protocol: detail.protocol }), 1);
      assert.equal(g.metrics.value('tether_streams_reset_total', { code: String(WireCode.PROTOCOL_NOT_ALLOWED), by: 'relay' }), 1);
      // Later frames of the refused stream are not carried either.
      g.connector.receive(encodeData(1, Buffer.from('after')));
      assert.equal(g.delivered(hostId).length, 0);
    });
  }
});

test('a stream whose opener sends nothing is not refused: the host speaks first, and its FIN alone passes', async (t) => {
  const g = await gate(t, ['ssh']);
  const hostId = await g.open(1);
  g.host.receive(encodeData(hostId, Buffer.from('220 smtp.example ESMTP\r\n')));
  assert.equal(framesOf(g.connector, FrameType.DATA)[0]?.payload.toString(), '220 smtp.example ESMTP\r\n');
  g.connector.receive(encodeData(1, Buffer.alloc(0), true));
  assert.equal(framesOf(g.host, FrameType.DATA).filter((f) => f.streamId === hostId && f.fin).length, 1);
  assert.equal(framesOf(g.connector, FrameType.RESET).length, 0);
  assert.equal(g.events(AuditEventCode.PROTOCOL_REFUSED).length, 0);
});

test('a held start never exceeds the bound: undecided bytes at the bound are unknown', async (t) => {
  const g = await gate(t, ['ssh', 'http']);
  const hostId = await g.open(1);
  // A request line that never ends: held up to the bound, then refused.
  g.connector.receive(encodeData(1, Buffer.from('GET /')));
  for (let i = 0; i < 3; i++) g.connector.receive(encodeData(1, Buffer.alloc(6000, 0x61)));
  assert.equal(g.delivered(hostId).length, 0);
  assert.equal(framesOf(g.connector, FrameType.RESET)[0]?.code, WireCode.PROTOCOL_NOT_ALLOWED);

  // And allowed unknown: what was held goes on once the bound decides.
  const h = await gate(t, ['unknown']);
  const other = await h.open(1);
  const sent = [Buffer.from('GET /'), Buffer.alloc(9000, 0x61), Buffer.alloc(9000, 0x62)];
  for (const chunk of sent) h.connector.receive(encodeData(1, chunk));
  assert.deepEqual(h.delivered(other), Buffer.concat(sent));
});

test('a held start that uses up the credit the host gave is decided on what came (the host renews credit only for bytes it sees)', async (t) => {
  const g = await gate(t, ['unknown']);
  const hostId = await g.open(1, 20);
  const start = Buffer.from('GET /aaaaaaaaaaaaaaa');
  assert.equal(start.length, 20);
  g.connector.receive(encodeData(1, start.subarray(0, 12)));
  assert.equal(g.delivered(hostId).length, 0, 'held while credit is left');
  g.connector.receive(encodeData(1, start.subarray(12)));
  assert.deepEqual(g.delivered(hostId), start);

  const h = await gate(t, ['http']);
  const other = await h.open(1, 20);
  h.connector.receive(encodeData(1, start));
  await settle();
  assert.equal(framesOf(h.connector, FrameType.RESET)[0]?.code, WireCode.PROTOCOL_NOT_ALLOWED);
  assert.equal(h.delivered(other).length, 0);
});

test('what is held for one connector link is bounded: past the budget a start is decided on what came', async (t) => {
  const g = await gate(t, ['http']);
  // Starts that could still be a request line, each under the classifier's bound.
  const start = Buffer.concat([Buffer.from('GET /'), Buffer.alloc(15_000, 0x61)]);
  const fit = Math.floor(DEFAULT_HELD_BYTES_PER_LINK / start.length);
  const ids = Array.from({ length: fit + 5 }, (_, i) => 2 * i + 1);
  for (const id of ids) await g.open(id);
  for (const id of ids) g.connector.receive(encodeData(id, start));
  await settle();
  assert.deepEqual(framesOf(g.connector, FrameType.RESET).map((f) => [f.streamId, f.code]), ids.slice(fit).map((id) => [id, WireCode.PROTOCOL_NOT_ALLOWED]));
  assert.equal(framesOf(g.host, FrameType.DATA).length, 0);
  // The held ones still complete their request lines and go through.
  g.connector.receive(encodeData(1, Buffer.from(' HTTP/1.1\r\n\r\n')));
  assert.equal(framesOf(g.host, FrameType.DATA).map((f) => f.payload.length).reduce((a, b) => a + b, 0), start.length + 13);
});
