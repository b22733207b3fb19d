import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createError, createSessionPair, ErrorCode, isTetherError, MuxSession, type ErrorCodeString, type TetherError } from '@tether/shared';
import type { RelayEndpoint } from './endpoints.js';
import { probeHealth, RelayPool, type PoolState, type RelayPoolOptions } from './relay-pool.js';
import type { RelaySession, SessionFactory } from './relay-session.js';
import { closedPort, listening, memoryRelay } from '../test-support/testing.js';

const A = 'http://a.example';
const B = 'http://b.example';
const C = 'http://c.example';

const endpoints = (...specs: [url: string, priority?: number, weight?: number][]): RelayEndpoint[] =>
  specs.map(([url, priority, weight], index) => ({ url, priority: priority ?? index, weight: weight ?? 1 }));

/**
 * Relays by URL, played by the test: each may be down (unreachable), refuse with an error,
 * hang until released, or accept and answer nothing (silent). Accepted sessions are in-memory
 * pairs whose relay side is in `peers`.
 */
function fakeRelays() {
  const down = new Set<string>();
  const refuse = new Map<string, TetherError>();
  const silent = new Set<string>();
  const held = new Set<string>();
  const releases: (() => void)[] = [];
  const peers = new Map<string, MuxSession[]>();
  const calls: string[] = [];
  const factory: SessionFactory = async (_endpoint, _tunnel, relay) => {
    const url = relay ?? '';
    calls.push(url);
    if (held.has(url)) await new Promise<void>((resolve) => releases.push(resolve));
    if (down.has(url)) throw createError(ErrorCode.RELAY_UNREACHABLE, `cannot reach relay at ${url}`);
    const refusal = refuse.get(url);
    if (refusal) throw refusal;
    let client: MuxSession;
    if (silent.has(url)) {
      client = new MuxSession({ role: 'client', send: () => true }); // nobody ever answers
    } else {
      const { a, b } = createSessionPair();
      client = a;
      peers.set(url, [...(peers.get(url) ?? []), b]);
    }
    let closedByUs = false;
    const closed = new Promise<TetherError | undefined>((resolve) => client.once('close', (err) => resolve(closedByUs ? undefined : err)));
    return {
      session: client,
      closed,
      close: () => {
        closedByUs = true;
        client.destroy();
      },
    };
  };
  const peer = (url: string): MuxSession => {
    const list = peers.get(url) ?? [];
    assert.ok(list.length > 0, `no session to ${url}`);
    return list[list.length - 1];
  };
  const release = (): void => {
    for (const r of releases.splice(0)) r();
  };
  return { factory, down, refuse, silent, held, release, peers, peer, calls };
}

/** A pool with fast timings for tests; closed after the test. */
function pool(t: { after: (fn: () => void) => void }, options: Partial<RelayPoolOptions> & Pick<RelayPoolOptions, 'endpoints' | 'factory'>): RelayPool {
  const p = new RelayPool({
    kind: 'connect',
    detectMs: 3000,
    failbackDelayMs: 0,
    backoff: { baseMs: 10, maxMs: 40 },
    probe: async () => undefined,
    ...options,
  });
  // The pool's timers are unref()'d (a real socket keeps a process alive); in-memory sessions
  // hold nothing, so the test keeps the event loop running while it waits on those timers.
  const keepAlive = setInterval(() => undefined, 1000);
  t.after(() => {
    p.close();
    clearInterval(keepAlive);
  });
  return p;
}

/** Resolves with the first state that satisfies `check` (the current one included). */
async function until(p: RelayPool, check: (s: PoolState) => boolean, timeoutMs = 3000): Promise<PoolState> {
  if (check(p.state())) return p.state();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.off('state', listener);
      reject(new Error(`state never matched; last: ${JSON.stringify(p.state())}`));
    }, timeoutMs);
    const listener = (s: PoolState): void => {
      if (!check(s)) return;
      clearTimeout(timer);
      p.off('state', listener);
      resolve(s);
    };
    p.on('state', listener);
  });
}

const stateOf = (s: PoolState, url: string) => s.endpoints.find((e) => e.url === url);
const rejectsWith = async (promise: Promise<unknown>, code: ErrorCodeString): Promise<TetherError> => {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isTetherError(err, code), `expected ${code}, got ${String(err)}`);
  return err;
};

describe('RelayPool: choosing endpoints', () => {
  test('connects to the best `size` endpoints and sends new streams to the first', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory });
    await p.start();
    const s = await until(p, (x) => x.live === 2);
    assert.deepEqual(relays.calls, [A, B]);
    assert.equal(s.size, 2);
    assert.equal(s.active, A);
    assert.equal(s.reason, 'preferred');
    assert.equal(stateOf(s, C)?.state, 'idle');
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
    assert.deepEqual(p.live().map((x) => p.endpointOf(x)?.url), [A, B]);
  });

  test('the default size is 2 for connect and 4 for host; host pools announce each session', async (t) => {
    const relays = fakeRelays();
    const five = endpoints(['http://e1'], ['http://e2'], ['http://e3'], ['http://e4'], ['http://e5']);
    const host = pool(t, { kind: 'host', tunnel: 'box', endpoints: five, factory: relays.factory });
    const announced: string[] = [];
    host.on('session', (_s, endpoint) => announced.push(endpoint.url));
    await host.start();
    await until(host, (x) => x.live === 4);
    assert.deepEqual(announced.sort(), ['http://e1', 'http://e2', 'http://e3', 'http://e4']);
    const connect = pool(t, { endpoints: five, factory: fakeRelays().factory });
    assert.equal(connect.state().size, 2);
  });

  test('memoryRelay is told which relay to connect to', async (t) => {
    const relay = memoryRelay();
    const p = pool(t, { kind: 'host', tunnel: 'box', endpoints: endpoints([A]), factory: relay.factory });
    await p.start();
    assert.deepEqual(relay.calls, [['host', 'box']]);
    assert.deepEqual(relay.relays, [A]);
  });

  test('equal priorities share new streams by weight', async (t) => {
    const relays = fakeRelays();
    let r = 0;
    const p = pool(t, { endpoints: endpoints([A, 0, 3], [B, 0, 1]), factory: relays.factory, random: () => r });
    await p.start();
    await until(p, (x) => x.live === 2);
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
    const p = pool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, size: 1 });
    await p.start();
    const s = p.state();
    assert.equal(s.active, B);
    assert.match(s.reason, /^failover: http:\/\/a\.example down \(TETHER_ERR_RELAY_UNREACHABLE\)$/);
    assert.equal(stateOf(s, A)?.state, 'down');
    assert.equal(stateOf(s, A)?.lastError?.code, ErrorCode.RELAY_UNREACHABLE);
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
  });
});

describe('RelayPool: failures', () => {
  test('a lost session fails over to the next endpoint and is reported', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, failbackDelayMs: 60_000 });
    await p.start();
    await until(p, (x) => x.live === 2);
    const lost = once(p, 'lost') as Promise<[RelaySession, RelayEndpoint, TetherError | undefined]>;
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'cable cut'));
    const [, endpoint, err] = await lost;
    assert.equal(endpoint.url, A);
    assert.equal(err?.code, ErrorCode.CONNECTION_LOST);
    const s = await until(p, (x) => x.active === B);
    assert.equal(s.reason, 'failover: http://a.example lost (TETHER_ERR_CONNECTION_LOST)');
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    const retrying = await until(p, (x) => stateOf(x, A)?.state === 'down' && stateOf(x, A)?.retryInMs !== undefined);
    assert.ok((stateOf(retrying, A)?.retryInMs ?? -1) <= 40);
  });

  test('start() fails when every endpoint fails, with the error retrying cannot fix', async (t) => {
    const relays = fakeRelays();
    relays.down.add(A);
    relays.refuse.set(B, createError(ErrorCode.UNAUTHORIZED, 'the relay refused the token'));
    relays.down.add(C);
    const p = pool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, size: 1 });
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
    const p = pool(t, { endpoints: endpoints([A]), factory: relays.factory });
    await rejectsWith(p.start(), ErrorCode.RELAY_UNREACHABLE);
  });

  test('an endpoint that refuses us after start is marked failed and retried at the slowest pace', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, now: () => 1000 });
    await p.start();
    await until(p, (x) => x.live === 2);
    relays.refuse.set(B, createError(ErrorCode.UNAUTHORIZED, 'token revoked'));
    relays.peer(B).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await until(p, (x) => stateOf(x, B)?.retryInMs !== undefined);
    const calls = relays.calls.length;
    const s = await until(p, (x) => stateOf(x, B)?.state === 'failed');
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
    const p = pool(t, { endpoints: endpoints([A]), factory: relays.factory, probe });
    await p.start();
    assert.deepEqual(probed, [], 'no probe on the first attempt');
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await until(p, () => probed.length >= 2);
    assert.equal(relays.calls.length, 1, 'no connection attempt while the probe fails');
    assert.match(stateOf(p.state(), A)?.lastError?.message ?? '', /unhealthy/);
    healthy = true;
    await until(p, (x) => x.live === 1);
    assert.equal(relays.calls.length, 2);
  });

  test('a session that stops answering is dropped within detectMs', async (t) => {
    const relays = fakeRelays();
    relays.silent.add(A);
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, detectMs: 90, failbackDelayMs: 60_000 });
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
    assert.equal((await until(p, (x) => x.active === B)).active, B);
  });

  test('a GOAWAY drains the session: no new streams, a replacement, lost once it closes', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, { endpoints: endpoints([A], [B], [C]), factory: relays.factory, failbackDelayMs: 60_000 });
    await p.start();
    await until(p, (x) => x.live === 2);
    const first = await p.acquire();
    relays.down.add(A);
    const lost: [string, TetherError | undefined][] = [];
    p.on('lost', (_s, endpoint, err) => lost.push([endpoint.url, err]));
    const stream = first.session.openStream('box');
    relays.peer(A).goAway();
    const s = await until(p, (x) => stateOf(x, A)?.state === 'draining' && x.live === 2);
    assert.equal(stateOf(s, C)?.state, 'up', 'a replacement was connected');
    assert.equal(s.active, B);
    assert.match(s.reason, /^failover: http:\/\/a\.example draining \(TETHER_ERR_GOING_AWAY\)$/);
    assert.notEqual(p.endpointOf(await p.acquire())?.url, A);
    assert.equal(p.live().at(-1), first, 'draining sessions come last');
    assert.deepEqual(lost, [], 'not lost while it drains');
    stream.reset();
    relays.peer(A).destroy();
    await until(p, () => lost.length === 1);
    assert.equal(lost[0][0], A);
    assert.equal(p.endpointOf(first), undefined);
  });
});

describe('RelayPool: the open queue', () => {
  test('waiters are released when a session comes up', async (t) => {
    const relays = fakeRelays();
    relays.held.add(A);
    const p = pool(t, { endpoints: endpoints([A]), factory: relays.factory });
    const started = p.start();
    const waiting = [p.acquire(), p.acquire(), p.acquire()];
    assert.equal((await until(p, (x) => x.queued === 3)).queued, 3);
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
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, queueLimit: 2, queueTimeoutMs: 80 });
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
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, size: 2 });
    await p.start();
    const session = await p.acquire();
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await until(p, (x) => x.live === 0 && x.queued === 0);
    const waiting = p.acquire();
    await until(p, (x) => x.queued === 1);
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

describe('RelayPool: failback and backoff', () => {
  test('streams move back to the preferred endpoint only after it stayed up failbackDelayMs', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, { endpoints: endpoints([A], [B]), factory: relays.factory, size: 1, failbackDelayMs: 250 });
    await p.start();
    relays.down.add(A);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'gone'));
    await until(p, (x) => x.active === B);
    relays.down.delete(A);
    await until(p, (x) => stateOf(x, A)?.state === 'up');
    const upAt = Date.now();
    assert.equal(p.state().active, B);
    assert.equal(p.endpointOf(await p.acquire())?.url, B);
    const lost: string[] = [];
    p.on('lost', (_s, endpoint, err) => lost.push(`${endpoint.url} ${err?.code ?? 'surplus'}`));
    const s = await until(p, (x) => x.active === A);
    assert.ok(Date.now() - upAt >= 240, `failed back after ${Date.now() - upAt} ms`);
    assert.equal(s.reason, 'failback');
    assert.equal(p.endpointOf(await p.acquire())?.url, A);
    await until(p, (x) => stateOf(x, B)?.state === 'idle');
    assert.deepEqual(lost, [`${B} surplus`], 'the stand-in is closed once it carries nothing');
  });

  test('the backoff grows while sessions flap and resets only after stableAfterMs', async (t) => {
    const relays = fakeRelays();
    const p = pool(t, {
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
      delays.push(stateOf(await until(p, (x) => stateOf(x, A)?.retryInMs !== undefined), A)?.retryInMs);
      await until(p, (x) => x.live === 1);
    }
    assert.deepEqual(delays, [20, 40, 80]);
    await sleep(200);
    relays.peer(A).destroy(createError(ErrorCode.CONNECTION_LOST, 'after a stable while'));
    assert.equal(stateOf(await until(p, (x) => stateOf(x, A)?.retryInMs !== undefined), A)?.retryInMs, 20);
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

describe('probeHealth', () => {
  test('a 2xx passes; any other status or no answer is RELAY_UNREACHABLE', async (t) => {
    let status = 200;
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? status : 404).end('{}');
    });
    const port = await listening(server);
    t.after(() => server.close());
    await probeHealth(`ws://127.0.0.1:${port}`);
    status = 503;
    const err = await rejectsWith(probeHealth(`http://127.0.0.1:${port}`), ErrorCode.RELAY_UNREACHABLE);
    assert.match(err.message, /HTTP 503 at \/healthz/);
    await rejectsWith(probeHealth(`http://127.0.0.1:${await closedPort()}`), ErrorCode.RELAY_UNREACHABLE);
  });
});
