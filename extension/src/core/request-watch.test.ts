import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describePendingRequest, RequestWatcher } from './request-watch.js';
import type { AccessRequestInfo } from './sharing-types.js';

const request = (over: Partial<AccessRequestInfo> = {}): AccessRequestInfo => ({
  id: 'req_1',
  tunnel: 'web',
  user: 'mia',
  role: 'connect',
  durationMs: 8 * 3_600_000,
  reason: 'deploy',
  createdAt: '2026-12-01T05:00:00.000Z',
  status: 'pending',
  approvals: 0,
  approvalsNeeded: 1,
  reviews: [],
  grantedUntil: null,
  ...over,
});

/** Lets the watcher's promise chain (list() → announce → schedule) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('RequestWatcher', () => {
  test('polls at start and every 30 s; announces each pending request once, oldest first', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let listed: AccessRequestInfo[] = [request({ id: 'b', createdAt: '2026-12-01T05:01:00.000Z' }), request({ id: 'a' })];
    let polls = 0;
    const seen: string[] = [];
    const watcher = new RequestWatcher({
      user: 'alice',
      list: async () => {
        polls++;
        return listed;
      },
      onRequest: (r) => seen.push(r.id),
    });
    watcher.start();
    await settle();
    assert.equal(polls, 1);
    assert.deepEqual(seen, ['a', 'b']);
    t.mock.timers.tick(29_999);
    await settle();
    assert.equal(polls, 1);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(polls, 2);
    assert.deepEqual(seen, ['a', 'b'], 'nothing announced twice');
    listed = [...listed, request({ id: 'c', createdAt: '2026-12-01T05:02:00.000Z' })];
    t.mock.timers.tick(30_000);
    await settle();
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.ok(watcher.has('c'));
    watcher.stop();
    t.mock.timers.tick(120_000);
    await settle();
    assert.equal(polls, 3, 'no poll after stop()');
  });

  test('my own requests, ones I reviewed already and ones no longer pending are not news', async () => {
    const seen: string[] = [];
    const watcher = new RequestWatcher({
      user: 'alice',
      list: async () => [
        request({ id: 'mine', user: 'alice' }),
        request({ id: 'reviewed', approvalsNeeded: 2, approvals: 1, reviews: [{ reviewer: 'alice', decision: 'approve', reason: '', at: '2026-12-01T05:00:00.000Z' }] }),
        request({ id: 'done', status: 'approved' }),
        request({ id: 'new' }),
      ],
      onRequest: (r) => seen.push(r.id),
    });
    await watcher.poll();
    assert.deepEqual(seen, ['new']);
  });

  test('a failing relay is reported once per run of failures; the next answer announces what was missed', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let fail = true;
    const errors: unknown[] = [];
    const seen: string[] = [];
    const watcher = new RequestWatcher({
      user: 'alice',
      list: async () => {
        if (fail) throw new Error('relay down');
        return [request()];
      },
      onRequest: (r) => seen.push(r.id),
      onError: (err) => errors.push(err),
      intervalMs: 1000,
    });
    watcher.start();
    await settle();
    for (let i = 0; i < 3; i++) {
      t.mock.timers.tick(1000);
      await settle();
    }
    assert.equal(errors.length, 1);
    fail = false;
    t.mock.timers.tick(1000);
    await settle();
    assert.deepEqual(seen, ['req_1']);
    fail = true;
    t.mock.timers.tick(1000);
    await settle();
    assert.equal(errors.length, 2, 'a new run of failures is reported again');
    watcher.stop();
  });

  test('a poll that takes longer than the interval is never overlapped by the next', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let release: (() => void) | undefined;
    let polls = 0;
    const watcher = new RequestWatcher({
      user: 'alice',
      list: () => {
        polls++;
        return new Promise((resolve) => {
          release = () => resolve([]);
        });
      },
      onRequest: () => undefined,
      intervalMs: 1000,
    });
    watcher.start();
    await settle();
    t.mock.timers.tick(5000);
    await settle();
    assert.equal(polls, 1);
    release?.();
    await settle();
    t.mock.timers.tick(1000);
    await settle();
    assert.equal(polls, 2);
    watcher.stop();
  });
});

test('describePendingRequest: "mia asks for connect on web for 8h: REASON"', () => {
  assert.equal(describePendingRequest(request()), 'mia asks for connect on web for 8h: deploy');
  assert.equal(describePendingRequest(request({ reason: ' ', durationMs: 90 * 60_000 })), 'mia asks for connect on web for 1h30m');
});
