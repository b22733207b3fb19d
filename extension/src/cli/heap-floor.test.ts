import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FLOOR_BYTES, growingPercent, keepHeapFloor, MAX_PERCENT } from './heap-floor.js';

const MiB = 1024 * 1024;

test('the percent puts the next limit near the floor, in steps, and hands back to V8 from half of it', () => {
  assert.equal(FLOOR_BYTES, 64 * MiB);
  // 9 MiB live (a busy connect): 64 / 9 = 7.1, so 611% rounded down to a step of 50.
  assert.equal(growingPercent(9 * MiB), 600);
  assert.equal(growingPercent(20 * MiB), 200);
  assert.equal(growingPercent(31 * MiB), 100);
  assert.equal(growingPercent(32 * MiB), 0);
  assert.equal(growingPercent(500 * MiB), 0);
  // A near-empty heap (start-up) gets the cap, not a factor of hundreds.
  assert.equal(growingPercent(1 * MiB), MAX_PERCENT);
  assert.equal(growingPercent(0), MAX_PERCENT);
  assert.equal(growingPercent(9 * MiB, 128 * MiB), 1300);
});

test('it keeps the floor from the start, and leaves Node alone when given a heap size or TETHER_HEAP_FLOOR=off', () => {
  const set: string[] = [];
  const floor = keepHeapFloor({ execArgv: [], env: {}, setFlags: (f) => set.push(f), liveBytes: () => 9 * MiB });
  assert.ok('stop' in floor);
  floor.stop();
  assert.deepEqual(set, ['--heap-growing-percent=600']);
  assert.equal(floor.percent(), 600);

  for (const [execArgv, env, why] of [
    [['--initial-old-space-size=64'], {}, 'node was started with --initial-old-space-size=64'],
    [['--max-old-space-size=512', '--heap-growing-percent=300'], {}, 'node was started with --heap-growing-percent=300'],
    [[], { TETHER_HEAP_FLOOR: 'off' }, 'TETHER_HEAP_FLOOR=off'],
  ] as const) {
    const calls: string[] = [];
    assert.deepEqual(keepHeapFloor({ execArgv, env, setFlags: (f) => calls.push(f), liveBytes: () => MiB }), { skipped: why });
    assert.deepEqual(calls, []);
  }
});

test('after a full collection it reads the survivors again and sets the percent for them', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let live = 9 * MiB;
  const set: string[] = [];
  const floor = keepHeapFloor({ execArgv: [], env: {}, setFlags: (f) => set.push(f), liveBytes: () => live });
  assert.ok('stop' in floor);
  try {
    live = 40 * MiB;
    gc();
    // gc entries reach observers asynchronously.
    for (let i = 0; i < 100 && set.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(set, ['--heap-growing-percent=600', '--heap-growing-percent=0']);
    // The same survivors again: nothing to change.
    gc();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(set.length, 2);
  } finally {
    floor.stop();
  }
});
