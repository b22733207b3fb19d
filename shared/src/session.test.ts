/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { encodeData, encodeDatagram, encodeGoAway, encodeOpenErr, encodeOpenOk, encodePing, encodePong, encodeReset, encodeWindow } from './codec.js';
import { CloseCode, ErrorCode, TetherError, WireCode, type ErrorCodeString, type WireCodeName } from './errors.js';
import { FrameType, MAX_OPEN_METADATA_BYTES } from './frame.js';
import { MuxSession, type SessionOptions } from './session.js';
import type { MuxStream } from './stream.js';
import { createSessionPair } from './transport-pair.js';
import { drain, openPayload, Prng, rawFrame, SessionHarness, settle, sha256, writeAll } from './test-support/testing.js';

const open = (id: number, window = 1_000_000, tunnel = 'box'): Buffer => rawFrame(FrameType.OPEN, 0, id, openPayload(window, tunnel));

/** Resolves with the error a stream closes with (undefined for a clean close). */
function closed(stream: MuxStream): Promise<TetherError | undefined> {
  if (stream.state === 'closed') return Promise.resolve(stream.error);
  return new Promise((resolve) => stream.once('close', resolve));
}

/** A server harness that accepts every incoming stream and keeps them by id. */
function acceptingServer(options: ConstructorParameters<typeof SessionHarness>[0] = {}): {
  h: SessionHarness;
  streams: Map<number, MuxStream>;
} {
  const h = new SessionHarness(options);
  const streams = new Map<number, MuxStream>();
  h.session.on('stream', (s) => {
    streams.set(s.id, s);
    s.accept();
  });
  return { h, streams };
}

/** Records the error a session closes with. */
function watchClose(session: MuxSession): { closed: boolean; err: TetherError | undefined } {
  const seen = { closed: false, err: undefined as TetherError | undefined };
  session.once('close', (err) => {
    seen.closed = true;
    seen.err = err;
  });
  return seen;
}

describe('open, accept, reject', () => {
  test('an accepted stream opens on both sides with the request the opener sent', async () => {
    const { a, b } = createSessionPair();
    const requests: { tunnel: string; metadata: string }[] = [];
    b.on('stream', (s, req) => {
      requests.push({ tunnel: req.tunnel, metadata: req.metadata.toString() });
      s.accept();
    });
    const s = a.openStream('my-box', Buffer.from('{"port":22}'));
    assert.equal(s.state, 'opening');
    assert.equal(s.id % 2, 1, 'the client opens odd ids');
    await once(s, 'open');
    assert.equal(s.state, 'open');
    assert.deepEqual(requests, [{ tunnel: 'my-box', metadata: '{"port":22}' }]);
    assert.equal(b.listStreams()[0].id, s.id);
    a.destroy();
  });

  test('the server opens even ids', async () => {
    const { a, b } = createSessionPair();
    a.on('stream', (s) => s.accept());
    const ids = [b.openStream('x'), b.openStream('x')].map((s) => s.id);
    assert.deepEqual(ids, [2, 4]);
    await settle(() => b.listStreams().every((s) => s.state === 'open'));
    a.destroy();
  });

  const rejections: { wire: WireCodeName; code: ErrorCodeString; retryable: boolean }[] = [
    { wire: 'TUNNEL_UNKNOWN', code: ErrorCode.TUNNEL_UNKNOWN, retryable: false },
    { wire: 'TUNNEL_FORBIDDEN', code: ErrorCode.TUNNEL_FORBIDDEN, retryable: false },
    { wire: 'TUNNEL_OFFLINE', code: ErrorCode.TUNNEL_OFFLINE, retryable: true },
    { wire: 'TARGET_REFUSED', code: ErrorCode.TARGET_REFUSED, retryable: false },
    { wire: 'TARGET_UNREACHABLE', code: ErrorCode.TARGET_UNREACHABLE, retryable: false },
    { wire: 'TIMEOUT', code: ErrorCode.TIMEOUT, retryable: true },
    { wire: 'INVALID_TUNNEL_NAME', code: ErrorCode.INVALID_TUNNEL_NAME, retryable: false },
  ];
  for (const r of rejections) {
    test(`a rejection with ${r.wire} closes the opener with ${r.code}`, async () => {
      const { a, b } = createSessionPair();
      b.on('stream', (s) => s.reject(WireCode[r.wire], `rejected: ${r.wire}`));
      const err = await closed(a.openStream('box'));
      assert.ok(err);
      assert.equal(err.code, r.code);
      assert.equal(err.retryable, r.retryable);
      assert.equal(err.message, `rejected: ${r.wire}`);
      assert.equal(a.streamCount, 0);
      assert.equal(b.streamCount, 0);
      assert.equal(a.closed, false, 'a refused stream leaves the session up');
      a.destroy();
    });
  }

  test('with nobody listening for streams, OPEN is refused with TUNNEL_OFFLINE', () => {
    const h = new SessionHarness();
    h.receive(open(1));
    assert.deepEqual(h.take(), [{ type: FrameType.OPEN_ERR, streamId: 1, code: WireCode.TUNNEL_OFFLINE, message: 'nobody accepts streams here' }]);
    assert.equal(h.session.streamCount, 0);
  });

  const badOpens: { name: string; run: (s: MuxSession) => void; code: ErrorCodeString }[] = [
    { name: 'invalid tunnel name', run: (s) => s.openStream('Bad Name'), code: ErrorCode.INVALID_TUNNEL_NAME },
    { name: 'tunnel name of 300 characters', run: (s) => s.openStream('a'.repeat(300)), code: ErrorCode.INVALID_TUNNEL_NAME },
    { name: 'metadata over the limit', run: (s) => s.openStream('box', Buffer.alloc(MAX_OPEN_METADATA_BYTES + 1)), code: ErrorCode.INVALID_ARGUMENT },
  ];
  for (const c of badOpens) {
    test(`openStream with ${c.name} throws ${c.code} and leaves the connection up`, async () => {
      const { a, b } = createSessionPair();
      b.on('stream', (s) => s.accept());
      const bystander = a.openStream('box');
      await once(bystander, 'open');
      assert.throws(() => c.run(a), (err: unknown) => err instanceof TetherError && err.code === c.code);
      assert.equal(a.streamCount, 1, 'no stream is left behind');
      await settle(undefined, 5);
      assert.equal(b.closed, false);
      assert.equal(bystander.state, 'open');
      a.destroy();
    });
  }
});

describe('data', () => {
  test('many parallel streams of random sizes arrive intact both ways (SHA-256)', { timeout: 30_000 }, async () => {
    const seed = 20_261_127;
    const rng = new Prng(seed);
    const { a, b } = createSessionPair({
      a: { initialWindow: 64 * 1024, maxWindow: 256 * 1024, maxFrameSize: 16 * 1024, streamHighWaterMark: 32 * 1024 },
      b: { initialWindow: 32 * 1024, maxWindow: 128 * 1024, maxFrameSize: 16 * 1024, streamHighWaterMark: 16 * 1024 },
      highWaterMark: 128 * 1024,
    });
    const count = 24;
    const up = Array.from({ length: count }, () => rng.bytes(rng.pick([0, 1, 100, rng.int(300_000), rng.int(600_000)])));
    const down = Array.from({ length: count }, () => rng.bytes(rng.pick([0, 1, 100, rng.int(300_000), rng.int(600_000)])));
    const serverSide: Promise<{ sha256: string; length: number; error: Error | undefined }>[] = [];
    const writes: Promise<number>[] = [];
    b.on('stream', (s, req) => {
      const i = Number(req.metadata.toString());
      serverSide[i] = drain(s);
      s.accept();
      writes.push(writeAll(s, down[i], 1 + rng.int(40_000)));
    });
    const clientSide = up.map((data, i) => {
      const s = a.openStream('box', Buffer.from(String(i)));
      writes.push(writeAll(s, data, 1 + rng.int(40_000)));
      return drain(s);
    });
    const received = await Promise.all(clientSide);
    const waits = await Promise.all(writes);
    const sent = await Promise.all(serverSide);
    for (let i = 0; i < count; i++) {
      assert.equal(sent[i].error, undefined, `stream ${i} (seed ${seed})`);
      assert.equal(sent[i].length, up[i].length);
      assert.equal(sent[i].sha256, sha256(up[i]), `client → server stream ${i} (seed ${seed})`);
      assert.equal(received[i].sha256, sha256(down[i]), `server → client stream ${i} (seed ${seed})`);
    }
    assert.ok(waits.some((w) => w > 0), 'some writer met backpressure and waited for drain');
    await settle(() => a.streamCount === 0 && b.streamCount === 0);
    assert.equal(a.streamCount, 0, 'every stream closed after FIN both ways');
    assert.equal(b.streamCount, 0);
    a.destroy();
  });

  for (const first of ['opener', 'acceptor'] as const) {
    test(`half-close: the ${first} ends first and the other side keeps sending`, async () => {
      const { a, b } = createSessionPair();
      const accepted = once(b, 'stream') as Promise<[MuxStream]>;
      b.on('stream', (s) => s.accept());
      const sa = a.openStream('box');
      const [sb] = await accepted;
      await once(sa, 'open');
      const [early, late] = first === 'opener' ? [sa, sb] : [sb, sa];
      const earlyGot = drain(early);
      const lateGot = drain(late);
      early.write(Buffer.from('request'));
      early.end();
      assert.equal(early.state, 'half-closed-local');
      await once(late, 'end');
      assert.equal(late.state, 'half-closed-remote');
      late.write(Buffer.from('response after your FIN'));
      late.write(Buffer.from(', and more'));
      late.end();
      assert.equal((await lateGot).sha256, sha256(Buffer.from('request')));
      assert.equal((await earlyGot).sha256, sha256(Buffer.from('response after your FIN, and more')));
      await settle(() => sa.state === 'closed' && sb.state === 'closed');
      assert.equal(sa.error, undefined);
      assert.equal(sb.error, undefined);
      a.destroy();
    });
  }

  test('reset closes both ends with the code', async () => {
    const { a, b } = createSessionPair();
    const accepted = once(b, 'stream') as Promise<[MuxStream]>;
    b.on('stream', (s) => s.accept());
    const sa = a.openStream('box');
    const [sb] = await accepted;
    await once(sa, 'open');
    sa.write(Buffer.alloc(1000));
    sa.reset(WireCode.TARGET_UNREACHABLE, 'target went away');
    assert.equal(sa.error?.code, ErrorCode.TARGET_UNREACHABLE);
    const err = await closed(sb);
    assert.equal(err?.code, ErrorCode.TARGET_UNREACHABLE);
    assert.equal(err?.message, 'target went away');
    assert.equal(b.streamCount, 0);
    a.destroy();
  });

  test('a DATAGRAM is handed out with its flow id', () => {
    const h = new SessionHarness();
    const got: [number, string][] = [];
    h.session.on('datagram', (flow, payload) => got.push([flow, payload.toString()]));
    h.receive(encodeDatagram(77, Buffer.from('udp')), encodeDatagram(4, Buffer.alloc(0)));
    assert.deepEqual(got, [[77, 'udp'], [4, '']]);
    assert.deepEqual(h.take(), []);
  });
});

describe('datagrams', () => {
  test('sendDatagram sends on an open flow and drops (counted) when it is not open, too big or the transport is congested', async () => {
    const { h } = acceptingServer({ maxFrameSize: 2048 });
    h.receive(open(1), open(3));
    h.take();
    const cases: [string, () => boolean, boolean][] = [
      ['open flow', () => h.session.sendDatagram(1, Buffer.from('dns')), true],
      ['no such flow', () => h.session.sendDatagram(5, Buffer.from('x')), false],
      ['larger than a frame', () => h.session.sendDatagram(1, Buffer.alloc(2049)), false],
    ];
    for (const [name, send, sent] of cases) assert.equal(send(), sent, name);
    await settle();
    assert.deepEqual(h.take().map((f) => [f.type, f.streamId]), [[FrameType.DATAGRAM, 1]]);

    // The transport reports congestion: datagrams are dropped, not queued, until it drains.
    h.accepting = false;
    assert.equal(h.session.sendDatagram(1, Buffer.from('fills it')), true);
    await settle();
    assert.equal(h.session.sendDatagram(1, Buffer.from('dropped')), false);
    assert.equal(h.session.sendDatagram(3, Buffer.from('dropped too')), false);
    h.accepting = true;
    h.session.transportDrained();
    assert.equal(h.session.sendDatagram(3, Buffer.from('after drain')), true);
    await settle();
    assert.deepEqual(h.take().map((f) => (f.type === FrameType.DATAGRAM ? f.payload.toString() : f.type)), ['fills it', 'after drain']);
    assert.deepEqual([h.session.datagramsSent, h.session.datagramsDropped], [3, 4]);
  });

  test('datagrams sent in one turn leave in one message, never larger than a frame', async () => {
    const messages: number[] = [];
    const session = new MuxSession({ role: 'server', maxFrameSize: 1000, send: (m) => messages.push(m.length) > 0 });
    session.on('stream', (s) => s.accept());
    session.receive(open(1));
    messages.length = 0;
    for (let i = 0; i < 10; i++) session.sendDatagram(1, Buffer.alloc(290));
    await settle();
    // 300 bytes a frame: three to a message of at most 1,010 bytes.
    assert.deepEqual(messages, [900, 900, 900, 300]);
  });

  test('a datagram uses no stream credit, and a flow that closed drops what is sent on it', async () => {
    // The host grants a 4 KiB window; 600 KB of datagrams still go (and stay under the transport's mark).
    const { a, b } = createSessionPair({ b: { initialWindow: 4096 } });
    b.on('stream', (s) => s.accept());
    const flow = a.openStream('box');
    assert.equal(a.sendDatagram(flow.id, Buffer.from('too early')), false);
    await once(flow, 'open');
    const got: string[] = [];
    b.on('datagram', (id, payload) => got.push(`${id}:${payload.length}`));
    // Far more than the stream's window: datagrams are not flow-controlled.
    for (let i = 0; i < 10; i++) assert.equal(a.sendDatagram(flow.id, Buffer.alloc(60_000)), true, `datagram ${i}`);
    await settle(() => got.length === 10);
    assert.equal(got.length, 10);
    assert.equal(got[0], `${flow.id}:60000`);
    flow.reset();
    assert.equal(a.sendDatagram(flow.id, Buffer.from('late')), false);
    a.destroy();
  });
});

describe('flow control', () => {
  test('DATA past the window resets the stream with FLOW_CONTROL; the session stays up', () => {
    const { h, streams } = acceptingServer({ initialWindow: 1000 });
    h.receive(open(1));
    h.take();
    const got: number[] = [];
    streams.get(1)?.on('data', (c) => got.push(c.length));
    h.receive(encodeData(1, Buffer.alloc(600)), encodeData(1, Buffer.alloc(400)));
    assert.deepEqual(h.take(), []);
    h.receive(encodeData(1, Buffer.alloc(1)));
    assert.deepEqual(got, [600, 400]);
    const [reset] = h.take();
    assert.equal(reset.type, FrameType.RESET);
    assert.equal(reset.streamId, 1);
    assert.equal(reset.code, WireCode.FLOW_CONTROL);
    assert.equal(streams.get(1)?.error?.code, ErrorCode.FLOW_CONTROL);
    assert.equal(h.session.closed, false);
    assert.equal(h.session.streamCount, 0);
  });

  test('a slow reader bounds the sender to exactly one initial window', async () => {
    const initialWindow = 64 * 1024;
    const { a, b } = createSessionPair({ a: { initialWindow }, b: { initialWindow } });
    let receivedAtB = 0;
    b.on('stream', (s) => {
      s.on('data', (c) => (receivedAtB += c.length)); // never calls consume()
      s.accept();
    });
    const s = a.openStream('box');
    const total = 2 * 1024 * 1024;
    s.write(Buffer.alloc(total, 1));
    await settle(undefined, 100);
    assert.equal(receivedAtB, initialWindow);
    assert.equal(s.bytesSent, initialWindow);
    assert.equal(s.queuedBytes, total - initialWindow);
    assert.ok(b.bytesIn < initialWindow + 4096, `b received ${b.bytesIn} bytes on the wire`);
    a.destroy();
  });

  test('the receive window grows when the RTT shows the window is the bottleneck', () => {
    const { h, streams } = acceptingServer({ initialWindow: 4000, maxWindow: 16_000 });
    h.clock = 0;
    h.session.ping();
    const ping = h.take()[0];
    assert.equal(ping.type, FrameType.PING);
    h.clock = 10;
    h.receive(encodePong(ping.data));
    assert.equal(h.session.rttMs, 10);
    h.receive(open(1));
    h.take();
    const s = streams.get(1);
    assert.ok(s);
    h.receive(encodeData(1, Buffer.alloc(1000)));
    h.clock = 11; // a quarter window consumed within 1 ms, RTT 10 ms
    s.consume(1000);
    assert.equal(s.receiveWindow, 8000);
    const [update] = h.take();
    assert.equal(update.type, FrameType.WINDOW);
    assert.equal(update.increment, 1000 + 8000 - 4000);
  });
});

describe('protocol errors', () => {
  test('DATA for an unknown stream is answered with RESET UNKNOWN_STREAM', () => {
    const h = new SessionHarness();
    const seen = watchClose(h.session);
    h.receive(encodeData(9, Buffer.from('who?')));
    assert.deepEqual(h.take(), [{ type: FrameType.RESET, streamId: 9, code: WireCode.UNKNOWN_STREAM, message: 'no stream 9' }]);
    // Late WINDOW, RESET, OPEN_OK and OPEN_ERR for a stream that is gone are ignored quietly.
    h.receive(encodeWindow(9, 10), encodeReset(9, 1, ''), encodeOpenOk(9, 10), encodeOpenErr(9, 1, ''));
    assert.deepEqual(h.take(), []);
    assert.equal(seen.closed, false);
  });

  const outOfSequence: { name: string; role: 'client' | 'server'; ids: number[] }[] = [
    { name: 'wrong parity at the server (even id from the client)', role: 'server', ids: [2] },
    { name: 'wrong parity at the client (odd id from the server)', role: 'client', ids: [1] },
    { name: 'id reused', role: 'server', ids: [1, 1] },
    { name: 'id going backwards', role: 'server', ids: [5, 3] },
    { name: 'id reused after the stream closed', role: 'server', ids: [1, 3, 1] },
  ];
  for (const c of outOfSequence) {
    test(`OPEN with ${c.name} closes the session with PROTOCOL_ERROR`, () => {
      const h = new SessionHarness({ role: c.role });
      h.session.on('stream', (s) => s.accept());
      const seen = watchClose(h.session);
      const streams: MuxStream[] = [];
      h.session.on('stream', (s) => streams.push(s));
      for (const id of c.ids) h.receive(open(id));
      assert.equal(seen.closed, true);
      assert.equal(seen.err?.code, ErrorCode.PROTOCOL_ERROR);
      assert.equal(seen.err?.closeCode, CloseCode.PROTOCOL_ERROR);
      assert.ok(streams.every((s) => s.state === 'closed' && s.error?.code === ErrorCode.PROTOCOL_ERROR));
    });
  }

  test('OPEN ids may skip ahead', () => {
    const { h, streams } = acceptingServer();
    h.receive(open(1), open(7), open(9));
    assert.deepEqual([...streams.keys()], [1, 7, 9]);
    assert.equal(h.session.closed, false);
  });

  test('frames after a protocol error in the same message are not acted on', () => {
    const h = new SessionHarness();
    const events: string[] = [];
    h.session.on('stream', (s) => {
      events.push(`stream ${s.id}`);
      s.accept();
    });
    h.session.on('close', () => events.push('close'));
    // OPEN 2 has the wrong parity and closes the session; OPEN 3 and the PING come after it.
    h.receive(open(1), open(2), open(3), encodePing(Buffer.alloc(8)));
    assert.deepEqual(events, ['stream 1', 'close']);
    assert.equal(h.session.streamCount, 0);
    assert.deepEqual(h.take().map((f) => f.type), [FrameType.OPEN_OK], 'no PONG from a closed session');
  });

  const wrongState: { name: string; role: 'client' | 'server'; frames: (h: SessionHarness) => Buffer[] }[] = [
    { name: 'OPEN_OK for a stream the peer opened', role: 'server', frames: () => [open(1), encodeOpenOk(1, 100)] },
    {
      name: 'a second OPEN_OK',
      role: 'client',
      frames: (h) => {
        const id = h.session.openStream('box').id;
        return [encodeOpenOk(id, 100), encodeOpenOk(id, 100)];
      },
    },
    {
      name: 'OPEN_ERR after OPEN_OK',
      role: 'client',
      frames: (h) => {
        const id = h.session.openStream('box').id;
        return [encodeOpenOk(id, 100), encodeOpenErr(id, 1, 'late')];
      },
    },
  ];
  for (const c of wrongState) {
    test(`${c.name} closes the session with PROTOCOL_ERROR`, () => {
      const h = new SessionHarness({ role: c.role });
      h.session.on('stream', () => undefined); // leave peer streams pending
      const seen = watchClose(h.session);
      for (const f of c.frames(h)) h.receive(f);
      assert.equal(seen.err?.code, ErrorCode.PROTOCOL_ERROR);
    });
  }

  const decodeFailures: { name: string; message: Buffer; code: ErrorCodeString; closeCode: number }[] = [
    { name: 'an oversize frame', message: rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(2000)), code: ErrorCode.FRAME_TOO_LARGE, closeCode: CloseCode.MESSAGE_TOO_BIG },
    { name: 'an unknown frame type', message: rawFrame(42, 0, 1), code: ErrorCode.UNKNOWN_FRAME_TYPE, closeCode: CloseCode.PROTOCOL_ERROR },
    { name: 'a truncated frame', message: encodeData(1, Buffer.alloc(10)).subarray(0, 15), code: ErrorCode.FRAME_TRUNCATED, closeCode: CloseCode.PROTOCOL_ERROR },
  ];
  for (const c of decodeFailures) {
    test(`${c.name} closes the session and its streams with ${c.code}`, () => {
      const { h, streams } = acceptingServer({ maxFrameSize: 1024 });
      const seen = watchClose(h.session);
      h.receive(open(1));
      h.receive(c.message);
      assert.equal(seen.err?.code, c.code);
      assert.equal(seen.err?.closeCode, c.closeCode);
      assert.equal(streams.get(1)?.error?.code, c.code);
      h.take();
      h.receive(open(3));
      assert.deepEqual(h.take(), [], 'a closed session ignores further input');
    });
  }
});

describe('stream limit', () => {
  test('an OPEN over the limit is refused with STREAM_LIMIT; a slot freed is reused', () => {
    const { h, streams } = acceptingServer({ maxStreams: 2 });
    h.receive(open(1), open(3));
    h.take();
    h.receive(open(5));
    assert.deepEqual(h.take().map((f) => f.type === FrameType.OPEN_ERR && [f.streamId, f.code]), [[5, WireCode.STREAM_LIMIT]]);
    assert.equal(streams.has(5), false);
    streams.get(1)?.reset();
    h.receive(open(7));
    assert.equal(streams.get(7)?.state, 'open');
  });

  test('openStream over the limit throws STREAM_LIMIT', () => {
    const h = new SessionHarness({ role: 'client', maxStreams: 1 });
    h.session.openStream('box');
    assert.throws(() => h.session.openStream('box'), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.STREAM_LIMIT);
  });
});

describe('GOAWAY', () => {
  test('remote: streams above lastStreamId fail, the rest carry on, new opens throw GOING_AWAY', () => {
    const h = new SessionHarness({ role: 'client' });
    const [s1, s3, s5] = [h.session.openStream('box'), h.session.openStream('box'), h.session.openStream('box')];
    assert.deepEqual([s1.id, s3.id, s5.id], [1, 3, 5]);
    const events: [number, string][] = [];
    h.session.on('goaway', (last, err) => events.push([last, err.code]));
    h.receive(encodeOpenOk(1, 100), encodeGoAway(3, WireCode.GOING_AWAY, 'relay restarting'));
    assert.deepEqual(events, [[3, ErrorCode.GOING_AWAY]]);
    assert.equal(s5.state, 'closed');
    assert.equal(s5.error?.code, ErrorCode.GOING_AWAY);
    assert.equal(s5.error?.retryable, true);
    assert.equal(s1.state, 'open');
    assert.equal(s3.state, 'opening');
    h.receive(encodeOpenOk(3, 100));
    assert.equal(s3.state, 'open');
    assert.throws(() => h.session.openStream('box'), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.GOING_AWAY);
    assert.equal(h.session.closed, false);
  });

  test('remote GOAWAY with NO_ERROR still reads as GOING_AWAY', () => {
    const h = new SessionHarness({ role: 'client' });
    h.receive(encodeGoAway(0, WireCode.NO_ERROR, ''));
    assert.equal(h.session.remoteGoAway?.code, ErrorCode.GOING_AWAY);
  });

  test('local: GOAWAY names the last peer stream, and later OPENs are refused', async () => {
    const { h, streams } = acceptingServer();
    h.receive(open(1), open(3));
    h.take();
    h.session.goAway();
    h.session.goAway();
    assert.deepEqual(h.take(), [{ type: FrameType.GOAWAY, streamId: 0, lastStreamId: 3, code: WireCode.GOING_AWAY, message: 'going away' }]);
    h.receive(open(5));
    assert.deepEqual(h.take().map((f) => f.type === FrameType.OPEN_ERR && [f.streamId, f.code]), [[5, WireCode.GOING_AWAY]]);
    assert.equal(streams.has(5), false);
    // Streams accepted before GOAWAY keep working.
    h.receive(encodeData(3, Buffer.from('still here')));
    streams.get(3)?.write(Buffer.from('reply'));
    await new Promise(setImmediate); // small writes leave at the end of the event-loop turn
    assert.deepEqual(h.take().map((f) => f.type === FrameType.DATA && f.payload.toString()), ['reply']);
  });

  test('over a pair: after the server sends GOAWAY the client cannot open streams', async () => {
    const { a, b } = createSessionPair();
    b.on('stream', (s) => s.accept());
    const before = a.openStream('box');
    await once(before, 'open');
    b.goAway();
    await once(a, 'goaway');
    assert.throws(() => a.openStream('box'), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.GOING_AWAY);
    assert.equal(before.state, 'open');
    a.destroy();
  });
});

describe('PING and PONG', () => {
  test('PONG updates the RTT estimate (smoothed, last and min)', () => {
    const h = new SessionHarness({ role: 'client' });
    const samples: number[] = [];
    h.session.on('rtt', (ms) => samples.push(ms));
    h.clock = 100;
    h.session.ping();
    h.clock = 130;
    const [p1] = h.take();
    assert.equal(p1.type, FrameType.PING);
    h.receive(encodePong(p1.data));
    assert.equal(h.session.rttMs, 30);
    h.clock = 200;
    h.session.ping();
    h.clock = 270;
    const [p2] = h.take();
    assert.equal(p2.type, FrameType.PING);
    h.receive(encodePong(p2.data));
    assert.deepEqual(samples, [30, 70]);
    assert.equal(h.session.rttMs, 30 * 0.875 + 70 * 0.125);
    assert.equal(h.session.lastRttMs, 70);
    assert.equal(h.session.minRttMs, 30);
    // An unknown or repeated PONG changes nothing.
    h.receive(encodePong(p2.data), encodePong(Buffer.alloc(8, 0xee)));
    assert.deepEqual(samples, [30, 70]);
  });

  test('PING is answered with a PONG carrying the same data', () => {
    const h = new SessionHarness();
    const data = Buffer.from('01234567');
    h.receive(encodePing(data));
    assert.deepEqual(h.take(), [{ type: FrameType.PONG, streamId: 0, data }]);
  });

  test('over a pair, ping() yields an RTT sample', async () => {
    const { a } = createSessionPair();
    assert.equal(a.rttMs, 0);
    const rtt = once(a, 'rtt') as Promise<[number]>;
    a.ping();
    const [ms] = await rtt;
    assert.ok(ms > 0);
    assert.equal(a.rttMs, ms);
    a.destroy();
  });
});

describe('congestion', () => {
  test("a congested transport holds what streams write; 'drain' follows transportDrained() once a stream's queue filled", async () => {
    const { h, streams } = acceptingServer();
    h.receive(open(1));
    h.take();
    const s = streams.get(1);
    assert.ok(s);
    let drains = 0;
    s.on('drain', () => drains++);
    h.accepting = false;
    assert.equal(s.write(Buffer.from('first')), true, 'queued; it leaves at the end of the turn');
    await new Promise(setImmediate);
    assert.equal(h.session.congested, true, 'the transport said it is full');
    assert.equal(s.write(Buffer.from('second')), true, "the stream's own queue has room");
    await new Promise(setImmediate);
    assert.deepEqual(h.take().map((f) => f.type === FrameType.DATA && f.payload.toString()), ['first'], 'nothing more is sent while congested');
    assert.equal(s.write(Buffer.alloc(h.session.options.streamHighWaterMark)), false, 'the queue is full now');
    assert.equal(drains, 0);
    h.accepting = true;
    h.session.transportDrained();
    assert.equal(drains, 1);
    const sent = h.take().filter((f) => f.type === FrameType.DATA);
    assert.equal(sent[0].type === FrameType.DATA && sent[0].payload.subarray(0, 6).toString(), 'second', 'in order, after the drain');
    assert.equal(s.queuedBytes, 0);
    assert.equal(s.write(Buffer.from('third')), true);
    await new Promise(setImmediate);
    assert.deepEqual(h.take().map((f) => f.type === FrameType.DATA && f.payload.toString()), ['third']);
  });

  test('on a congested connection, each stream pauses only when its own queue is full', async () => {
    const { h, streams } = acceptingServer();
    h.receive(open(1), open(3), open(5));
    h.take();
    h.accepting = false;
    h.session.ping();
    assert.equal(h.session.congested, true);
    h.take();
    const hwm = h.session.options.streamHighWaterMark;
    const [a, b, c] = [1, 3, 5].map((id) => streams.get(id)!);
    assert.equal(a.write(Buffer.alloc(hwm)), false, 'a filled its queue');
    assert.equal(b.write(Buffer.alloc(1024)), true, 'b has room');
    assert.equal(c.write(Buffer.alloc(hwm - 1)), true, 'c has one byte of room');
    await new Promise(setImmediate);
    assert.deepEqual(h.take().filter((f) => f.type === FrameType.DATA), [], 'nothing is sent while congested');
    let drains = 0;
    for (const s of [a, b, c]) s.on('drain', () => drains++);
    h.accepting = true;
    h.session.transportDrained();
    assert.equal(drains, 1, "only a waits for 'drain'");
    assert.equal(h.sentOfType(FrameType.DATA).reduce((n, f) => n + (f.type === FrameType.DATA ? f.payload.length : 0), 0), 2 * hwm + 1023);
  });

  test('over a pair, a writer that waits for drain gets everything through a small transport', async () => {
    const { a, b } = createSessionPair({ highWaterMark: 8 * 1024 });
    const got = once(b, 'stream') as Promise<[MuxStream]>;
    b.on('stream', (s) => s.accept());
    const s = a.openStream('box');
    const data = new Prng(7).bytes(512 * 1024);
    const [peer] = await got;
    const result = drain(peer);
    const waits = await writeAll(s, data, 4096);
    assert.ok(waits > 0, 'write() returned false at least once');
    assert.equal((await result).sha256, sha256(data));
    a.destroy();
  });
});

describe('options', () => {
  const bad: { name: string; options: Partial<Omit<SessionOptions, 'send' | 'role'>> }[] = [
    { name: 'initialWindow 0', options: { initialWindow: 0 } },
    { name: 'initialWindow over 2^32-1', options: { initialWindow: 2 ** 32 } },
    { name: 'maxWindow over 2^32-1', options: { maxWindow: 2 ** 32 } },
    { name: 'fractional maxFrameSize', options: { maxFrameSize: 1.5 } },
    { name: 'maxFrameSize 0', options: { maxFrameSize: 0 } },
    { name: 'negative maxStreams', options: { maxStreams: -1 } },
    { name: 'NaN streamHighWaterMark', options: { streamHighWaterMark: Number.NaN } },
    { name: 'streamHighWaterMark 0 (write() could never succeed)', options: { streamHighWaterMark: 0 } },
  ];
  for (const c of bad) {
    test(`${c.name} is refused with INVALID_CONFIG`, () => {
      assert.throws(
        () => new MuxSession({ role: 'client', send: () => true, ...c.options }),
        (err: unknown) => err instanceof TetherError && err.code === ErrorCode.INVALID_CONFIG,
      );
    });
  }

  test('the defaults and small valid values are accepted', () => {
    const s = new MuxSession({ role: 'server', send: () => true, initialWindow: 1, maxWindow: 2 ** 32 - 1, maxFrameSize: 1, maxStreams: 1, streamHighWaterMark: 1 });
    assert.equal(s.options.maxWindow, 2 ** 32 - 1);
    assert.equal(new MuxSession({ role: 'server', send: () => true }).options.initialWindow, 1024 * 1024);
  });
});

describe('session close', () => {
  test('destroy closes every stream with CONNECTION_LOST and later opens throw', () => {
    const h = new SessionHarness({ role: 'client' });
    const s = h.session.openStream('box');
    h.session.destroy();
    assert.equal(s.error?.code, ErrorCode.CONNECTION_LOST);
    assert.equal(s.error?.retryable, true);
    assert.throws(() => h.session.openStream('box'), (err: unknown) => err instanceof TetherError && err.code === ErrorCode.CONNECTION_LOST);
  });

  test('closing one side of a pair closes the other', async () => {
    const { a, b } = createSessionPair();
    const bClosed = once(b, 'close');
    a.destroy();
    await bClosed;
    assert.equal(b.closed, true);
  });
});

test('a drained transport serves streams round robin, not always the first one again', () => {
  const h = new SessionHarness({ role: 'client', maxFrameSize: 1024 });
  const a = h.session.openStream('box');
  const b = h.session.openStream('box');
  h.receive(encodeOpenOk(a.id, 1 << 20), encodeOpenOk(b.id, 1 << 20));
  h.take();
  // Congest the transport on every send: each drain lets exactly one frame out.
  h.accepting = false;
  a.write(Buffer.alloc(8 * 1024, 1)); // one frame of a goes out, then the transport is congested
  b.write(Buffer.alloc(8 * 1024, 2));
  const order: number[] = [];
  for (let i = 0; i < 6; i++) {
    h.take();
    h.session.transportDrained();
    order.push(h.sentOfType(FrameType.DATA)[0].streamId);
  }
  // Without the rotation every drain would pick a again until it had nothing left.
  assert.deepEqual(order, [a.id, b.id, a.id, b.id, a.id, b.id]);
});

test('a drained transport serves streams with little queued first: a keystroke does not wait for every bulk stream', () => {
  const h = new SessionHarness({ role: 'client', maxFrameSize: 1024 });
  const bulk = [0, 1, 2, 3].map(() => h.session.openStream('box'));
  const shell = h.session.openStream('box');
  h.receive(...[...bulk, shell].map((s) => encodeOpenOk(s.id, 1 << 20)));
  h.take();
  h.accepting = false;
  for (const s of bulk) s.write(Buffer.alloc(8 * 1024, 1)); // the first frame congests the transport
  shell.write(Buffer.from('ls\r'));
  const order: number[] = [];
  for (let i = 0; i < 3; i++) {
    h.take();
    h.session.transportDrained();
    order.push(h.sentOfType(FrameType.DATA)[0].streamId);
  }
  assert.equal(order[0], shell.id, 'the small queue went out on the first drain');
  assert.deepEqual(order.slice(1), [bulk[0].id, bulk[1].id], 'then the rotation carries on');
});

test('data that arrives with OPEN_OK, before anyone listens, is held and delivered once a reader attaches', async () => {
  const h = new SessionHarness({ role: 'client' });
  const s = h.session.openStream('box');
  // OPEN_OK, the server's banner and its FIN in one message: nothing listens for data yet.
  h.receive(encodeOpenOk(s.id, 1 << 20), encodeData(s.id, Buffer.from('SSH-2.0-banner\r\n')), encodeData(s.id, Buffer.from('more'), true));
  assert.equal(s.bytesReceived, 20);
  const got: string[] = [];
  let ended = false;
  s.on('end', () => (ended = true));
  s.on('data', (chunk) => got.push(chunk.toString()));
  await new Promise(setImmediate);
  assert.deepEqual(got, ['SSH-2.0-banner\r\n', 'more']);
  assert.equal(ended, true, "'end' follows the held data");
});
