/**
 * Builders for the relay pool's tests (relay-pool.test.ts, relay-slot.test.ts): relays played by
 * the test, a pool with fast timings, and waiting for a state. Not exported from the package index.
 */
import assert from 'node:assert/strict';
import { createError, createSessionPair, ErrorCode, isTetherError, MuxSession, type ErrorCodeString, type TetherError } from '@tether/shared';
import type { RelayEndpoint } from '../core/endpoints.js';
import type { RelayPoolOptions } from '../core/pool-options.js';
import type { EndpointStatus, PoolState } from '../core/pool-state.js';
import { RelayPool } from '../core/relay-pool.js';
import type { SessionFactory } from '../core/relay-session.js';

export const A = 'http://a.example';
export const B = 'http://b.example';
export const C = 'http://c.example';

export const endpoints = (...specs: [url: string, priority?: number, weight?: number][]): RelayEndpoint[] =>
  specs.map(([url, priority, weight], index) => ({ url, priority: priority ?? index, weight: weight ?? 1 }));

/**
 * Relays by URL, played by the test: each may be down (unreachable), refuse with an error,
 * hang until released, or accept and answer nothing (silent). Accepted sessions are in-memory
 * pairs whose relay side is in `peers`.
 */
export function fakeRelays() {
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
export function testPool(t: { after: (fn: () => void) => void }, options: Partial<RelayPoolOptions> & Pick<RelayPoolOptions, 'endpoints' | 'factory'>): RelayPool {
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
export async function untilState(p: RelayPool, check: (s: PoolState) => boolean, timeoutMs = 3000): Promise<PoolState> {
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

export const stateOf = (s: PoolState, url: string): EndpointStatus | undefined => s.endpoints.find((e) => e.url === url);
export const rejectsWith = async (promise: Promise<unknown>, code: ErrorCodeString): Promise<TetherError> => {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(isTetherError(err, code), `expected ${code}, got ${String(err)}`);
  return err;
};
