import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OrderedQueue, type Settled } from './open-queue.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

test('OrderedQueue applies in push order whatever order the look-ups finish in', async () => {
  const pending = new Map<number, ReturnType<typeof deferred<string>>>();
  const applied: [number, Settled<string>][] = [];
  const outcomes = (): [number, boolean][] => applied.map(([n, o]) => [n, o.ok]);
  const queue = new OrderedQueue<number, string>((n) => {
    const d = deferred<string>();
    pending.set(n, d);
    return d.promise;
  }, (n, outcome) => applied.push([n, outcome]));
  for (const n of [1, 2, 3]) queue.push(n);
  assert.equal(queue.size, 3);
  pending.get(3)!.resolve('c');
  pending.get(2)!.reject(new Error('b failed'));
  await tick();
  assert.deepEqual(applied, [], 'nothing before the head');
  pending.get(1)!.resolve('a');
  await tick();
  assert.deepEqual(outcomes(), [[1, true], [2, false], [3, true]]);
  assert.equal(queue.size, 0);
});

test('OrderedQueue turns a look-up that throws synchronously into a failed outcome', async () => {
  const applied: Settled<number>[] = [];
  const queue = new OrderedQueue<number, number>(() => { throw new Error('sync'); }, (_n, o) => applied.push(o));
  queue.push(1);
  await tick();
  assert.equal(applied.length, 1);
  assert.equal(applied[0].ok, false);
});

test('OrderedQueue.close drops what is queued and ignores later answers, even from inside apply', async () => {
  const applied: number[] = [];
  const queue: OrderedQueue<number, number> = new OrderedQueue<number, number>(async (n) => n, (n) => {
    applied.push(n);
    if (n === 1) queue.close();
  });
  queue.push(1);
  queue.push(2);
  await tick();
  assert.deepEqual(applied, [1]);
  queue.push(3);
  await tick();
  assert.deepEqual(applied, [1]);
});
