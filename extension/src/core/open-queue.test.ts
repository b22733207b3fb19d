import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createError, createSessionPair, ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { OpenQueue } from './open-queue.js';
import type { RelaySession } from './relay-session.js';

const session = (): RelaySession => {
  const { a } = createSessionPair();
  return { session: a, closed: new Promise(() => undefined), close: () => a.destroy() };
};
const settle = (p: Promise<unknown>): Promise<unknown> => p.then((v) => v, (e: unknown) => e);
const isError = (value: unknown, code: ErrorCodeString): boolean => isTetherError(value, code);

describe('OpenQueue', () => {
  test('waiters get the session release() picks, each in turn', async () => {
    let changes = 0;
    const queue = new OpenQueue(4, 10_000, () => changes++);
    const waiting = [queue.wait(() => ''), queue.wait(() => '')];
    assert.equal(queue.length, 2);
    assert.equal(changes, 2);
    const s = session();
    queue.release(() => s);
    assert.deepEqual(await Promise.all(waiting), [s, s]);
    assert.equal(queue.length, 0);
  });

  test('a waiter release() finds nothing for gets NO_RELAY', async () => {
    const queue = new OpenQueue(4, 10_000, () => undefined);
    const waiting = settle(queue.wait(() => ''));
    queue.release(() => undefined);
    const err = await waiting;
    assert.ok(isError(err, ErrorCode.NO_RELAY));
  });

  test('one more than the limit fails at once with QUEUE_FULL; a limit of 0 queues nothing', async () => {
    const queue = new OpenQueue(1, 10_000, () => undefined);
    const first = settle(queue.wait(() => ''));
    assert.ok(isError(await settle(queue.wait(() => '')), ErrorCode.QUEUE_FULL));
    assert.ok(isError(await settle(new OpenQueue(0, 10_000, () => undefined).wait(() => '')), ErrorCode.QUEUE_FULL));
    queue.rejectAll(createError(ErrorCode.CANCELLED, 'closed'));
    assert.ok(isError(await first, ErrorCode.CANCELLED));
  });

  test('a waiter that waits timeoutMs gets NO_RELAY naming the relays tried, and leaves the queue', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let changes = 0;
    const queue = new OpenQueue(4, 500, () => changes++);
    const waiting = settle(queue.wait(() => 'http://a, http://b'));
    t.mock.timers.tick(499);
    assert.equal(queue.length, 1);
    t.mock.timers.tick(1);
    const err = await waiting;
    assert.ok(isError(err, ErrorCode.NO_RELAY));
    assert.equal((err as Error).message, 'no relay reachable within 500 ms (tried: http://a, http://b)');
    assert.equal(queue.length, 0);
    assert.equal(changes, 2, 'joining and timing out are both changes');
  });
});
