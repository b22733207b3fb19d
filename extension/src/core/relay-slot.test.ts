import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { RelayEndpoint } from './endpoints.js';
import { describePoolReason } from './pool-reason.js';
import { A, B, C, endpoints, fakeRelays, rejectsWith, stateOf, testPool, untilState } from '../test-support/pool-testing.js';
import type { RelaySession } from './relay-session.js';

// One endpoint's session lifecycle (RelaySlot: attempts, probes, loss, silence, GOAWAY, retries
// and backoff, trust after a failure), driven through the pool that owns the slots.

describe('RelayPool: failures', () => {
  test('a lost session fails over to the next endpoint and is reported', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, failbackDelayMs: 60_000 });
    await p.start();
    await untilState(p, (x) => x.live === 2);
    const lost = once(p, 'lost') as Promise<[RelaySession, RelayEndpoint, TetherError | undefined]>;
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'cable cut'));
    const [, endpoint, err] = await lost;
    assert.equal(endpoint.url, A);
    assert.equal(err?.code, ErrorCode.CONNECTION_LOST);
    const s = await untilState(p, (x) => x.active === B);
    assert.equal(describePoolReason(s.reason), 'failover: http://a.example lost (TETHER_ERR_CONNECTION_LOST)');
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    const retrying = await untilState(p, (x) => stateOf(x, A)?.state === 'down' && stateOf(x, A)?.retryInMs !== undefined);
    assert.ok((stateOf(retrying, A)?.retryInMs ?? -1) <= 40);
  });

  test('start() fails when every endpoint fails, with the error retrying cannot fix', async (t) => {
    const relays = fakeRelays();
    relays.down.add(A);
    relays.refuse.set(B, createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token'));
    relays.down.add(C);
    const p = testPool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, size: 1 });
    await rejectsWith(p.start(), ErrorCode.UNAUTHORIZED);
    assert.deepEqual(relays.calls, [A, B, C]);
    const s = p.state();
    assert.deepEqual(s.endpoints.map((e) => e.state), ['down', 'failed', 'down']);
    assert.equal(s.active, undefined);
    await rejectsWith(p.acquire(), ErrorCode.CANCELLED);
    await sleep(60);
    assert.equal(relays.calls.length, 3, 'a pool that failed to start stops');
  });

  test('start() reports RELAY_UNREACHABLE when that is all there is', async (t) => {
    const relays = fakeRelays();
    relays.down.add(A);
    const p = testPool(t, { endpoints: endpoints([A]), factory: relays.factory });
    await rejectsWith(p.start(), ErrorCode.RELAY_UNREACHABLE);
  });

  test('an endpoint that refuses us after start is marked failed and retried at the slowest pace', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, now: () => 1000 });
    await p.start();
    await untilState(p, (x) => x.live === 2);
    relays.refuse.set(B, createError(ErrorCode.UNAUTHORIZED, 'token revoked'));
    relays.peer(B).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await untilState(p, (x) => stateOf(x, B)?.retryInMs !== undefined);
    const calls = relays.calls.length;
    const s = await untilState(p, (x) => stateOf(x, B)?.state === 'failed');
    assert.equal(stateOf(s, B)?.lastError?.code, ErrorCode.UNAUTHORIZED);
    assert.equal(stateOf(s, B)?.retryInMs, 40);
    assert.equal(relays.calls.length, calls + 1);
  });

  test('a failed health probe counts as a failed attempt', async (t) => {
    const relays = fakeRelays();
    const probed: string[] = [];
    let healthy = false;
    const probe = async (url: string): Promise<void> => {
      probed.push(url);
      if (!healthy) throw createError(ErrorCode.RELAY_UNREACHABLE, `${url} is unhealthy`);
    };
    const p = testPool(t, { endpoints: endpoints([A]), factory: relays.factory, probe });
    await p.start();
    assert.deepEqual(probed, [], 'no probe on the first attempt');
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await untilState(p, () => probed.length >= 2);
    assert.equal(relays.calls.length, 1, 'no connection attempt while the probe fails');
    assert.match(stateOf(p.state(), A)?.lastError?.message ?? '', /unhealthy/);
    healthy = true;
    await untilState(p, (x) => x.live === 1);
    assert.equal(relays.calls.length, 2);
  });

  test('a session that stops answering is dropped within detectMs', async (t) => {
    const relays = fakeRelays();
    relays.silent.add(A);
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, detectMs: 90, failbackDelayMs: 60_000 });
    const lost = once(p, 'lost') as Promise<[RelaySession, RelayEndpoint, TetherError | undefined]>;
    const started = Date.now();
    await p.start();
    const [, endpoint, err] = await lost;
    const elapsed = Date.now() - started;
    assert.equal(endpoint.url, A);
    assert.equal(err?.code, ErrorCode.CONNECTION_LOST);
    assert.match(err?.message ?? '', /no answer from relay http:\/\/a\.example for \d+ ms/);
    // Not a timing threshold (npm test has none): only that the silence, not some later
    // timeout, ended the session. Detection within detectMs is measured by the chaos suite.
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    assert.equal((await untilState(p, (x) => x.active === B)).active, B);
  });

  test('a GOAWAY drains the session: no new streams, a replacement, lost once it closes', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, failbackDelayMs: 60_000 });
    await p.start();
    await untilState(p, (x) => x.live === 2);
    const first = await p.acquire();
    relays.down.add(A);
    const lost: [string, TetherError | undefined][] = [];
    p.on('lost', (_s, endpoint, err) => lost.push([endpoint.url, err]));
    const stream = first.session.openStream('box');
    relays.peer(A).goAway();
    const s = await untilState(p, (x) => stateOf(x, A)?.state === 'draining' && x.live === 2);
    assert.equal(stateOf(s, C)?.state, 'up', 'a replacement was connected');
    assert.equal(s.active, B);
    assert.match(describePoolReason(s.reason), /^failover: http:\/\/a\.example draining \(TETHER_ERR_GOING_AWAY\)$/);
    assert.notEqual(p.endpointOf(await p.acquire())?.url, A);
    assert.equal(p.live().at(-1), first, 'draining sessions come last');
    assert.deepEqual(lost, [], 'not lost while it drains');
    stream.reset();
    relays.peer(A).destroy();
    await untilState(p, () => lost.length === 1);
    assert.equal(lost[0][0], A);
    assert.equal(p.endpointOf(first), undefined);
  });
});

describe('RelayPool: failback and backoff', () => {
  test('streams move back to the preferred endpoint only after it stayed up failbackDelayMs', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, size: 1, failbackDelayMs: 250 });
    await p.start();
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await untilState(p, (x) => x.active === B);
    relays.down.delete(A);
    await untilState(p, (x) => stateOf(x, A)?.state === 'up');
    const upAt = Date.now();
    assert.equal(p.state().active, B);
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    const lost: string[] = [];
    p.on('lost', (_s, endpoint, err) => lost.push(`${endpoint.url} ${err?.code ?? 'surplus'}`));
    const s = await untilState(p, (x) => x.active === A);
    assert.ok(Date.now() - upAt >= 240, `failed back after ${Date.now() - upAt} ms`);
    assert.equal(describePoolReason(s.reason), 'failback');
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
    await untilState(p, (x) => stateOf(x, B)?.state === 'idle');
    assert.deepEqual(lost, [`${B} surplus`], 'the stand-in is closed once it carries nothing');
  });

  test('the backoff grows while sessions flap and resets only after stableAfterMs', async (t) => {
    const relays = fakeRelays();
    const p = testPool(t, {
      endpoints: endpoints([A]),
      factory: relays.factory,
      random: () => 1,
      now: () => 0,
      backoff: { baseMs: 20, maxMs: 1000 },
      stableAfterMs: 150,
    });
    await p.start();
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'flap'));
      delays.push(stateOf(await untilState(p, (x) => stateOf(x, A)?.retryInMs !== undefined), A)?.retryInMs);
      await untilState(p, (x) => x.live === 1);
    }
    assert.deepEqual(delays, [20, 40, 80]);
    await sleep(200);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'after a stable while'));
    assert.equal(stateOf(await untilState(p, (x) => stateOf(x, A)?.retryInMs !== undefined), A)?.retryInMs, 20);
  });
});
