import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IDLE_TRIM, MALLOC_TUNING, startIdleTrim, tuneMalloc } from './malloc-tuning.js';

/** A libc whose mallopt records its calls and answers `answer` (1: glibc took it). */
function fakeLibc(answer = 1): { mallopt: (param: number, value: number) => number; mallocTrim: () => number; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return { calls, mallopt: (param, value) => (calls.push([param, value]), answer), mallocTrim: () => 0 };
}

describe('tuneMalloc decides', () => {
  test('on Linux it sets the trim threshold, then the mmap threshold (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3)', async () => {
    const libc = fakeLibc();
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc, idleTrimEveryMs: 0 }), { tuned: MALLOC_TUNING });
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
    const env = { GLIBC_TUNABLES: 'glibc.rtld.optional_static_tls=4096' };
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env, libc: fakeLibc(), idleTrimEveryMs: 0 }), { tuned: MALLOC_TUNING });
  });

  test('a libc that takes no mallopt (musl answers 0), or no koffi, keeps the defaults and says why', async () => {
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc: fakeLibc(0) }), { skipped: 'mallopt refused (not glibc)' });
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc: 'koffi not available (gone)' }), { skipped: 'koffi not available (gone)' });
  });
});

describe('startIdleTrim', () => {
  test('trims once per idle spell: not while busy, not twice in a row', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    let cpuMs = 0;
    const cpuUsage = (previous?: NodeJS.CpuUsage): NodeJS.CpuUsage => {
      const now = { user: cpuMs * 1000, system: 0 };
      return previous ? { user: now.user - previous.user, system: 0 } : now;
    };
    const trims: number[] = [];
    const everyMs = 1000;
    const timer = startIdleTrim(() => (trims.push(cpuMs), 1), everyMs, cpuUsage);
    const interval = (usedMs: number): void => {
      cpuMs += usedMs;
      t.mock.timers.tick(everyMs);
    };
    try {
      interval(500); // busy: half a core
      assert.deepEqual(trims, []);
      interval(everyMs * IDLE_TRIM.idleCpuShare); // at the idle line: idle
      const first = cpuMs;
      assert.deepEqual(trims, [first]);
      interval(0);
      interval(1);
      assert.deepEqual(trims, [first], 'once per idle spell');
      interval(300);
      assert.deepEqual(trims, [first]);
      interval(2);
      assert.deepEqual(trims, [first, cpuMs], 'again after a busy spell');
    } finally {
      clearInterval(timer);
    }
  });

  test('tuneMalloc starts it (unref: it holds no process open) and it calls malloc_trim(0)', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const pads: number[] = [];
    const libc = { mallopt: () => 1, mallocTrim: (pad: number) => (pads.push(pad), 1) };
    assert.deepEqual(await tuneMalloc({ platform: 'linux', env: {}, libc, idleTrimEveryMs: 60_000 }), { tuned: MALLOC_TUNING });
    t.mock.timers.tick(60_000);
    assert.deepEqual(pads, [0]);
  });
});

/**
 * Minor page faults of a fresh Node process that, ten times over, allocates 64 buffers of
 * 160–300 KiB (16 MiB), fills them and lets them all go (as ws's joins of messages that span
 * socket reads do in a burst), with or without tuneMalloc() first. Each burst is collected
 * (twice, with a pause for V8's concurrent sweeper) before the next, so the count does not
 * depend on when V8 frees the buffers: with glibc's defaults the freed top of the heap goes back
 * to the system and the next burst faults it in again (~36,500 faults here); tuned, it is kept
 * (~3,800, the first burst). An earlier version freed eight buffers at a time while it
 * allocated, and its count moved with the machine's load (1,300–6,000 with the defaults).
 */
function faultsOf(tuned: boolean): number {
  const script = `
const { tuneMalloc } = require(${JSON.stringify(join(__dirname, 'malloc-tuning.js'))});
const pause = () => new Promise((r) => setTimeout(r, 5));
(${tuned} ? tuneMalloc() : Promise.resolve({})).then(async (outcome) => {
  const sizes = [256 * 1024, 200 * 1024, 300 * 1024, 160 * 1024];
  const before = process.resourceUsage().minorPageFault;
  for (let burst = 0; burst < 10; burst++) {
    let held = [];
    for (let i = 0; i < 64; i++) held.push(Buffer.allocUnsafeSlow(sizes[i % 4]).fill(i));
    held = null;
    gc();
    await pause();
    gc();
    await pause();
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

/** RSS (MiB) of a fresh tuned process: holding 48 MiB of 256 KiB buffers, right after freeing them, and after idling. */
function rssAroundIdle(): { held: number; freed: number; idle: number } {
  const script = `
const { tuneMalloc } = require(${JSON.stringify(join(__dirname, 'malloc-tuning.js'))});
const rss = () => process.memoryUsage().rss / 1048576;
tuneMalloc({ idleTrimEveryMs: 100 }).then(() => {
  let held = [];
  for (let i = 0; i < 192; i++) held.push(Buffer.allocUnsafeSlow(256 * 1024).fill(1));
  const out = { held: rss() };
  held = null;
  gc();
  out.freed = rss();
  setTimeout(() => {
    out.idle = rss();
    process.stdout.write(JSON.stringify(out));
  }, 700);
});`;
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(MALLOC_|GLIBC_TUNABLES$|TETHER_MALLOC_TUNING$)/.test(k)) delete env[k];
  const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env, timeout: 30_000 });
  return JSON.parse(run.stdout) as { held: number; freed: number; idle: number };
}

describe('tuneMalloc in a real process', { skip: process.platform !== 'linux' && 'glibc tuning is for Linux' }, () => {
  test('memory the tuning keeps after a burst goes back to the system once the process idles', () => {
    const { held, freed, idle } = rssAroundIdle();
    assert.ok(held - idle >= 24, `RSS ${held.toFixed(0)} MiB holding 48 MiB, ${freed.toFixed(0)} freed, ${idle.toFixed(0)} after idling`);
  });

  test('bursts of buffers of a few hundred KiB, freed and allocated again, fault at most half as often once tuned', () => {
    // Ten bursts of 16 MiB: with glibc's defaults each one is fresh pages, ~4,000 faults.
    const before = faultsOf(false);
    const after = faultsOf(true);
    assert.ok(after * 2 < before, `faults: ${before} with the defaults, ${after} tuned`);
  });
});
