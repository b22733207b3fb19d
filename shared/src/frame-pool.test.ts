import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FramePool, framePoolFor } from './frame-pool.js';
import { HEADER_SIZE } from './frame.js';

describe('FramePool', () => {
  test('a released slab is handed out again: no new memory for the next frame', () => {
    const pool = new FramePool(1024, { minPooled: 100 });
    const a = pool.take(1000);
    assert.equal(a.length, 1000);
    a.fill(7);
    pool.release(a);
    assert.equal(pool.idle, 1);
    const b = pool.take(600);
    assert.equal(b.length, 600);
    assert.equal(b.buffer, a.buffer, 'the same slab');
    assert.equal(pool.allocated, 1);
    assert.equal(pool.idle, 0);
  });

  test('slabs lent at the same time are distinct, so no frame overwrites another in flight', () => {
    const pool = new FramePool(256, { minPooled: 1 });
    const frames = Array.from({ length: 4 }, (_, i) => pool.take(200).fill(i));
    assert.equal(new Set(frames.map((f) => f.buffer)).size, 4);
    frames.forEach((f, i) => assert.ok(f.every((byte) => byte === i), `frame ${i} kept its bytes`));
    assert.equal(pool.allocated, 4);
  });

  test('small and oversized requests get an ordinary buffer, never a slab', () => {
    const pool = new FramePool(1024, { minPooled: 512 });
    const small = pool.take(100);
    const big = pool.take(2000);
    assert.equal(small.length, 100);
    assert.equal(big.length, 2000);
    assert.equal(pool.allocated, 0);
    pool.release(small);
    pool.release(big);
    assert.equal(pool.idle, 0, 'buffers that did not come from the pool are not kept');
  });

  test('a foreign buffer, a second release and a release past maxFreeBytes are ignored', () => {
    const pool = new FramePool(64, { minPooled: 1, maxFreeBytes: 128 });
    pool.release(Buffer.alloc(64));
    assert.equal(pool.idle, 0);
    const [a, b, c] = [pool.take(64), pool.take(64), pool.take(64)];
    pool.release(a);
    pool.release(a);
    assert.equal(pool.idle, 1, 'released twice, kept once');
    pool.release(b);
    pool.release(c);
    assert.equal(pool.idle, 2, 'at most maxFreeBytes of slabs wait for reuse');
    const d = pool.take(64);
    const e = pool.take(64);
    assert.notEqual(d.buffer, e.buffer);
  });

  test('framePoolFor gives every caller with the same slab size the same pool', () => {
    assert.equal(framePoolFor(4096 + 10), framePoolFor(4096 + 10));
    assert.notEqual(framePoolFor(4096 + 10), framePoolFor(8192 + 10));
  });

  test('a frame gets the smallest class it fits, each class keeping room for a header', () => {
    const K = 1024;
    const pool = new FramePool(HEADER_SIZE + 256 * K, { headroom: HEADER_SIZE });
    const slabOf = (size: number): number => pool.take(size).buffer.byteLength;
    assert.equal(slabOf(HEADER_SIZE + 256 * K), HEADER_SIZE + 256 * K, 'the largest frame: a full slab');
    assert.equal(slabOf(HEADER_SIZE + 128 * K + 1), HEADER_SIZE + 256 * K, 'a byte past a half: a full slab');
    assert.equal(slabOf(HEADER_SIZE + 128 * K), HEADER_SIZE + 128 * K, 'half the payload with its header: a half slab');
    assert.equal(slabOf(HEADER_SIZE + 64 * K), HEADER_SIZE + 64 * K, 'a hundred streams\' 64 KiB reads: a quarter slab');
    assert.equal(slabOf(16 * K), HEADER_SIZE + 16 * K, 'the smallest pooled request: the smallest class');
    assert.equal(pool.allocated, 5);
    const small = pool.take(16 * K - 1);
    assert.equal(small.length, 16 * K - 1);
    assert.equal(pool.allocated, 5, 'below minPooled (16 KiB by default): an ordinary buffer');
  });

  test('a released slab goes back to its own class', () => {
    const pool = new FramePool(HEADER_SIZE + 4096, { headroom: HEADER_SIZE, minPooled: 1024 });
    const half = pool.take(HEADER_SIZE + 2048);
    const [fullA, fullB] = [pool.take(HEADER_SIZE + 4096), pool.take(HEADER_SIZE + 4096)];
    pool.release(half);
    pool.release(fullB);
    pool.release(fullA);
    assert.equal(pool.idle, 3);
    assert.equal(pool.take(HEADER_SIZE + 4000).buffer, fullA.buffer, 'a full-size request reuses the full slab');
    assert.equal(pool.take(HEADER_SIZE + 2000).buffer, half.buffer, 'a half-size request reuses the half slab');
    assert.equal(pool.allocated, 3);
    assert.equal(pool.idle, 1, 'the second full slab still waits');
  });

  test('a burst larger than the transport buffers is kept whole for the next one', () => {
    // 4 MiB in flight in 128 KiB frames: all of it comes back for reuse with the default budget.
    const pool = new FramePool(HEADER_SIZE + 256 * 1024, { headroom: HEADER_SIZE });
    const burst = (): Buffer[] => Array.from({ length: 32 }, () => pool.take(HEADER_SIZE + 128 * 1024));
    burst().forEach((frame) => pool.release(frame));
    assert.equal(pool.idle, 32);
    burst().forEach((frame) => pool.release(frame));
    assert.equal(pool.allocated, 32, 'the second burst allocated nothing');
  });

  test('past the budget, slabs of a size no longer asked for make room for the size in use', () => {
    const K = 1024;
    const pool = new FramePool(HEADER_SIZE + 64 * K, { headroom: HEADER_SIZE, maxFreeBytes: 4 * (HEADER_SIZE + 64 * K) });
    // One stream's large frames fill the budget, then a hundred streams send half-size ones.
    Array.from({ length: 4 }, () => pool.take(HEADER_SIZE + 64 * K)).forEach((f) => pool.release(f));
    const halves = (): Buffer[] => Array.from({ length: 6 }, () => pool.take(HEADER_SIZE + 32 * K));
    halves().forEach((f) => pool.release(f));
    const before = pool.allocated;
    halves().forEach((f) => pool.release(f));
    assert.equal(pool.allocated, before, 'the half-size slabs were kept, the full ones given up');
    assert.equal(pool.idle, 6, "six half slabs, no full one");
  });

  test('framePoolFor pools leave a frame header of room in every class', () => {
    const pool = framePoolFor(HEADER_SIZE + 64 * 1024);
    const frame = pool.take(HEADER_SIZE + 32 * 1024);
    assert.equal(frame.buffer.byteLength, HEADER_SIZE + 32 * 1024);
    pool.release(frame);
  });
});
