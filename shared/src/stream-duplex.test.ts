/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { ErrorCode, TetherError, WireCode } from './errors.js';
import type { MuxSession, SessionOptions } from './session.js';
import type { MuxStream } from './stream.js';
import { MuxDuplex } from './stream-duplex.js';
import { createSessionPair } from './transport-pair.js';
import { Prng, settle, sha256 } from './test-support/testing.js';

/** Opens a stream from a to b over a fresh pair and wraps both ends in MuxDuplex. */
async function duplexPair(options: Partial<Omit<SessionOptions, 'send' | 'role'>> = {}): Promise<{
  a: MuxSession;
  left: MuxDuplex;
  right: MuxDuplex;
}> {
  const { a, b } = createSessionPair({ a: options, b: options });
  const accepted = new Promise<MuxDuplex>((resolve) => {
    b.on('stream', (s) => {
      const d = new MuxDuplex(s);
      s.accept();
      resolve(d);
    });
  });
  const s = a.openStream('box');
  const left = new MuxDuplex(s);
  await once(s, 'open');
  return { a, left, right: await accepted };
}

/** A Writable that hashes what it is given. */
function hashSink(): { sink: Writable; digest: () => string; length: () => number } {
  const hash = createHash('sha256');
  let length = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      length += chunk.length;
      cb();
    },
  });
  return { sink, digest: () => hash.digest('hex'), length: () => length };
}

function chunksOf(data: Buffer, rng: Prng): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = 1 + rng.int(50_000);
    chunks.push(data.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

/** Ends the session; the duplexes still open die with CONNECTION_LOST, which is expected here. */
function shutdown(a: MuxSession, ...duplexes: MuxDuplex[]): void {
  for (const d of duplexes) d.on('error', () => undefined);
  a.destroy();
}

function errorOf(d: MuxDuplex): Promise<Error> {
  return new Promise((resolve) => d.once('error', resolve));
}

describe('MuxDuplex', () => {
  test('pipeline() carries data both ways at once', { timeout: 20_000 }, async () => {
    const rng = new Prng(99);
    const { a, left, right } = await duplexPair({ initialWindow: 64 * 1024, maxFrameSize: 16 * 1024 });
    const up = rng.bytes(1_500_000);
    const down = rng.bytes(700_000);
    const atRight = hashSink();
    const atLeft = hashSink();
    await Promise.all([
      pipeline(Readable.from(chunksOf(up, rng)), left),
      pipeline(right, atRight.sink),
      pipeline(Readable.from(chunksOf(down, rng)), right),
      pipeline(left, atLeft.sink),
    ]);
    assert.equal(atRight.length(), up.length);
    assert.equal(atRight.digest(), sha256(up));
    assert.equal(atLeft.digest(), sha256(down));
    await settle(() => left.stream.state === 'closed' && right.stream.state === 'closed');
    assert.equal(left.stream.error, undefined);
    shutdown(a, left, right);
  });

  test('a paused reader bounds what is buffered; the writer waits for drain, then all arrives', { timeout: 20_000 }, async () => {
    const initialWindow = 64 * 1024;
    const { a, left, right } = await duplexPair({ initialWindow, maxWindow: initialWindow, streamHighWaterMark: 32 * 1024 });
    const data = new Prng(5).bytes(2 * 1024 * 1024);
    // Write until write() returns false, as a well-behaved source would.
    // Write until write() returns false, as a well-behaved source would, until flow control
    // (not just the writable buffer) holds the writer back.
    let offset = 0;
    do {
      while (offset < data.length && left.write(data.subarray(offset, offset + 8192))) offset += 8192;
      offset += 8192;
      await settle(undefined, 100);
    } while (!left.writableNeedDrain && offset < data.length);
    assert.ok(offset < data.length, 'write() returned false before everything was buffered');
    // Nobody reads on the right: it holds at most one window plus its readable high-water mark.
    const bound = initialWindow + right.readableHighWaterMark + 16 * 1024;
    assert.ok(right.readableLength <= bound, `right buffers ${right.readableLength} bytes (bound ${bound})`);
    assert.ok(right.stream.bytesReceived <= bound, `right received ${right.stream.bytesReceived} bytes (bound ${bound})`);
    assert.ok(left.writableNeedDrain, 'the writer is still held back');
    // Now read, and let the writer continue after each drain.
    const sink = hashSink();
    const reading = pipeline(right, sink.sink);
    while (offset < data.length) {
      await once(left, 'drain');
      while (offset < data.length && left.write(data.subarray(offset, offset + 8192))) offset += 8192;
      offset += 8192;
    }
    left.end();
    await reading;
    assert.equal(sink.digest(), sha256(data));
    shutdown(a, left, right);
  });

  test('destroy() resets the peer with CANCELLED', async () => {
    const { a, left, right } = await duplexPair();
    const peerError = errorOf(right);
    left.destroy();
    const err = await peerError;
    assert.ok(err instanceof TetherError);
    assert.equal(err.code, ErrorCode.CANCELLED);
    assert.equal(right.stream.state, 'closed');
    assert.equal(right.destroyed, true);
    shutdown(a, left, right);
  });

  test('destroy(err) sends the reason to the peer', async () => {
    const { a, left, right } = await duplexPair();
    const peerError = errorOf(right);
    left.on('error', () => undefined);
    left.destroy(new Error('local socket failed'));
    const err = await peerError;
    assert.ok(err instanceof TetherError);
    assert.equal(err.code, ErrorCode.CANCELLED);
    assert.equal(err.message, 'local socket failed');
    shutdown(a, left, right);
  });

  test('a peer reset destroys the duplex with the coded error', async () => {
    const { a, left, right } = await duplexPair();
    const localError = errorOf(left);
    right.on('error', () => undefined); // the resetting side's duplex ends with the same error
    right.stream.reset(WireCode.TARGET_REFUSED, 'connection refused');
    const err = await localError;
    assert.ok(err instanceof TetherError);
    assert.equal(err.code, ErrorCode.TARGET_REFUSED);
    shutdown(a, left, right);
  });

  test('end() half-closes: the peer sees end and can still answer', async () => {
    const { a, left, right } = await duplexPair();
    const got: Buffer[] = [];
    left.on('data', (c: Buffer) => got.push(c));
    left.end(Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    let request = '';
    right.on('data', (c: Buffer) => (request += c.toString()));
    await once(right, 'end');
    assert.equal(request, 'GET / HTTP/1.0\r\n\r\n');
    right.end(Buffer.from('HTTP/1.0 200 OK\r\n\r\n'));
    await once(left, 'end');
    assert.equal(Buffer.concat(got).toString(), 'HTTP/1.0 200 OK\r\n\r\n');
    shutdown(a, left, right);
  });

  const resetWhileWriting: { name: string; highWaterMark: number; write: number }[] = [
    // The stream's high-water mark is below what is written: write() itself waits for drain.
    { name: 'a write waits for drain', highWaterMark: 8 * 1024, write: 64 * 1024 },
    // Above it: every write() completes at once and only the FIN waits behind the queued tail.
    { name: 'only the FIN waits', highWaterMark: 64 * 1024, write: 32 * 1024 },
  ];
  for (const c of resetWhileWriting) {
    test(`no 'finish' before the FIN; a reset while ${c.name} fails the writer with the code`, async () => {
      const initialWindow = 16 * 1024;
      const { a, left, right } = await duplexPair({ initialWindow, maxWindow: initialWindow, streamHighWaterMark: c.highWaterMark });
      right.pause(); // the tail of what left writes waits for credit that never comes
      let finished = false;
      left.on('finish', () => (finished = true));
      const writerError = errorOf(left);
      left.write(Buffer.alloc(c.write));
      left.end();
      await settle(undefined, 20);
      assert.equal(finished, false, "no 'finish' while data is still queued");
      assert.ok((left.stream as MuxStream).queuedBytes > 0);
      right.on('error', () => undefined);
      right.stream.reset(WireCode.TIMEOUT, 'reader gave up');
      const err = await writerError;
      assert.equal((err as TetherError).code, ErrorCode.TIMEOUT);
      assert.equal(finished, false);
      shutdown(a, left, right);
    });
  }

  test('ending a duplex whose stream already sent its FIN finishes at once', async () => {
    const { a, left, right } = await duplexPair();
    left.stream.end();
    assert.equal(left.stream.state, 'half-closed-local');
    left.end();
    await once(left, 'finish');
    right.resume();
    await once(right, 'end');
    shutdown(a, left, right);
  });

  test('the session closing destroys the duplex with CONNECTION_LOST', async () => {
    const { a, left, right } = await duplexPair();
    const errors = [errorOf(left), errorOf(right)];
    a.destroy();
    const codes = (await Promise.all(errors)).map((e) => (e as TetherError).code);
    assert.deepEqual(codes, [ErrorCode.CONNECTION_LOST, ErrorCode.CONNECTION_LOST]);
  });
});

