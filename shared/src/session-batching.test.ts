/* eslint @typescript-eslint/no-floating-promises: ["error", { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe"] }] }] -- node:test awaits what test() and describe() return */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { FrameType, HEADER_SIZE } from './frame.js';
import { FramePool } from './frame-pool.js';
import type { MuxStream } from './stream.js';
import { acceptOpen, openPayload, rawFrame, recordingSession, u32, decodeAll } from './test-support/testing.js';

describe('one write per turn (SessionOptions.cork)', () => {
  test('DATA of several streams and the control frames of one turn leave between one cork and one uncork', async () => {
    const { session, log } = recordingSession();
    const a = acceptOpen(session, 1);
    const b = acceptOpen(session, 3);
    await nextTurn();
    log.length = 0;
    a.write(Buffer.alloc(100, 1));
    b.write(Buffer.alloc(200, 2));
    session.receive(Buffer.concat([rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(150 * 1024)), rawFrame(FrameType.DATA, 0, 1, Buffer.alloc(150 * 1024))]));
    a.consume(300 * 1024); // a quarter of the window: a WINDOW goes out now
    assert.deepEqual(log, ['cork', 'WINDOW:1'], 'corked at the first write of the turn; DATA waits for the end of it');
    await nextTurn();
    assert.deepEqual(log, ['cork', 'WINDOW:1', 'DATA:1', 'DATA:3', 'uncork']);
    session.destroy();
  });

  test('a turn in which only streams flush is corked too, and a quiet turn touches nothing', async () => {
    const { session, log } = recordingSession();
    const a = acceptOpen(session, 1);
    await nextTurn();
    log.length = 0;
    a.write(Buffer.from('x'));
    await nextTurn();
    assert.deepEqual(log, ['cork', 'DATA:1', 'uncork']);
    await nextTurn();
    assert.deepEqual(log, ['cork', 'DATA:1', 'uncork'], 'nothing more');
    session.destroy();
  });

  test('without cork the session writes as before: DATA at the end of the turn, control frames at once', async () => {
    const { session, log } = recordingSession({ cork: false });
    const a = acceptOpen(session, 1);
    await nextTurn();
    log.length = 0;
    a.write(Buffer.from('x'));
    assert.deepEqual(log, []);
    await nextTurn();
    assert.deepEqual(log, ['DATA:1']);
    session.destroy();
  });

  test('datagrams of one turn leave as one message inside the same cork', async () => {
    const { session, log, messages } = recordingSession();
    acceptOpen(session, 1);
    await nextTurn();
    log.length = 0;
    messages.length = 0;
    assert.ok(session.sendDatagram(1, Buffer.from('one')));
    assert.ok(session.sendDatagram(1, Buffer.from('two')));
    await nextTurn();
    assert.deepEqual(log, ['cork', 'DATAGRAM:1', 'DATAGRAM:1', 'uncork']);
    assert.equal(messages.length, 1, 'one message for both');
    session.destroy();
  });
});

describe('DATA frames in pooled memory (SessionOptions.framePool)', () => {
  test('a full frame is built in a slab of the pool; the transport gives it back', async () => {
    const pool = new FramePool(HEADER_SIZE + 64 * 1024, { minPooled: 1024 });
    const { session, messages } = recordingSession({ framePool: pool });
    const a = acceptOpen(session, 1);
    await nextTurn();
    messages.length = 0;
    a.write(Buffer.alloc(40 * 1024, 5));
    await nextTurn();
    const [frame] = messages;
    assert.equal(frame.length, HEADER_SIZE + 40 * 1024);
    assert.equal(frame.buffer.byteLength, pool.slabSize, 'built in a slab');
    const [decoded] = decodeAll(frame);
    assert.ok(decoded.type === FrameType.DATA && decoded.payload.every((x) => x === 5));
    pool.release(frame);
    a.write(Buffer.alloc(50 * 1024, 6));
    await nextTurn();
    assert.equal(messages[1].buffer, frame.buffer, 'the released slab carries the next frame');
    assert.equal(pool.allocated, 1);
    session.destroy();
  });
});

describe('an ACK rides behind data of the same turn', () => {
  test('with data queued and credit to send it, the ACK follows that data; without credit it goes at once', async () => {
    const { session, log } = recordingSession();
    const a = acceptOpen(session, 1);
    await nextTurn();
    log.length = 0;
    a.write(Buffer.from('answer'));
    a.sendAck(42);
    await nextTurn();
    assert.deepEqual(log, ['cork', 'DATA:1', 'ACK:1', 'uncork']);

    // A stream whose peer granted a window of 4 bytes: the rest waits for credit, the ACK does not.
    let b: MuxStream | undefined;
    session.once('stream', (s) => {
      b = s;
      s.accept();
    });
    session.receive(rawFrame(FrameType.OPEN, 0, 3, openPayload(4, 'box')));
    await nextTurn();
    log.length = 0;
    b!.write(Buffer.from('0123456789'));
    await nextTurn();
    b!.sendAck(7);
    assert.deepEqual(log, ['cork', 'DATA:3', 'uncork', 'cork', 'ACK:3'], 'sent at once: the data may wait long for credit');
    session.receive(rawFrame(FrameType.WINDOW, 0, 3, u32(100)));
    session.destroy();
  });
});
