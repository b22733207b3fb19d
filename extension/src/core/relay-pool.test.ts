import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createError, ErrorCode, isTetherError } from '@tether/shared';
import type { RelayPoolOptions } from './pool-options.js';
import { describePoolReason } from './pool-reason.js';
import { A, B, C, endpoints, fakeRelays, rejectsWith, stateOf, testPool, untilState } from '../test-support/pool-testing.js';
import { RelayPool } from './relay-pool.js';
import { memoryRelay } from '../test-support/testing.js';

describe('RelayPool: choosing endpoints', () => {
  test('connects to the best `size` endpoints and sends new streams to the first', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory });
    await p.start();
    const s = await untilState(p, (x) => x.live === 2);
    assert.deepEqual(relays.calls, [A, B]);
    assert.equal(s.size, 2);
    assert.equal(s.active, A);
    assert.equal(describePoolReason(s.reason), 'preferred');
    assert.equal(stateOf(s, C)?.state, 'idle');
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
    assert.deepEqual(p.live().map((x) => p.endpointOf(x)?.url), [A, B]);
  });

  test('the default size is 2 for connect and 4 for host; host pools announce each session', async (t) => {
    const relays = fakeRelays();
    const five = endpoints(['http://e1'], ['http://e2'], ['http://e3'], ['http://e4'], ['http://e5']);
    const host = testPool(t, { kind: 'host', tunnel: 'box', endpoints: five, factory: relays.factory });
    const announced: string[] = [];
    host.on('session', (_s, endpoint) => announced.push(endpoint.url));
    await host.start();
    await untilState(host, (x) => x.live === 4);
    assert.deepEqual(announced.sort(), ['http://e1', 'http://e2', 'http://e3', 'http://e4']);
    const connect = testPool(t, { endpoints: five, factory: fakeRelays().factory });
    assert.equal(connect.state().size, 2);
  });

  test('memoryRelay is told which relay to connect to', async (t) => {
    const relay = memoryRelay();
    const p = testPool(t, { kind: 'host', tunnel: 'box', endpoints: endpoints([A]), factory: relay.factory });
    await p.start();
    assert.deepEqual(relay.calls, [['host', 'box']]);
    assert.deepEqual(relay.relays, [A]);
  });

  test('equal priorities share new streams by weight', async (t) => {
    const relays = fakeRelays();
    let r = 0;
    const p = testPool(t, { endpoints: endpoints([A, 0, 3], [B, 0, 1]), factory: relays.factory, random: () => r });
    await p.start();
    await untilState(p, (x) => x.live === 2);
    const picks: string[] = [];
    for (const value of [0, 0.5, 0.74, 0.76, 0.99]) {
      r = value;
      picks.push(p.endpointOf(await p.acquire())?.url ?? '');
    }
    assert.deepEqual(picks, [A, A, A, B, B]);
  });

  test('a lower priority endpoint is used only while the better ones are down', async (t) => {
    const relays = fakeRelays();
    relays.down.add(A);
    const p = testPool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, size: 1 });
    await p.start();
    const s = p.state();
    assert.equal(s.active, B);
    assert.match(describePoolReason(s.reason), /^failover: http:\/\/a\.example down \(TETHER_ERR_RELAY_UNREACHABLE\)$/);
    assert.equal(stateOf(s, A)?.state, 'down');
    assert.equal(stateOf(s, A)?.lastError?.code, ErrorCode.RELAY_UNREACHABLE);
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
  });
});

describe('RelayPool: the preferred endpoint at start', () => {
  test('a worse endpoint up first: start() waits for the better one still connecting, and the first stream goes there', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, startGraceMs: 60_000 });
    let started = false;
    const start = p.start().then(() => (started = true));
    await untilState(p, (x) => stateOf(x, B)?.state === 'up');
    await sleep(20);
    assert.equal(started, false, 'start() waited for the better endpoint');
    relays.release();
    await start;
    assert.equal(p.state().active, A);
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
  });

  test('the better endpoint still connecting after startGraceMs: start() resolves with the one up, and streams move once it is up', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, startGraceMs: 50 });
    const began = Date.now();
    await p.start();
    assert.ok(Date.now() - began >= 45, `start() resolved after ${Date.now() - began} ms, before the grace`);
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    relays.release();
    await untilState(p, (x) => x.active === A);
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
  });

  test('the better endpoint fails its first attempt: start() resolves at once with the one up', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    relays.down.add(A);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, startGraceMs: 60_000 });
    const start = p.start();
    await untilState(p, (x) => stateOf(x, B)?.state === 'up');
    relays.release();
    await start;
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
  });

  test('endpoints of equal priority do not wait for each other', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    const p = testPool(t, { endpoints: endpoints([A, 0, 1], [B, 0, 1]), factory: relays.factory, startGraceMs: 60_000 });
    await p.start();
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    relays.release();
  });
});

describe('RelayPool: the open queue', () => {
  test('waiters are released when a session comes up', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    const p = testPool(t, { endpoints: endpoints([A]), factory: relays.factory });
    const started = p.start();
    const waiting = [p.acquire(), p.acquire(), p.acquire()];
    assert.equal((await untilState(p, (x) => x.queued === 3)).queued, 3);
    assert.equal(stateOf(p.state(), A)?.state, 'connecting');
    relays.release();
    await started;
    const sessions = await Promise.all(waiting);
    assert.ok(sessions.every((s) => s === sessions[0] && p.endpointOf(s)?.url === A));
    assert.equal(p.state().queued, 0);
  });

  test('more than queueLimit waiting → QUEUE_FULL at once; too long → NO_RELAY', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    relays.held.add(B);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, queueLimit: 2, queueTimeoutMs: 80 });
    void p.start().catch(() => undefined);
    const first = p.acquire();
    const second = p.acquire();
    await rejectsWith(p.acquire(), ErrorCode.QUEUE_FULL);
    const began = Date.now();
    const err = await rejectsWith(first, ErrorCode.NO_RELAY);
    await rejectsWith(second, ErrorCode.NO_RELAY);
    assert.ok(Date.now() - began >= 70);
    assert.equal(err.message, 'no relay reachable within 80 ms (tried: http://a.example, http://b.example)');
    assert.equal(p.state().queued, 0);
  });

  test('close() rejects waiters with CANCELLED, closes sessions and stops retrying', async (t) => {
    const relays = fakeRelays();
    relays.held.add(B);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, size: 2 });
    await p.start();
    const session = await p.acquire();
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await untilState(p, (x) => x.live === 0 && x.queued === 0);
    const waiting = p.acquire();
    await untilState(p, (x) => x.queued === 1);
    const events: string[] = [];
    p.on('lost', () => events.push('lost'));
    p.close();
    p.on('state', () => events.push('state'));
    await rejectsWith(waiting, ErrorCode.CANCELLED);
    await rejectsWith(p.acquire(), ErrorCode.CANCELLED);
    await rejectsWith(p.start(), ErrorCode.CANCELLED);
    assert.equal(session.session.closed, true);
    const calls = relays.calls.length;
    relays.release();
    await sleep(80);
    assert.equal(relays.calls.length, calls, 'no attempts after close');
    assert.deepEqual(events, []);
    assert.deepEqual(p.live(), []);
    assert.equal(p.state().active, undefined);
  });
});

describe('RelayPool: options', () => {
  const bad: [what: string, options: Partial<RelayPoolOptions>][] = [
    ['no endpoints', { endpoints: [] }],
    ['size 0', { size: 0 }],
    ['a fractional detectMs', { detectMs: 1.5 }],
    ['a negative failbackDelayMs', { failbackDelayMs: -1 }],
  ];
  for (const [what, options] of bad) {
    test(`refuses ${what}`, () => {
      assert.throws(
        () => new RelayPool({ kind: 'connect', endpoints: endpoints([A]), factory: fakeRelays().factory, ...options }),
        (err: unknown) => isTetherError(err, ErrorCode.INVALID_ARGUMENT),
      );
    });
  }
});

describe('RelayPool: keepTrying at start', () => {
  test('every endpoint unreachable at first: start() waits and resolves once one comes up', async (t) => {
    const relays = fakeRelays();
    relays.down.add(A);
    relays.down.add(B);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, keepTrying: true });
    let started = false;
    const starting = p.start().then(() => (started = true));
    const waiting = await untilState(p, (x) => x.endpoints.every((e) => e.state === 'down' && e.retryInMs !== undefined));
    assert.equal(stateOf(waiting, A)?.lastError?.code, ErrorCode.RELAY_UNREACHABLE);
    assert.equal(started, false);
    relays.down.delete(B);
    await starting;
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
  });

  test('an error retrying cannot fix still ends start() at once', async (t) => {
    const relays = fakeRelays();
    relays.refuse.set(A, createError(ErrorCode.UNAUTHORIZED, 'invalid token'));
    const p = testPool(t, { endpoints: endpoints([A]), factory: relays.factory, keepTrying: true });
    await rejectsWith(p.start(), ErrorCode.UNAUTHORIZED);
  });
});
