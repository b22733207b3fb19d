import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FramePool, framePoolFor } from './frame-pool.js';

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

  test('a foreign buffer, a second release and a release past maxFree are ignored', () => {
    const pool = new FramePool(64, { minPooled: 1, maxFree: 2 });
    pool.release(Buffer.alloc(64));
    assert.equal(pool.idle, 0);
    const [a, b, c] = [pool.take(64), pool.take(64), pool.take(64)];
    pool.release(a);
    pool.release(a);
    assert.equal(pool.idle, 1, 'released twice, kept once');
    pool.release(b);
    pool.release(c);
    assert.equal(pool.idle, 2, 'at most maxFree slabs wait for reuse');
    const d = pool.take(64);
    const e = pool.take(64);
    assert.notEqual(d.buffer, e.buffer);
  });

  test('framePoolFor gives every caller with the same slab size the same pool', () => {
    assert.equal(framePoolFor(4096 + 10), framePoolFor(4096 + 10));
    assert.notEqual(framePoolFor(4096 + 10), framePoolFor(8192 + 10));
  });
});
