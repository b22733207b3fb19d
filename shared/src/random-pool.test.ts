import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledRandomBytes } from './random-pool.js';

test('pooled random bytes: the size asked for, in a buffer of their own, never handed out twice', () => {
  const seen = new Set<string>();
  let total = 0;
  // 40 KiB in mixed sizes: the 4 KiB pool is replaced about ten times, often with bytes left over.
  for (let i = 0; total < 40 * 1024; i++) {
    const size = [16, 32, 12, 7, 200][i % 5];
    const bytes = pooledRandomBytes(size);
    assert.equal(bytes.length, size);
    assert.equal(bytes.byteOffset, 0, 'not a view into the pool');
    assert.equal(bytes.buffer.byteLength, size);
    const hex = bytes.toString('hex');
    assert.ok(!seen.has(hex), `bytes handed out twice at draw ${i}`);
    seen.add(hex);
    total += size;
  }
  // Not constant: the bytes of all draws together are spread over every value.
  const counts = new Array<number>(256).fill(0);
  for (const hex of seen) for (const byte of Buffer.from(hex, 'hex')) counts[byte]++;
  assert.ok(counts.every((n) => n > 0));
});

test('pooled random bytes: large requests are drawn directly', () => {
  const bytes = pooledRandomBytes(5000);
  assert.equal(bytes.length, 5000);
  assert.notDeepEqual(bytes, Buffer.alloc(5000));
});
