/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeAck,
  decodeFrames,
  encodeData,
  encodeFrame,
  encodeGoAway,
  encodeOpen,
  encodeOpenErr,
  encodePing,
  encodePong,
  encodeReset,
  peekHeader,
} from './codec.js';
import { CloseCode, ErrorCode, TetherError, WireCode, type ErrorCodeString } from './errors.js';
import { FLAG_FIN, FrameType, HEADER_SIZE, MAX_OPEN_METADATA_BYTES, MAX_REASON_BYTES, type Frame } from './frame.js';
import { decodeAll, openPayload, rawFrame, u32 } from './test-support/testing.js';

const limits = { maxFrameSize: 64 * 1024 };

function eight(first: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(first, 0);
  b.writeUInt32BE(0xdeadbeef, 4);
  return b;
}

const roundTrips: { name: string; frame: Frame }[] = [
  { name: 'DATA', frame: { type: FrameType.DATA, streamId: 1, fin: false, payload: Buffer.from('hello') } },
  { name: 'DATA with FIN', frame: { type: FrameType.DATA, streamId: 2, fin: true, payload: Buffer.from('bye') } },
  { name: 'empty DATA with FIN', frame: { type: FrameType.DATA, streamId: 3, fin: true, payload: Buffer.alloc(0) } },
  { name: 'DATA at max stream id', frame: { type: FrameType.DATA, streamId: 0xffffffff, fin: false, payload: Buffer.alloc(300, 7) } },
  {
    name: 'OPEN without metadata',
    frame: { type: FrameType.OPEN, streamId: 1, window: 1024 * 1024, tunnel: 'my-box', metadata: Buffer.alloc(0) },
  },
  {
    name: 'OPEN with metadata',
    frame: { type: FrameType.OPEN, streamId: 5, window: 0xffffffff, tunnel: 'a'.repeat(63), metadata: Buffer.from('{"k":1}') },
  },
  { name: 'OPEN_OK', frame: { type: FrameType.OPEN_OK, streamId: 2, window: 65536 } },
  { name: 'OPEN_ERR', frame: { type: FrameType.OPEN_ERR, streamId: 7, code: WireCode.TUNNEL_FORBIDDEN, message: 'nope — ✋' } },
  { name: 'OPEN_ERR without message', frame: { type: FrameType.OPEN_ERR, streamId: 7, code: 0xffff, message: '' } },
  { name: 'WINDOW', frame: { type: FrameType.WINDOW, streamId: 9, increment: 0xffffffff } },
  { name: 'RESET', frame: { type: FrameType.RESET, streamId: 4, code: WireCode.CANCELLED, message: 'cancelled' } },
  { name: 'PING', frame: { type: FrameType.PING, streamId: 0, data: eight(1) } },
  { name: 'PONG', frame: { type: FrameType.PONG, streamId: 0, data: eight(2) } },
  {
    name: 'GOAWAY',
    frame: { type: FrameType.GOAWAY, streamId: 0, lastStreamId: 41, code: WireCode.GOING_AWAY, message: 'restarting' },
  },
  { name: 'DATAGRAM', frame: { type: FrameType.DATAGRAM, streamId: 12, payload: Buffer.from([0, 1, 2, 255]) } },
  { name: 'ACK', frame: { type: FrameType.ACK, streamId: 3, fin: false, offset: 0 } },
  { name: 'ACK with FIN at 2^53 - 1', frame: { type: FrameType.ACK, streamId: 3, fin: true, offset: Number.MAX_SAFE_INTEGER } },
  { name: 'ACK past 4 GiB', frame: { type: FrameType.ACK, streamId: 8, fin: false, offset: 2 ** 32 + 5 } },
];

describe('codec round trip', () => {
  for (const { name, frame } of roundTrips) {
    test(name, () => {
      const encoded = encodeFrame(frame);
      assert.equal(encoded[0], frame.type);
      assert.equal(peekHeader(encoded).length, encoded.length - HEADER_SIZE);
      assert.deepEqual(decodeAll(encoded), [frame]);
    });
  }

  test('every frame type is covered above', () => {
    assert.deepEqual(
      new Set(roundTrips.map((r) => r.frame.type)),
      new Set(Object.values(FrameType)),
    );
  });

  test('several frames in one message arrive in order', () => {
    const message = Buffer.concat(roundTrips.map((r) => encodeFrame(r.frame)));
    assert.deepEqual(decodeAll(message), roundTrips.map((r) => r.frame));
  });

  test('decoded payloads are views into the message, not copies', () => {
    const message = encodeData(3, Buffer.from('abc'));
    const [frame] = decodeAll(message);
    assert.equal(frame.type, FrameType.DATA);
    assert.equal(frame.payload.buffer, message.buffer);
  });

  test('a payload of exactly maxFrameSize is accepted', () => {
    const frames = decodeAll(encodeData(1, Buffer.alloc(limits.maxFrameSize)), limits.maxFrameSize);
    assert.equal(frames.length, 1);
  });

  test('peekHeader reads the header without decoding the payload', () => {
    const message = rawFrame(FrameType.DATA, FLAG_FIN, 0x01020304, Buffer.from('xyz'));
    assert.deepEqual(peekHeader(message), { type: FrameType.DATA, flags: FLAG_FIN, streamId: 0x01020304, length: 3 });
  });
});

interface DecodeErrorCase {
  name: string;
  message: Buffer;
  code: ErrorCodeString;
  closeCode?: number;
  /** Frames delivered before the bad one. */
  before?: number;
}

const goodData = encodeData(1, Buffer.from('ok'));
const reason = (n: number): Buffer => Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(n, 0x61)]);

const decodeErrors: DecodeErrorCase[] = [
  { name: 'empty message', message: Buffer.alloc(0), code: ErrorCode.FRAME_TRUNCATED },
  { name: 'header of 1 byte', message: Buffer.from([0]), code: ErrorCode.FRAME_TRUNCATED },
  { name: 'header of 9 bytes', message: rawFrame(FrameType.DATA, 0, 1).subarray(0, 9), code: ErrorCode.FRAME_TRUNCATED },
  { name: 'good frame then a truncated header', message: Buffer.concat([goodData, Buffer.alloc(5)]), code: ErrorCode.FRAME_TRUNCATED, before: 1 },
  { name: 'truncated payload', message: rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(10)).subarray(0, HEADER_SIZE + 5), code: ErrorCode.FRAME_TRUNCATED },
  { name: 'header only, payload announced', message: rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(1)).subarray(0, HEADER_SIZE), code: ErrorCode.FRAME_TRUNCATED },
  {
    name: 'length one over maxFrameSize',
    message: rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(limits.maxFrameSize + 1)),
    code: ErrorCode.FRAME_TOO_LARGE,
    closeCode: CloseCode.MESSAGE_TOO_BIG,
  },
  {
    name: 'length field 2^32-1 with no payload present',
    message: (() => {
      const m = rawFrame(FrameType.DATA, 0, 1);
      m.writeUInt32BE(0xffffffff, 6);
      return m;
    })(),
    code: ErrorCode.FRAME_TOO_LARGE,
    closeCode: CloseCode.MESSAGE_TOO_BIG,
  },
  {
    name: 'oversize frame after a good one',
    message: Buffer.concat([goodData, rawFrame(FrameType.DATAGRAM, 0, 1, Buffer.alloc(limits.maxFrameSize + 1))]),
    code: ErrorCode.FRAME_TOO_LARGE,
    closeCode: CloseCode.MESSAGE_TOO_BIG,
    before: 1,
  },
  { name: 'unknown type 11', message: rawFrame(11, 0, 1), code: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'unknown type 255', message: rawFrame(255, 0, 0, Buffer.alloc(4)), code: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'DATA with unknown flag 0x02', message: rawFrame(FrameType.DATA, 0x02, 1), code: ErrorCode.FRAME_INVALID },
  { name: 'DATA with FIN and unknown flag 0x80', message: rawFrame(FrameType.DATA, 0x81, 1), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_OK with FIN flag', message: rawFrame(FrameType.OPEN_OK, FLAG_FIN, 1, u32(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'WINDOW with flags', message: rawFrame(FrameType.WINDOW, 0x40, 1, u32(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'PING with flags', message: rawFrame(FrameType.PING, 1, 0, Buffer.alloc(8)), code: ErrorCode.FRAME_INVALID },
  // Stream id 0 where a stream is required.
  { name: 'DATA on stream 0', message: rawFrame(FrameType.DATA, 0, 0, Buffer.from('x')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN on stream 0', message: rawFrame(FrameType.OPEN, 0, 0, openPayload(1, 'a')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_OK on stream 0', message: rawFrame(FrameType.OPEN_OK, 0, 0, u32(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_ERR on stream 0', message: rawFrame(FrameType.OPEN_ERR, 0, 0, reason(0)), code: ErrorCode.FRAME_INVALID },
  { name: 'WINDOW on stream 0', message: rawFrame(FrameType.WINDOW, 0, 0, u32(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'RESET on stream 0', message: rawFrame(FrameType.RESET, 0, 0, reason(0)), code: ErrorCode.FRAME_INVALID },
  { name: 'ACK on stream 0', message: rawFrame(FrameType.ACK, 0, 0, Buffer.alloc(8)), code: ErrorCode.FRAME_INVALID },
  { name: 'ACK of 4 bytes', message: rawFrame(FrameType.ACK, 0, 1, Buffer.alloc(4)), code: ErrorCode.FRAME_INVALID },
  { name: 'ACK with unknown flag 0x02', message: rawFrame(FrameType.ACK, 0x02, 1, Buffer.alloc(8)), code: ErrorCode.FRAME_INVALID },
  { name: 'ACK offset above 2^53 - 1', message: rawFrame(FrameType.ACK, 0, 1, Buffer.from('0020000000000000', 'hex')), code: ErrorCode.FRAME_INVALID },
  { name: 'DATAGRAM on flow 0', message: rawFrame(FrameType.DATAGRAM, 0, 0, Buffer.from('x')), code: ErrorCode.FRAME_INVALID },
  // A stream id where the connection (0) is required.
  { name: 'PING on stream 1', message: rawFrame(FrameType.PING, 0, 1, Buffer.alloc(8)), code: ErrorCode.FRAME_INVALID },
  { name: 'PONG on stream 2', message: rawFrame(FrameType.PONG, 0, 2, Buffer.alloc(8)), code: ErrorCode.FRAME_INVALID },
  { name: 'GOAWAY on stream 3', message: rawFrame(FrameType.GOAWAY, 0, 3, Buffer.alloc(6)), code: ErrorCode.FRAME_INVALID },
  // Fixed and minimum payload sizes.
  { name: 'OPEN_OK of 3 bytes', message: rawFrame(FrameType.OPEN_OK, 0, 1, Buffer.alloc(3, 1)), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_OK of 5 bytes', message: rawFrame(FrameType.OPEN_OK, 0, 1, Buffer.alloc(5, 1)), code: ErrorCode.FRAME_INVALID },
  { name: 'WINDOW of 0 bytes', message: rawFrame(FrameType.WINDOW, 0, 1), code: ErrorCode.FRAME_INVALID },
  { name: 'WINDOW of 8 bytes', message: rawFrame(FrameType.WINDOW, 0, 1, Buffer.alloc(8, 1)), code: ErrorCode.FRAME_INVALID },
  { name: 'PING of 7 bytes', message: rawFrame(FrameType.PING, 0, 0, Buffer.alloc(7)), code: ErrorCode.FRAME_INVALID },
  { name: 'PING of 9 bytes', message: rawFrame(FrameType.PING, 0, 0, Buffer.alloc(9)), code: ErrorCode.FRAME_INVALID },
  { name: 'PONG of 0 bytes', message: rawFrame(FrameType.PONG, 0, 0), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN of 4 bytes', message: rawFrame(FrameType.OPEN, 0, 1, u32(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_ERR of 1 byte', message: rawFrame(FrameType.OPEN_ERR, 0, 1, Buffer.alloc(1)), code: ErrorCode.FRAME_INVALID },
  { name: 'RESET of 0 bytes', message: rawFrame(FrameType.RESET, 0, 1), code: ErrorCode.FRAME_INVALID },
  { name: 'GOAWAY of 5 bytes', message: rawFrame(FrameType.GOAWAY, 0, 0, Buffer.alloc(5)), code: ErrorCode.FRAME_INVALID },
  // Zero credit.
  { name: 'OPEN with window 0', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(0, 'box')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN_OK with window 0', message: rawFrame(FrameType.OPEN_OK, 0, 1, u32(0)), code: ErrorCode.FRAME_INVALID },
  { name: 'WINDOW with increment 0', message: rawFrame(FrameType.WINDOW, 0, 1, u32(0)), code: ErrorCode.FRAME_INVALID },
  // Tunnel names in OPEN.
  { name: 'OPEN with empty tunnel name', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, '')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN with tunnel "../x"', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, '../x')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN with uppercase tunnel', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, 'A')), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN with 64-char tunnel', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, 'a'.repeat(64))), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN with latin1 tunnel', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, Buffer.from([0x61, 0xe9]))), code: ErrorCode.FRAME_INVALID },
  { name: 'OPEN with NUL in tunnel', message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, Buffer.from('a\0b', 'latin1'))), code: ErrorCode.FRAME_INVALID },
  {
    name: 'OPEN name length past the frame',
    message: rawFrame(FrameType.OPEN, 0, 1, Buffer.concat([u32(1), Buffer.from([10]), Buffer.from('abc')])),
    code: ErrorCode.FRAME_INVALID,
  },
  // Size limits inside payloads.
  { name: 'OPEN_ERR reason of 1025 bytes', message: rawFrame(FrameType.OPEN_ERR, 0, 1, reason(MAX_REASON_BYTES + 1)), code: ErrorCode.FRAME_INVALID },
  { name: 'RESET reason of 1025 bytes', message: rawFrame(FrameType.RESET, 0, 1, reason(MAX_REASON_BYTES + 1)), code: ErrorCode.FRAME_INVALID },
  {
    name: 'GOAWAY reason of 1025 bytes',
    message: rawFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([Buffer.alloc(6), Buffer.alloc(MAX_REASON_BYTES + 1, 0x61)])),
    code: ErrorCode.FRAME_INVALID,
  },
  {
    name: 'OPEN metadata of 4097 bytes',
    message: rawFrame(FrameType.OPEN, 0, 1, openPayload(1, 'box', Buffer.alloc(MAX_OPEN_METADATA_BYTES + 1))),
    code: ErrorCode.FRAME_INVALID,
  },
];

describe('decodeFrames rejects bad input with a coded error', () => {
  for (const c of decodeErrors) {
    test(c.name, () => {
      const delivered: Frame[] = [];
      assert.throws(
        () => decodeFrames(c.message, limits, (f) => delivered.push(f)),
        (err: unknown) => {
          assert.ok(err instanceof TetherError, `expected a TetherError, got ${String(err)}`);
          assert.equal(err.code, c.code);
          assert.equal(err.closeCode, c.closeCode ?? CloseCode.PROTOCOL_ERROR);
          return true;
        },
      );
      assert.equal(delivered.length, c.before ?? 0);
    });
  }

  test('limits at the boundary are accepted', () => {
    const frames = decodeAll(
      Buffer.concat([
        rawFrame(FrameType.OPEN_ERR, 0, 1, reason(MAX_REASON_BYTES)),
        rawFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([Buffer.alloc(6), Buffer.alloc(MAX_REASON_BYTES, 0x61)])),
        rawFrame(FrameType.OPEN, 0, 1, openPayload(1, 'a'.repeat(63), Buffer.alloc(MAX_OPEN_METADATA_BYTES))),
      ]),
    );
    assert.deepEqual(frames.map((f) => f.type), [FrameType.OPEN_ERR, FrameType.GOAWAY, FrameType.OPEN]);
  });
});

describe('reason truncation on encode', () => {
  const cases: { name: string; message: string }[] = [
    { name: 'ASCII', message: 'x'.repeat(5000) },
    { name: '2-byte character across the cut', message: 'a'.repeat(1023) + 'é'.repeat(10) },
    { name: '3-byte character across the cut (1 of 3 bytes kept)', message: 'a'.repeat(1023) + '€€' },
    { name: '3-byte character across the cut (2 of 3 bytes kept)', message: 'a'.repeat(1022) + '€€' },
    { name: '4-byte character across the cut', message: 'a'.repeat(1021) + '😀😀' },
    { name: 'only 4-byte characters', message: '😀'.repeat(400) },
  ];
  const encoders: { name: string; encode: (m: string) => Buffer }[] = [
    { name: 'OPEN_ERR', encode: (m) => encodeOpenErr(1, WireCode.INTERNAL, m) },
    { name: 'RESET', encode: (m) => encodeReset(1, WireCode.INTERNAL, m) },
    { name: 'GOAWAY', encode: (m) => encodeGoAway(0, WireCode.GOING_AWAY, m) },
  ];
  for (const { name, message } of cases) {
    for (const enc of encoders) {
      test(`${enc.name}: ${name}`, () => {
        const [frame] = decodeAll(enc.encode(message));
        assert.ok('message' in frame);
        const got = frame.message;
        assert.ok(Buffer.byteLength(got) <= MAX_REASON_BYTES, `reason of ${Buffer.byteLength(got)} bytes`);
        assert.ok(Buffer.byteLength(got) > MAX_REASON_BYTES - 4, 'cut no more than one character');
        assert.ok(message.startsWith(got), 'reason is a prefix of the message');
        assert.ok(!got.includes('\uFFFD'), 'no broken UTF-8 sequence');
      });
    }
  }

  test('a reason within the limit is kept whole', () => {
    const message = 'é'.repeat(MAX_REASON_BYTES / 2);
    const [frame] = decodeAll(encodeReset(1, 1, message));
    assert.ok(frame.type === FrameType.RESET);
    assert.equal(frame.message, message);
  });
});

test('PING and PONG with short data are zero-padded, never filled from uninitialised memory', () => {
  for (let i = 0; i < 50; i++) {
    // Dirty the pool that Buffer.allocUnsafe() takes from, so leftovers would show.
    Buffer.allocUnsafe(64).fill(0xaa);
    for (const encode of [encodePing, encodePong]) {
      const [frame] = decodeAll(encode(Buffer.from([1, 2, 3])));
      assert.ok(frame.type === FrameType.PING || frame.type === FrameType.PONG);
      assert.deepEqual(frame.data, Buffer.from([1, 2, 3, 0, 0, 0, 0, 0]));
    }
  }
});

test('encodeOpen writes the name length byte the decoder reads', () => {
  const message = encodeOpen(3, 100, 'abc', Buffer.from('meta'));
  assert.equal(message[HEADER_SIZE + 4], 3);
  assert.deepEqual(message.subarray(HEADER_SIZE + 5), Buffer.from('abcmeta'));
});

test('encodeAck refuses offsets a peer could not decode exactly', () => {
  assert.throws(() => encodeAck(1, -1), { code: ErrorCode.INVALID_ARGUMENT });
  assert.throws(() => encodeAck(1, 2 ** 53), { code: ErrorCode.INVALID_ARGUMENT });
  assert.throws(() => encodeAck(1, 1.5), { code: ErrorCode.INVALID_ARGUMENT });
});

test('decodeFrames stops where the handler says and resumes from the offset it returned', () => {
  const message = Buffer.concat([encodePing(Buffer.alloc(8, 1)), encodePing(Buffer.alloc(8, 2)), encodePing(Buffer.alloc(8, 3))]);
  const seen: number[] = [];
  const take = (n: number) => (frame: Frame) => {
    if (frame.type === FrameType.PING) seen.push(frame.data[0]);
    return seen.length % n !== 0;
  };
  const first = decodeFrames(message, { maxFrameSize: 1024 }, take(2));
  assert.deepEqual(seen, [1, 2]);
  assert.ok(first > 0 && first < message.length);
  assert.equal(decodeFrames(message, { maxFrameSize: 1024 }, () => undefined, first), message.length);
  assert.equal(decodeFrames(message, { maxFrameSize: 1024 }, take(100), first), message.length);
  assert.deepEqual(seen, [1, 2, 3]);
});
