/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFrames } from './codec.js';
import { ErrorCode, TetherError, WireCode, type ErrorCodeString } from './errors.js';
import { FrameType } from './frame.js';
import { MuxStream, type StreamOwner, type StreamState } from './stream.js';

type Sent =
  | { kind: 'data'; id: number; payload: Buffer; fin: boolean }
  | { kind: 'openOk'; id: number; window: number }
  | { kind: 'openErr'; id: number; code: number; message: string }
  | { kind: 'window'; id: number; increment: number }
  | { kind: 'reset'; id: number; code: number; message: string }
  | { kind: 'ack'; id: number; offset: number; fin: boolean };

/** A StreamOwner that records what the stream asks it to send. */
class FakeOwner implements StreamOwner {
  maxFrameSize = 1000;
  congested = false;
  rttMs = 0;
  clock = 0;
  sent: Sent[] = [];
  closed: MuxStream[] = [];
  now(): number {
    return this.clock;
  }
  sendData(id: number, payload: Buffer, fin: boolean): void {
    this.sent.push({ kind: 'data', id, payload: Buffer.from(payload), fin });
  }
  allocFrame(size: number): Buffer {
    return Buffer.allocUnsafe(size);
  }
  sendFrame(frame: Buffer): void {
    decodeFrames(frame, { maxFrameSize: 1 << 24 }, (f) => {
      assert.equal(f.type, FrameType.DATA, 'only DATA frames are sent pre-encoded');
      if (f.type === FrameType.DATA) this.sendData(f.streamId, f.payload, f.fin);
    });
  }
  /** Streams whose flush was deferred; `runScheduled()` plays the end of the event-loop turn. */
  scheduled = new Set<MuxStream>();
  /** When true (the default here), a deferred flush runs at once, so tests stay synchronous. */
  flushAtOnce = true;
  scheduleFlush(stream: MuxStream): void {
    if (this.flushAtOnce) stream.flush();
    else this.scheduled.add(stream);
  }
  runScheduled(): void {
    for (const stream of this.scheduled) stream.flush();
    this.scheduled.clear();
  }
  sendOpenOk(id: number, window: number): void {
    this.sent.push({ kind: 'openOk', id, window });
  }
  sendOpenErr(id: number, code: number, message: string): void {
    this.sent.push({ kind: 'openErr', id, code, message });
  }
  sendWindow(id: number, increment: number): void {
    this.sent.push({ kind: 'window', id, increment });
  }
  sendReset(id: number, code: number, message: string): void {
    this.sent.push({ kind: 'reset', id, code, message });
  }
  sendAck(id: number, offset: number, fin: boolean): void {
    this.sent.push({ kind: 'ack', id, offset, fin });
  }
  streamClosed(stream: MuxStream): void {
    this.closed.push(stream);
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
  data(): Sent[] {
    return this.sent.filter((s) => s.kind === 'data');
  }
}

const windows = { initialWindow: 4000, maxWindow: 4000, highWaterMark: 2500 };

/** An outgoing stream that the peer accepted with `peerWindow` bytes of credit. */
function openStream(peerWindow = 10_000, owner = new FakeOwner()): { s: MuxStream; owner: FakeOwner } {
  const s = new MuxStream(owner, 1, 'opening', windows);
  s.onOpenOk(peerWindow);
  return { s, owner };
}

function closeCode(s: MuxStream): ErrorCodeString | undefined {
  return s.error?.code;
}

describe('MuxStream state machine', () => {
  interface Transition {
    name: string;
    start: 'opening' | 'pending';
    steps: (s: MuxStream) => void;
    state: StreamState;
    error?: ErrorCodeString;
  }
  const transitions: Transition[] = [
    { name: 'opening → open on OPEN_OK', start: 'opening', steps: (s) => s.onOpenOk(100), state: 'open' },
    { name: 'opening → closed on OPEN_ERR', start: 'opening', steps: (s) => s.onOpenErr(WireCode.TUNNEL_UNKNOWN, 'no'), state: 'closed', error: ErrorCode.TUNNEL_UNKNOWN },
    { name: 'opening → closed on RESET', start: 'opening', steps: (s) => s.onReset(WireCode.CANCELLED, ''), state: 'closed', error: ErrorCode.CANCELLED },
    { name: 'opening → closed on local reset', start: 'opening', steps: (s) => s.reset(), state: 'closed', error: ErrorCode.CANCELLED },
    { name: 'pending → open on accept', start: 'pending', steps: (s) => s.accept(), state: 'open' },
    { name: 'pending → closed on reject', start: 'pending', steps: (s) => s.reject(WireCode.TUNNEL_FORBIDDEN, 'no'), state: 'closed', error: ErrorCode.TUNNEL_FORBIDDEN },
    { name: 'open → half-closed-local on end', start: 'pending', steps: (s) => { s.accept(); s.end(); }, state: 'half-closed-local' },
    { name: 'open → half-closed-remote on FIN', start: 'pending', steps: (s) => { s.accept(); s.onData(Buffer.alloc(0), true); }, state: 'half-closed-remote' },
    { name: 'half-closed-local → closed on FIN', start: 'pending', steps: (s) => { s.accept(); s.end(); s.onData(Buffer.from('x'), true); }, state: 'closed' },
    { name: 'half-closed-remote → closed on end', start: 'pending', steps: (s) => { s.accept(); s.onData(Buffer.alloc(0), true); s.end(); }, state: 'closed' },
    { name: 'open → closed on RESET', start: 'pending', steps: (s) => { s.accept(); s.onReset(WireCode.TARGET_REFUSED, 'refused'); }, state: 'closed', error: ErrorCode.TARGET_REFUSED },
    { name: 'half-closed-local → closed on reset', start: 'pending', steps: (s) => { s.accept(); s.end(); s.reset(WireCode.TIMEOUT, 't'); }, state: 'closed', error: ErrorCode.TIMEOUT },
    {
      name: 'open → closed when the session goes',
      start: 'pending',
      steps: (s) => { s.accept(); s.onSessionClosed(new TetherError(ErrorCode.CONNECTION_LOST, 'gone')); },
      state: 'closed',
      error: ErrorCode.CONNECTION_LOST,
    },
  ];
  for (const t of transitions) {
    test(t.name, () => {
      const owner = new FakeOwner();
      const s = new MuxStream(owner, 2, t.start, windows, 100);
      const closes: (TetherError | undefined)[] = [];
      s.on('close', (err) => closes.push(err));
      t.steps(s);
      assert.equal(s.state, t.state);
      assert.equal(closeCode(s), t.error);
      if (t.state === 'closed') {
        assert.equal(closes.length, 1, "exactly one 'close'");
        assert.deepEqual(owner.closed, [s]);
        assert.equal(closes[0]?.code, t.error);
      } else {
        assert.equal(closes.length, 0);
      }
    });
  }

  test('a clean close after both FINs carries no error', () => {
    const { s } = openStream();
    s.end();
    s.onData(Buffer.alloc(0), true);
    assert.equal(s.state, 'closed');
    assert.equal(s.error, undefined);
  });

  test('reset on a pending stream answers with OPEN_ERR, elsewhere with RESET', () => {
    const owner = new FakeOwner();
    new MuxStream(owner, 2, 'pending', windows, 100).reset(WireCode.TIMEOUT, 'slow');
    openStream(100, owner).s.reset(WireCode.TIMEOUT, 'slow');
    assert.deepEqual(owner.take().map((s) => s.kind), ['openErr', 'reset']);
  });

  const misuse: { name: string; run: () => void; code: ErrorCodeString }[] = [
    { name: 'accept an outgoing stream', run: () => new MuxStream(new FakeOwner(), 1, 'opening', windows).accept(), code: ErrorCode.STREAM_CLOSED },
    { name: 'accept twice', run: () => { const s = new MuxStream(new FakeOwner(), 2, 'pending', windows, 1); s.accept(); s.accept(); }, code: ErrorCode.STREAM_CLOSED },
    { name: 'reject after accept', run: () => { const s = new MuxStream(new FakeOwner(), 2, 'pending', windows, 1); s.accept(); s.reject(1, ''); }, code: ErrorCode.STREAM_CLOSED },
    { name: 'write after end', run: () => { const { s } = openStream(); s.end(); s.write(Buffer.from('x')); }, code: ErrorCode.STREAM_CLOSED },
    { name: 'write after reset', run: () => { const { s } = openStream(); s.reset(); s.write(Buffer.from('x')); }, code: ErrorCode.STREAM_CLOSED },
    { name: 'OPEN_OK twice', run: () => openStream().s.onOpenOk(1), code: ErrorCode.PROTOCOL_ERROR },
  ];
  for (const m of misuse) {
    test(`refuses to ${m.name}`, () => {
      assert.throws(m.run, (err: unknown) => err instanceof TetherError && err.code === m.code);
    });
  }

  const badData: { name: string; make: () => MuxStream }[] = [
    { name: 'before OPEN_OK', make: () => new MuxStream(new FakeOwner(), 1, 'opening', windows) },
    { name: 'before accept', make: () => new MuxStream(new FakeOwner(), 2, 'pending', windows, 10) },
    {
      name: 'after the peer’s FIN',
      make: () => {
        const { s } = openStream();
        s.onData(Buffer.alloc(0), true);
        return s;
      },
    },
  ];
  for (const b of badData) {
    test(`DATA ${b.name} resets the stream with PROTOCOL_ERROR`, () => {
      const s = b.make();
      s.onData(Buffer.from('x'), false);
      assert.equal(s.state, 'closed');
      assert.equal(closeCode(s), ErrorCode.PROTOCOL_ERROR);
    });
  }
});

describe('MuxStream sending', () => {
  test('data waits for OPEN_OK, then goes out in frames of at most maxFrameSize', () => {
    const owner = new FakeOwner();
    const s = new MuxStream(owner, 1, 'opening', windows);
    s.write(Buffer.alloc(2500, 1));
    assert.equal(owner.sent.length, 0);
    s.onOpenOk(10_000);
    assert.deepEqual(owner.data().map((d) => d.kind === 'data' && d.payload.length), [1000, 1000, 500]);
    assert.equal(s.bytesSent, 2500);
  });

  test('sends no more than the credit, and resumes on WINDOW', () => {
    const { s, owner } = openStream(700);
    s.write(Buffer.alloc(1500, 2));
    assert.equal(s.bytesSent, 700);
    assert.equal(s.queuedBytes, 800);
    assert.equal(s.onWindow(300), true);
    assert.equal(s.bytesSent, 1000);
    s.onWindow(5000);
    assert.equal(s.bytesSent, 1500);
    assert.equal(owner.data().reduce((n, d) => n + (d.kind === 'data' ? d.payload.length : 0), 0), 1500);
  });

  test('credit beyond 2^32 is a FLOW_CONTROL violation', () => {
    const { s, owner } = openStream(0xffffffff);
    assert.equal(s.onWindow(2), false);
    assert.equal(closeCode(s), ErrorCode.FLOW_CONTROL);
    assert.deepEqual(owner.take().map((x) => x.kind === 'reset' && x.code), [WireCode.FLOW_CONTROL]);
  });

  test('FIN goes alone when nothing is queued, else on the last queued chunk', () => {
    const { s, owner } = openStream();
    s.write(Buffer.from('abc'));
    s.end();
    const sent = owner.take();
    assert.deepEqual(sent.map((x) => x.kind === 'data' && [x.payload.toString(), x.fin]), [['abc', false], ['', true]]);
    const { s: s2, owner: o2 } = openStream(0);
    s2.write(Buffer.from('abc'));
    s2.end();
    assert.equal(o2.sent.length, 0, 'no credit: nothing, not even FIN, overtakes queued data');
    s2.onWindow(10);
    assert.deepEqual(o2.take().map((x) => x.kind === 'data' && [x.payload.toString(), x.fin]), [['abc', true]]);
  });

  test('write() returns false at the high-water mark and drain fires once credit empties the queue', () => {
    const { s } = openStream(0);
    let drains = 0;
    s.on('drain', () => drains++);
    assert.equal(s.write(Buffer.alloc(2000)), true);
    assert.equal(s.write(Buffer.alloc(1000)), false);
    s.onWindow(400);
    assert.equal(drains, 0, 'still above the high-water mark');
    s.onWindow(200);
    assert.equal(drains, 1);
    assert.equal(s.queuedBytes, 2400);
    s.onWindow(2400);
    assert.equal(drains, 1, 'drain fires once per write() that returned false');
  });

  test("a congested transport holds data; write() returns false only once the stream's own queue is full", () => {
    // The connection being congested is not this stream's problem until its own queue fills:
    // otherwise every stream on a busy connection pauses its source and resumes it again on
    // each drain (100 sockets stopped and started per drain, for no bound gained: the queue
    // is bounded by the high-water mark either way).
    const { s, owner } = openStream(10_000);
    owner.congested = true;
    assert.equal(s.write(Buffer.alloc(10)), true, 'queued, well under the high-water mark');
    assert.equal(s.write(Buffer.alloc(2400)), true, 'queued: 2,410 bytes, under 2,500');
    assert.equal(owner.data().length, 0, 'nothing is sent while congested');
    assert.equal(s.write(Buffer.alloc(100)), false, 'the queue reached the high-water mark');
    assert.equal(s.queuedBytes, 2510);
    let drained = false;
    s.on('drain', () => (drained = true));
    s.flush();
    assert.equal(drained, false, 'still congested: nothing left the queue');
    owner.congested = false;
    s.flush();
    assert.equal(owner.data().length, 3, 'frames of at most maxFrameSize (1,000) go out');
    assert.equal(s.queuedBytes, 0);
    assert.equal(drained, true);
  });

  test("'finish' fires when the FIN goes out, not when end() is called", () => {
    const { s, owner } = openStream(0);
    let finished = 0;
    s.on('finish', () => finished++);
    s.write(Buffer.from('tail'));
    s.end();
    assert.equal(finished, 0, 'the tail still waits for credit');
    assert.equal(s.state, 'open');
    s.onWindow(100);
    assert.equal(finished, 1);
    assert.equal(s.state, 'half-closed-local');
    assert.deepEqual(owner.take().map((x) => x.kind === 'data' && x.fin), [true]);
  });

  test('reset drops queued data', () => {
    const { s } = openStream(0);
    s.write(Buffer.alloc(100));
    s.reset();
    assert.equal(s.queuedBytes, 0);
  });
});

describe('MuxStream receiving', () => {
  test('a quarter window consumed sends one WINDOW', () => {
    const { s, owner } = openStream();
    s.onData(Buffer.alloc(1000), false);
    s.consume(999);
    assert.equal(owner.sent.length, 0);
    s.consume(1);
    assert.deepEqual(owner.take(), [{ kind: 'window', id: 1, increment: 1000 }]);
  });

  test('no WINDOW after the peer’s FIN (it will send no more)', () => {
    const { s, owner } = openStream();
    s.onData(Buffer.alloc(2000), true);
    s.consume(2000);
    assert.equal(owner.sent.length, 0);
  });

  test('data past the window resets with FLOW_CONTROL and is not delivered', () => {
    const { s, owner } = openStream();
    const got: Buffer[] = [];
    s.on('data', (c) => got.push(c));
    assert.equal(s.onData(Buffer.alloc(4000), false), true);
    assert.equal(s.onData(Buffer.alloc(1), false), false);
    assert.equal(got.length, 1);
    assert.equal(closeCode(s), ErrorCode.FLOW_CONTROL);
    assert.deepEqual(owner.take().map((x) => x.kind === 'reset' && x.code), [WireCode.FLOW_CONTROL]);
  });

  test('the peer may keep sending after our FIN', () => {
    const { s } = openStream();
    s.end();
    const got: string[] = [];
    s.on('data', (c) => got.push(c.toString()));
    s.onData(Buffer.from('still'), false);
    s.onData(Buffer.from(' here'), true);
    assert.deepEqual(got, ['still', ' here']);
    assert.equal(s.state, 'closed');
    assert.equal(s.error, undefined);
  });
});

describe('coalescing', () => {
  test('chunks written in one turn of the event loop leave as one frame', () => {
    const owner = new FakeOwner();
    owner.flushAtOnce = false;
    const { s } = openStream(10_000, owner);
    assert.equal(s.write(Buffer.alloc(300, 1)), true);
    assert.equal(s.write(Buffer.alloc(200, 2)), true);
    assert.deepEqual(owner.data(), [], 'nothing goes out before the turn ends');
    owner.runScheduled();
    const data = owner.take();
    assert.equal(data.length, 1);
    assert.deepEqual((data[0] as { payload: Buffer }).payload, Buffer.concat([Buffer.alloc(300, 1), Buffer.alloc(200, 2)]));
  });

  test('a full frame goes at once and the rest waits for the end of the turn', () => {
    const owner = new FakeOwner();
    owner.flushAtOnce = false;
    const { s } = openStream(10_000, owner);
    s.write(Buffer.alloc(1500, 3)); // maxFrameSize is 1000
    const now = owner.take() as { payload: Buffer }[];
    assert.deepEqual(now.map((d) => d.payload.length), [1000, 500]);
  });

  test('end() sends what is queued, with FIN on the last frame, without waiting', () => {
    const owner = new FakeOwner();
    owner.flushAtOnce = false;
    const { s } = openStream(10_000, owner);
    s.write(Buffer.alloc(10, 4));
    s.end();
    const sent = owner.take() as { payload: Buffer; fin: boolean }[];
    assert.deepEqual(sent.map((d) => [d.payload.length, d.fin]), [[10, true]]);
  });
});

test('ACK frames go out only while the stream is open, and arrive as ack events', () => {
  const owner = new FakeOwner();
  const pending = new MuxStream(owner, 2, 'pending', windows, 1000);
  pending.sendAck(5);
  assert.deepEqual(owner.take(), [], 'no ACK before the stream is accepted');
  pending.accept();
  owner.take();
  pending.sendAck(7, true);
  assert.deepEqual(owner.take(), [{ kind: 'ack', id: 2, offset: 7, fin: true }]);
  const acks: [number, boolean][] = [];
  pending.on('ack', (offset, fin) => acks.push([offset, fin]));
  pending.onAck(42, false);
  assert.deepEqual(acks, [[42, false]]);
  pending.end();
  owner.take();
  pending.sendAck(9);
  assert.deepEqual(owner.take(), [], 'no ACK after our FIN went out');
});

test('an ACK for a stream that has not opened yet is a protocol error on that stream', () => {
  const owner = new FakeOwner();
  const s = new MuxStream(owner, 1, 'opening', windows);
  s.onAck(1, false);
  assert.equal(s.state, 'closed');
  assert.equal(s.error?.code, 'TETHER_ERR_PROTOCOL');
});

test('an ACK with FIN waits behind queued data; a plain ACK does not', () => {
  const { s, owner } = openStream(10);
  owner.take();
  s.write(Buffer.alloc(25));
  owner.take();
  s.sendAck(3, false);
  s.sendAck(4, true);
  assert.deepEqual(owner.take(), [{ kind: 'ack', id: 1, offset: 3, fin: false }], 'FIN held while 15 bytes wait for credit');
  s.onWindow(100);
  const sent = owner.take();
  assert.deepEqual(sent.map((x) => x.kind), ['data', 'ack']);
  assert.deepEqual(sent[1], { kind: 'ack', id: 1, offset: 4, fin: true });
});
