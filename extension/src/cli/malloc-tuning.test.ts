import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MALLOC_TUNING, tuneMalloc } from './malloc-tuning.js';

/** A libc whose mallopt records its calls and answers `answer` (1: glibc took it). */
function fakeLibc(answer = 1): { mallopt: (param: number, value: number) => number; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return { calls, mallopt: (param, value) => (calls.push([param, value]), answer) };
}

describe('tuneMalloc decides', () => {
  test('on Linux it sets the trim threshold, then the mmap threshold (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3)', async () => {
    const libc = fakeLibc();
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc }), { tuned: MALLOC_TUNING });
    assert.deepEqual(libc.calls, [[-1, MALLOC_TUNING.trimThreshold], [-3, MALLOC_TUNING.mmapThreshold]]);
  });

  const kept: [string, Parameters<typeof tuneMalloc>[0], string][] = [
    ['anywhere but Linux', { platform: 'darwin', env: {} }, 'not Linux (darwin)'],
    ['with TETHER_MALLOC_TUNING=off', { platform: 'linux', env: { TETHER_MALLOC_TUNING: 'off' } }, 'TETHER_MALLOC_TUNING=off'],
    ["when the operator's GLIBC_TUNABLES sets the allocator", { platform: 'linux', env: { GLIBC_TUNABLES: 'glibc.rtld.x=1:glibc.malloc.trim_threshold=1' } }, 'GLIBC_TUNABLES sets glibc.malloc'],
    ['when the operator sets a MALLOC_ variable', { platform: 'linux', env: { MALLOC_ARENA_MAX: '2' } }, 'MALLOC_ARENA_MAX is set'],
  ];
  for (const [when, options, skipped] of kept) {
    test(`keeps the defaults ${when}, without calling mallopt`, async () => {
      const libc = fakeLibc();
      assert.deepEqual(await tuneMalloc({ ...options, libc }), { skipped });
      assert.deepEqual(libc.calls, []);
    });
  }

  test('GLIBC_TUNABLES without malloc settings does not stop it', async () => {
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: { GLIBC_TUNABLES: 'glibc.rtld.optional_static_tls=4096' }, libc: fakeLibc() }), { tuned: MALLOC_TUNING });
  });

  test('a libc that takes no mallopt (musl answers 0), or no koffi, keeps the defaults and says why', async () => {
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc: fakeLibc(0) }), { skipped: 'mallopt refused (not glibc)' });
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc: 'koffi not available (gone)' }), { skipped: 'koffi not available (gone)' });
  });
});

/**
 * Minor page faults of a fresh Node process that allocates 400 buffers of 160–300 KiB, fills
 * each and lets them go eight at a time (as ws's joins of messages that span socket reads do),
 * with or without tuneMalloc() first.
 */
function faultsOf(tuned: boolean): number {
  const script = `
const { tuneMalloc } = require(${JSON.stringify(join(__dirname, 'malloc-tuning.js'))});
(${tuned} ? tuneMalloc() : Promise.resolve({})).then((outcome) => {
  const sizes = [256 * 1024, 200 * 1024, 300 * 1024, 160 * 1024];
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < 400; i++) {
    Buffer.allocUnsafeSlow(sizes[i % 4]).fill(i);
    if (i % 8 === 7) gc();
  }
  process.stdout.write(JSON.stringify({ faults: process.resourceUsage().minorPageFault - before, outcome }));
});`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(MALLOC_|GLIBC_TUNABLES$|TETHER_MALLOC_TUNING$)/.test(k)) delete env[k];
  const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env, timeout: 30_000 });
  const { faults, outcome } = JSON.parse(run.stdout) as { faults: number; outcome: object };
  if (tuned) assert.deepEqual(outcome, { tuned: MALLOC_TUNING });
  return faults;
}

describe('tuneMalloc in a real process', { skip: process.platform !== 'linux' && 'glibc tuning is for Linux' }, () => {
  test('buffers of a few hundred KiB, freed and allocated again, fault at most half as often once tuned', () => {
    // 400 buffers of ~230 KiB touch ~23,000 pages; with glibc's defaults most of them are fresh.
    const before = faultsOf(false);
    const after = faultsOf(true);
    assert.ok(after * 2 < before, `faults: ${before} with the defaults, ${after} tuned`);
  });
});
