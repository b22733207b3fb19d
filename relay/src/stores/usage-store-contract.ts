import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from '../ports/store.js';
import { DEFAULT_USAGE_RETENTION, emptyCounters, type UsageDelta } from '../ports/usage-store.js';
import type { StoreTwin } from './team-store-contract.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/**
 * The start of the last full hour: rows this recent are inside every retention. Redis expires
 * rows by the real clock, so a fixed date here starts failing once it is 48 hours old.
 */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const T0_DAY = Math.floor(T0 / DAY) * DAY;
const delta = (minute: number, tunnel: string, user: string, node: string, more: Partial<UsageDelta> = {}): UsageDelta => ({ ...emptyCounters(), minute, tunnel, user, node, ...more });

/**
 * Usage roll-ups on every store (SQLite, Redis, Redis Cluster): deltas add up in the minute, hour
 * and day rows, peaks keep the maximum, failed opens merge per code, two nodes on one database
 * write into the same rows, and old rows go after their retention.
 */
export function usageStoreContract(name: string, withStore: (title: string, body: (store: Store) => Promise<void>) => void, twin: StoreTwin): void {
  describe(`Usage store contract: ${name}`, () => {
    withStore('deltas roll up into minute, hour and day rows: counters add, peak keeps the maximum, failed opens merge per code, streams per protocol', async (store) => {
      await store.usage.add([
        delta(T0, 'web', 'alice', 'n1', { bytesUp: 100, bytesDown: 1000, opened: 2, closed: 1, durationMs: 500, peak: 2, failed: { '3': 1 }, protocols: { ssh: 1 } }),
        delta(T0 + 60_000, 'web', 'alice', 'n1', { bytesUp: 5, opened: 1, peak: 1, failed: { '3': 2, '7': 1 }, protocols: { ssh: 2, tls: 1 } }),
        delta(T0 + 60_000, 'db', 'bob', 'n1', { bytesDown: 7, peak: 4 }),
      ], DEFAULT_USAGE_RETENTION);
      await store.usage.add([delta(T0, 'web', 'alice', 'n1', { bytesUp: 1, peak: 1, protocols: { unknown: 1 } })], DEFAULT_USAGE_RETENTION);
      const minutes = await store.usage.query({ step: 'minute', from: T0, to: T0 + 120_000 });
      assert.deepEqual(minutes.map((r) => [r.bucket - T0, r.tunnel, r.user, r.node, r.bytesUp, r.bytesDown, r.opened, r.closed, r.durationMs, r.peak, r.failed]), [
        [0, 'web', 'alice', 'n1', 101, 1000, 2, 1, 500, 2, { '3': 1 }],
        [60_000, 'db', 'bob', 'n1', 0, 7, 0, 0, 0, 4, {}],
        [60_000, 'web', 'alice', 'n1', 5, 0, 1, 0, 0, 1, { '3': 2, '7': 1 }],
      ]);
      assert.deepEqual(minutes.map((r) => r.protocols), [{ ssh: 1, unknown: 1 }, {}, { ssh: 2, tls: 1 }]);
      const hours = await store.usage.query({ step: 'hour', from: T0, to: T0 + 3_600_000 });
      assert.deepEqual(hours.map((r) => [r.step, r.bucket, r.tunnel, r.bytesUp, r.bytesDown, r.opened, r.peak, r.failed]), [
        ['hour', T0, 'db', 0, 7, 0, 4, {}],
        ['hour', T0, 'web', 106, 1000, 3, 2, { '3': 3, '7': 1 }],
      ]);
      assert.deepEqual(hours.map((r) => r.protocols), [{}, { ssh: 3, tls: 1, unknown: 1 }]);
      const days = await store.usage.query({ step: 'day', from: T0_DAY, to: T0_DAY + DAY, tunnels: ['web'] });
      assert.deepEqual(days.map((r) => [r.tunnel, r.bytesUp, r.opened]), [['web', 106, 3]]);
      assert.deepEqual(await store.usage.query({ step: 'minute', from: T0 + 120_000, to: T0 + 180_000 }), []);
    });

    withStore('two nodes on one database add into the same rows, each under its own node', async (store) => {
      const other = await twin(store);
      try {
        await Promise.all([
          store.usage.add([delta(T0, 'web', 'alice', 'n1', { bytesUp: 10, peak: 3 })], DEFAULT_USAGE_RETENTION),
          other.usage.add([delta(T0, 'web', 'alice', 'n2', { bytesUp: 20, peak: 5 }), delta(T0, 'web', 'alice', 'n1', { bytesUp: 1, peak: 2 })], DEFAULT_USAGE_RETENTION),
        ]);
        const rows = await other.usage.query({ step: 'hour', from: T0, to: T0 + 3_600_000 });
        assert.deepEqual(rows.map((r) => [r.node, r.bytesUp, r.peak]), [['n1', 11, 3], ['n2', 20, 5]]);
      } finally {
        await other.close();
      }
    });

    withStore('rows older than their retention are dropped (minutes first), the coarser ones stay', async (store) => {
      const now = Date.now();
      const minute = Math.floor(now / 60_000) * 60_000;
      const retention = { minute: 60_000, hour: 3_600_000 * 24, day: 86_400_000 * 30 };
      await store.usage.add([delta(minute - 10 * 60_000, 'web', 'alice', 'n1', { bytesUp: 1 }), delta(minute, 'web', 'alice', 'n1', { bytesUp: 2 })], retention);
      await store.usage.prune(now, retention);
      // Redis expires keys itself; the old minute's expiry (its end + 1 min) is already past.
      const minutes = await store.usage.query({ step: 'minute', from: minute - 20 * 60_000, to: minute + 60_000 });
      assert.deepEqual(minutes.map((r) => [r.bucket, r.bytesUp]), [[minute, 2]]);
      const hours = await store.usage.query({ step: 'hour', from: minute - 3_600_000 * 2, to: minute + 3_600_000 });
      assert.equal(hours.reduce((s, r) => s + r.bytesUp, 0), 3);
    });
  });
}
