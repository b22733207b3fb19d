import { EventEmitter } from 'node:events';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createError, ErrorCode, isTetherError, type TetherError } from '@tether/shared';
import { Backoff } from './backoff.js';
import type { RelayEndpoint } from './endpoints.js';
import type { Endpoint, RelaySession, SessionFactory } from './relay-session.js';
import { parseRelayUrl } from './relay-url.js';

export type EndpointState = 'up' | 'connecting' | 'down' | 'draining' | 'failed' | 'idle';

/** One endpoint as the pool sees it (for status displays; times are epoch ms from `now`). */
export interface EndpointStatus {
  url: string;
  priority: number;
  weight: number;
  /** up: a live session; draining: only a session that got GOAWAY; down: retrying after a retryable error; failed: after one that is not (retried slowly). */
  state: EndpointState;
  /** Smoothed round-trip time of the live session, 0 when none. */
  rttMs: number;
  /** When `state` last changed. */
  since: number;
  /** Streams open on this endpoint's sessions (live and draining). */
  streams: number;
  lastError?: { code: string; message: string };
  /** Time to the next attempt, when one is scheduled. */
  retryInMs?: number;
}

/** What the pool is doing and why; emitted as 'state' on every change. */
export interface PoolState {
  /** URL of the endpoint new streams go to. */
  active: string | undefined;
  /** Why `active` is what it is: 'preferred', 'failover: <url> lost (<code>)', 'failback', 'no relay'. */
  reason: string;
  /** When `active` last changed (epoch ms). */
  since: number;
  /** acquire() calls waiting for a session. */
  queued: number;
  /** Live sessions (not draining). */
  live: number;
  /** Live sessions the pool keeps. */
  size: number;
  endpoints: EndpointStatus[];
}

export interface RelayPoolOptions {
  kind: Endpoint;
  /** Tunnel to register (host kind). */
  tunnel?: string;
  endpoints: RelayEndpoint[];
  factory: SessionFactory;
  /** Live sessions wanted: default min(endpoints, 4) for host, min(endpoints, 2) for connect. */
  size?: number;
  /**
   * A dead or stalled relay is detected within this long: sessions are pinged every detectMs/4
   * and one that received nothing for three of those intervals is closed. Default 3000.
   */
  detectMs?: number;
  /** A preferred endpoint that came back must stay up this long before streams move back to it. Default 10000. */
  failbackDelayMs?: number;
  /** acquire() calls that may wait for a session at once. Default 256. */
  queueLimit?: number;
  /** How long one acquire() may wait. Default 10000. */
  queueTimeoutMs?: number;
  /** A session up this long resets its endpoint's backoff. Default 30000. */
  stableAfterMs?: number;
  backoff?: { baseMs?: number; maxMs?: number };
  /** Health check before reconnecting an endpoint that was down; default GET <url>/healthz. */
  probe?: (url: string) => Promise<void>;
  /** Wall clock in epoch ms (for `since` and retry times). */
  now?: () => number;
  /** Source of randomness for weighted choices, in [0, 1). */
  random?: () => number;
}

export interface RelayPoolEvents {
  state: [PoolState];
  /** A new live session (a host attaches its 'stream' listener here). */
  session: [RelaySession, RelayEndpoint];
  /**
   * A session is gone (draining ones when they finally close); the error is undefined when the
   * pool closed a surplus session. Not emitted for the sessions close() ends.
   */
  lost: [RelaySession, RelayEndpoint, TetherError | undefined];
}

interface Slot {
  endpoint: RelayEndpoint;
  /** Place in the order of preference (priority, then a weighted shuffle). */
  rank: number;
  session: RelaySession | undefined;
  draining: Set<RelaySession>;
  connecting: boolean;
  /** The last attempt failed (or the session was lost) and it has not been up since. */
  failing: boolean;
  /** Lost or failed since it was last trusted: it must stay up failbackDelayMs before it is preferred again. */
  recovering: boolean;
  lastError: TetherError | undefined;
  /** The last connection attempt was refused for a reason retrying cannot fix (not a lost session). */
  refused: boolean;
  backoff: Backoff;
  retryTimer: NodeJS.Timeout | undefined;
  retryAt: number | undefined;
  /** The retry timer fired: attempt at the next reconcile (with a probe). */
  due: boolean;
  upSince: number;
  timers: Set<NodeJS.Timeout>;
  shown: EndpointState;
  since: number;
}

interface Waiter {
  resolve: (session: RelaySession) => void;
  reject: (err: TetherError) => void;
  timer: NodeJS.Timeout;
}

/** GET <url>/healthz; anything but a 2xx in time is RELAY_UNREACHABLE. */
export function probeHealth(url: string, timeoutMs = 3000): Promise<void> {
  const base = parseRelayUrl(url).http;
  // No keep-alive: a probe's socket closes with its answer instead of idling in a pool (a client
  // probing relays that come and go would otherwise hold one idle socket per relay).
  const get = base.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(createError(ErrorCode.RELAY_UNREACHABLE, `relay at ${base} failed its health check: ${why}`));
    const request = get(`${base}/healthz`, { agent: false, timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      if (status < 200 || status > 299) reject(createError(ErrorCode.RELAY_UNREACHABLE, `relay at ${base} answered HTTP ${status} at /healthz`));
      else resolve();
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  });
}

function asTetherError(err: unknown, url: string): TetherError {
  if (isTetherError(err)) return err;
  return createError(ErrorCode.RELAY_UNREACHABLE, `cannot reach relay at ${url}: ${err instanceof Error ? err.message : String(err)}`);
}

/** Weighted random choice (weights ≥ 1). */
function pickWeighted<T extends { endpoint: RelayEndpoint }>(items: T[], random: () => number): T {
  const total = items.reduce((sum, item) => sum + item.endpoint.weight, 0);
  let r = random() * total;
  for (const item of items) {
    r -= item.endpoint.weight;
    if (r < 0) return item;
  }
  return items[items.length - 1];
}

/**
 * Keeps sessions to several relays: `size` live ones over the best endpoints, each watched for
 * silence and GOAWAY, failed ones retried forever with backoff (and a health probe). New
 * streams go to the best live endpoint; after a failover they move back only once the
 * preferred endpoint has stayed up `failbackDelayMs`. Opens wait in a bounded queue while no
 * relay is up.
 */
export class RelayPool extends EventEmitter<RelayPoolEvents> {
  private readonly slots: Slot[];
  private readonly kind: Endpoint;
  private readonly tunnel: string | undefined;
  private readonly factory: SessionFactory;
  private readonly size: number;
  private readonly detectMs: number;
  private readonly failbackDelayMs: number;
  private readonly queueLimit: number;
  private readonly queueTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly maxBackoffMs: number;
  private readonly probe: (url: string) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly waiters: Waiter[] = [];
  private readonly bySession = new Map<RelaySession, Slot>();
  /** Why the pool itself closed a session (silence); undefined for a deliberate close. */
  private readonly killed = new Map<RelaySession, TetherError | undefined>();
  private tick: NodeJS.Timeout | undefined;
  private active: Slot | undefined;
  private reason = 'no relay';
  private activeSince: number;
  private starting: { resolve: () => void; reject: (err: TetherError) => void } | undefined;
  private startPromise: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private lastKey = '';

  constructor(options: RelayPoolOptions) {
    super();
    if (options.endpoints.length === 0) throw createError(ErrorCode.INVALID_ARGUMENT, 'a relay pool needs at least one endpoint');
    const positive = (name: string, value: number | undefined, fallback: number, min = 1): number => {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < min) throw createError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer ≥ ${min}, got ${value}`);
      return value;
    };
    const n = options.endpoints.length;
    this.kind = options.kind;
    this.tunnel = options.tunnel;
    this.factory = options.factory;
    this.size = Math.min(n, positive('size', options.size, options.kind === 'host' ? 4 : 2));
    this.detectMs = positive('detectMs', options.detectMs, 3000, 4);
    this.failbackDelayMs = positive('failbackDelayMs', options.failbackDelayMs, 10_000, 0);
    this.queueLimit = positive('queueLimit', options.queueLimit, 256, 0);
    this.queueTimeoutMs = positive('queueTimeoutMs', options.queueTimeoutMs, 10_000);
    this.stableAfterMs = positive('stableAfterMs', options.stableAfterMs, 30_000, 0);
    const baseMs = options.backoff?.baseMs ?? 500;
    this.maxBackoffMs = options.backoff?.maxMs ?? 30_000;
    this.probe = options.probe ?? ((url) => probeHealth(url, this.detectMs));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.activeSince = this.now();

    // Priority first; equal priorities in a weighted random order, so that clients with the
    // same list spread their sessions instead of all piling onto the first relay.
    const order: RelayEndpoint[] = [];
    const byPriority = [...new Set(options.endpoints.map((e) => e.priority))].sort((a, b) => a - b);
    for (const priority of byPriority) {
      const group = options.endpoints.filter((e) => e.priority === priority).map((endpoint) => ({ endpoint }));
      while (group.length > 0) {
        const chosen = pickWeighted(group, this.random);
        group.splice(group.indexOf(chosen), 1);
        order.push(chosen.endpoint);
      }
    }
    const since = this.now();
    this.slots = options.endpoints.map((endpoint) => ({
      endpoint,
      rank: order.indexOf(endpoint),
      session: undefined,
      draining: new Set(),
      connecting: false,
      failing: false,
      recovering: false,
      lastError: undefined,
      refused: false,
      backoff: new Backoff(baseMs, this.maxBackoffMs, this.random),
      retryTimer: undefined,
      retryAt: undefined,
      due: false,
      upSince: 0,
      timers: new Set(),
      shown: 'idle',
      since,
    }));
  }

  /**
   * Connects to the best endpoints; resolves once one session is up. If every endpoint fails
   * its first attempt, rejects with the most telling error (one that retrying cannot fix wins)
   * and the pool stops.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(createError(ErrorCode.CANCELLED, 'the relay pool is closed'));
    if (this.startPromise) return this.startPromise;
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.starting = { resolve, reject };
    });
    this.tick = setInterval(() => this.onTick(), Math.floor(this.detectMs / 4));
    this.tick.unref();
    this.reconcile();
    return this.startPromise;
  }

  /**
   * The session for a new stream: the best live endpoint's (equal priorities by weight). While
   * none is up the call waits; QUEUE_FULL when `queueLimit` calls already wait, NO_RELAY after
   * `queueTimeoutMs`, CANCELLED when the pool closes.
   */
  acquire(): Promise<RelaySession> {
    if (this.stopped) return Promise.reject(createError(ErrorCode.CANCELLED, 'the relay pool is closed'));
    const session = this.pick();
    if (session) return Promise.resolve(session);
    if (this.waiters.length >= this.queueLimit) {
      return Promise.reject(createError(ErrorCode.QUEUE_FULL, `${this.waiters.length} opens are already waiting for a relay (the limit)`));
    }
    return new Promise<RelaySession>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          const tried = this.ordered().map((s) => s.endpoint.url).join(', ');
          reject(createError(ErrorCode.NO_RELAY, `no relay reachable within ${this.queueTimeoutMs} ms (tried: ${tried})`));
          this.changed();
        }, this.queueTimeoutMs),
      };
      waiter.timer.unref();
      this.waiters.push(waiter);
      this.changed();
    });
  }

  /** Live sessions, preferred first, then draining ones (to re-attach streams to). */
  live(): RelaySession[] {
    const active = this.active;
    const up = this.slots.filter((s) => s.session).sort((a, b) => (b === active ? 1 : 0) - (a === active ? 1 : 0) || this.compare(a, b));
    return [...up.map((s) => s.session as RelaySession), ...this.ordered().flatMap((s) => [...s.draining])];
  }

  /** The endpoint a session of this pool belongs to. */
  endpointOf(session: RelaySession): RelayEndpoint | undefined {
    return this.bySession.get(session)?.endpoint;
  }

  state(): PoolState {
    const now = this.now();
    return {
      active: this.active?.endpoint.url,
      reason: this.reason,
      since: this.activeSince,
      queued: this.waiters.length,
      live: this.slots.filter((s) => s.session).length,
      size: this.size,
      endpoints: this.slots.map((slot) => {
        const status: EndpointStatus = {
          url: slot.endpoint.url,
          priority: slot.endpoint.priority,
          weight: slot.endpoint.weight,
          state: this.stateOf(slot),
          rttMs: Math.round((slot.session?.session.rttMs ?? 0) * 10) / 10,
          since: slot.since,
          streams: [slot.session, ...slot.draining].reduce((sum, s) => sum + (s?.session.streamCount ?? 0), 0),
        };
        if (slot.lastError) status.lastError = { code: slot.lastError.code, message: slot.lastError.message };
        if (slot.retryAt !== undefined) status.retryInMs = Math.max(0, slot.retryAt - now);
        return status;
      }),
    };
  }

  /** Closes every session, stops every timer and rejects waiting acquire() calls with CANCELLED. */
  close(): void {
    this.shutdown(createError(ErrorCode.CANCELLED, 'the relay pool is closed'));
  }

  // --- internals ------------------------------------------------------------------------------

  private shutdown(err: TetherError): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    for (const slot of this.slots) {
      this.clearRetry(slot);
      for (const timer of slot.timers) clearTimeout(timer);
      slot.timers.clear();
      for (const session of [slot.session, ...slot.draining]) {
        if (!session) continue;
        this.killed.set(session, undefined);
        session.close();
      }
      slot.session = undefined;
      slot.draining.clear();
      slot.connecting = false;
    }
    this.setActive(undefined, 'no relay');
    this.changed();
    if (this.starting) {
      this.starting.reject(err);
      this.starting = undefined;
    }
  }

  private ordered(): Slot[] {
    return [...this.slots].sort((a, b) => a.rank - b.rank);
  }

  /** Better first: priority, then lower RTT, then rank. */
  private compare(a: Slot, b: Slot): number {
    return a.endpoint.priority - b.endpoint.priority || (a.session?.session.rttMs ?? 0) - (b.session?.session.rttMs ?? 0) || a.rank - b.rank;
  }

  private stateOf(slot: Slot): EndpointState {
    if (slot.session) return 'up';
    if (slot.connecting) return 'connecting';
    if (slot.draining.size > 0) return 'draining';
    if (slot.failing) return slot.refused ? 'failed' : 'down';
    return 'idle';
  }

  private timer(slot: Slot, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      slot.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    slot.timers.add(timer);
  }

  private clearRetry(slot: Slot): void {
    clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
    slot.retryAt = undefined;
    slot.due = false;
  }

  /**
   * Walks the endpoints best first, keeping `size` of them live or connecting: wanted endpoints
   * that failed are retried, idle ones stand in for them, and surplus idle sessions are closed.
   */
  private reconcile(): void {
    if (this.stopped || !this.startPromise) return;
    let need = this.size;
    for (const slot of this.ordered()) {
      if (slot.session || slot.connecting) {
        need--;
        continue;
      }
      if (slot.failing || slot.draining.size > 0) {
        const wanted = slot.rank < this.size || need > 0;
        if (!wanted) {
          this.clearRetry(slot);
          slot.failing = false;
        } else if (slot.due) {
          this.clearRetry(slot);
          void this.attempt(slot, true);
          need--;
        } else if (this.started && slot.retryTimer === undefined && slot.failing) {
          this.scheduleRetry(slot);
        }
        continue;
      }
      if (need > 0) {
        void this.attempt(slot, false);
        need--;
      }
    }
    this.trim();
    this.recompute();
    this.changed();
  }

  /** Closes live sessions beyond `size` that carry nothing and are not the active one, worst first. */
  private trim(): void {
    const up = this.ordered().filter((s) => s.session);
    for (const slot of up.slice(this.size).reverse()) {
      const session = slot.session as RelaySession;
      if (slot === this.active || session.session.streamCount > 0) continue;
      slot.session = undefined;
      this.killed.set(session, undefined);
      session.close();
    }
  }

  private scheduleRetry(slot: Slot): void {
    // An endpoint that refuses us for a reason retrying cannot fix (a bad token there) is asked
    // again only at the slowest pace, not hammered.
    const delay = slot.refused ? this.maxBackoffMs : slot.backoff.next();
    slot.retryAt = this.now() + delay;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      slot.retryAt = undefined;
      slot.due = true;
      this.reconcile();
    }, delay);
    slot.retryTimer.unref();
  }

  private async attempt(slot: Slot, probe: boolean): Promise<void> {
    slot.connecting = true;
    this.changed();
    const { url } = slot.endpoint;
    let session: RelaySession;
    try {
      if (probe) await this.probe(url);
      if (this.stopped) return;
      session = await this.factory(this.kind, this.tunnel, url);
    } catch (err) {
      if (this.stopped) return;
      this.failed(slot, asTetherError(err, url));
      return;
    }
    if (this.stopped) {
      session.close();
      return;
    }
    this.up(slot, session);
  }

  private failed(slot: Slot, err: TetherError): void {
    slot.connecting = false;
    slot.failing = true;
    slot.recovering = true;
    slot.lastError = err;
    slot.refused = !err.retryable;
    if (!this.started && this.slots.every((s) => s.failing && !s.connecting)) {
      // Every endpoint failed its first attempt: report the error that says most. One that
      // retrying cannot fix (a bad token) beats "unreachable", which may only be this network.
      const errors = this.ordered().map((s) => s.lastError as TetherError);
      this.shutdown(errors.find((e) => !e.retryable) ?? errors[0]);
      return;
    }
    this.reconcile();
  }

  private up(slot: Slot, session: RelaySession): void {
    slot.connecting = false;
    slot.failing = false;
    slot.lastError = undefined;
    slot.refused = false;
    slot.session = session;
    slot.upSince = this.now();
    this.bySession.set(session, slot);
    this.timer(slot, this.stableAfterMs, () => {
      if (slot.session === session) slot.backoff.reset();
    });
    if (slot.recovering) {
      this.timer(slot, this.failbackDelayMs, () => {
        if (slot.session !== session) return;
        slot.recovering = false;
        this.recompute();
        this.changed();
      });
    }
    session.session.on('goaway', () => this.drain(slot, session));
    void session.closed.then((err) => this.onClosed(slot, session, err));
    this.emit('session', session, slot.endpoint);
    if (session.session.remoteGoAway) this.drain(slot, session);
    if (!this.started) {
      this.started = true;
      this.starting?.resolve();
      this.starting = undefined;
    }
    this.reconcile();
    for (const waiter of this.waiters.splice(0)) {
      const chosen = this.pick();
      clearTimeout(waiter.timer);
      if (chosen) waiter.resolve(chosen);
      else waiter.reject(createError(ErrorCode.NO_RELAY, 'the relay session went away before it could be used'));
    }
    this.changed();
  }

  /** GOAWAY: no new streams on this session; a replacement is connected while it drains. */
  private drain(slot: Slot, session: RelaySession): void {
    if (slot.session !== session) return;
    slot.session = undefined;
    slot.draining.add(session);
    slot.failing = true;
    slot.recovering = true;
    slot.lastError = session.session.remoteGoAway ?? createError(ErrorCode.GOING_AWAY, `relay ${slot.endpoint.url} is going away`);
    this.clearRetry(slot);
    this.scheduleRetry(slot);
    this.reconcile();
  }

  private onClosed(slot: Slot, session: RelaySession, closeError: TetherError | undefined): void {
    this.bySession.delete(session);
    const deliberate = this.killed.has(session);
    const err = deliberate ? this.killed.get(session) : (closeError ?? createError(ErrorCode.CONNECTION_LOST, `relay ${slot.endpoint.url} ended the session`));
    this.killed.delete(session);
    // After close() the owner asked for everything to end: no more events about it.
    if (this.stopped) return;
    if (slot.draining.delete(session)) {
      this.emit('lost', session, slot.endpoint, err);
      this.changed();
      return;
    }
    if (slot.session === session) {
      slot.session = undefined;
      if (err) {
        slot.failing = true;
        slot.recovering = true;
        slot.lastError = err;
      }
    }
    this.emit('lost', session, slot.endpoint, err);
    this.reconcile();
  }

  private onTick(): void {
    for (const slot of this.slots) {
      for (const session of [slot.session, ...slot.draining]) {
        if (!session || this.killed.has(session)) continue;
        // Silent for three ping intervals: the check itself runs every interval, so the relay
        // is declared dead at most detectMs after it stopped answering.
        const silentMs = session.session.now() - session.session.lastReceivedAt;
        if (silentMs > this.detectMs - Math.floor(this.detectMs / 4)) {
          this.killed.set(session, createError(ErrorCode.CONNECTION_LOST, `no answer from relay ${slot.endpoint.url} for ${Math.round(silentMs)} ms`));
          session.close();
        } else {
          session.session.ping();
        }
      }
    }
    this.reconcile();
  }

  /** Slots that may take new streams: live, and (after a failure) up long enough to be trusted again. */
  private eligible(): Slot[] {
    const live = this.slots.filter((s) => s.session);
    const trusted = live.filter((s) => !s.recovering);
    return trusted.length > 0 ? trusted : live;
  }

  /** Picks the active endpoint (the best eligible one), keeping the current one while it is as good. */
  private recompute(): void {
    const eligible = this.eligible().sort((a, b) => this.compare(a, b));
    const best = eligible[0];
    if (!best) {
      this.setActive(undefined, 'no relay');
      return;
    }
    const current = this.active;
    if (current && eligible.includes(current) && current.endpoint.priority <= best.endpoint.priority) return;
    const top = Math.min(...this.slots.map((s) => s.endpoint.priority));
    let reason: string;
    if (current && !current.session) reason = `failover: ${current.endpoint.url} ${current.draining.size > 0 ? 'draining' : 'lost'} (${current.lastError?.code ?? 'closed'})`;
    else if (current) reason = this.reason.startsWith('failover') ? 'failback' : 'preferred';
    else if (best.endpoint.priority === top) reason = 'preferred';
    else {
      const down = this.ordered().find((s) => s.endpoint.priority < best.endpoint.priority && s.lastError);
      reason = down ? `failover: ${down.endpoint.url} down (${down.lastError?.code})` : 'preferred';
    }
    this.setActive(best, reason);
  }

  private setActive(slot: Slot | undefined, reason: string): void {
    if (slot === this.active && (slot !== undefined || this.reason === reason)) return;
    this.active = slot;
    this.reason = reason;
    this.activeSince = this.now();
  }

  private pick(): RelaySession | undefined {
    this.recompute();
    const active = this.active;
    if (!active?.session) return undefined;
    const group = this.eligible().filter((s) => s.endpoint.priority === active.endpoint.priority);
    return pickWeighted(group, this.random).session;
  }

  /** Emits 'state' when something other than RTT or retry countdowns changed. */
  private changed(): void {
    const state = this.state();
    const key = JSON.stringify({ ...state, endpoints: state.endpoints.map((e) => ({ ...e, rttMs: 0, retryInMs: e.retryInMs === undefined, since: 0 })) });
    for (const slot of this.slots) {
      const shown = this.stateOf(slot);
      if (shown !== slot.shown) {
        slot.shown = shown;
        slot.since = this.now();
      }
    }
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.emit('state', this.state());
  }
}

/** Pool settings a client may tune (see RelayPoolOptions). */
export type PoolTuning = Partial<Pick<RelayPoolOptions, 'size' | 'detectMs' | 'failbackDelayMs' | 'queueLimit' | 'queueTimeoutMs' | 'stableAfterMs' | 'backoff' | 'probe'>>;

/** The one endpoint of a client given only a factory (the factory knows where to connect). */
export const FACTORY_ENDPOINT: RelayEndpoint = { url: 'default', priority: 0, weight: 1 };

/**
 * Where a client's pool connects: the `endpoints` given, each through `factory`; or, with none,
 * the factory's own relay as a single endpoint (not probed: it has no URL of its own).
 */
export function poolTargets(factory: SessionFactory, endpoints: RelayEndpoint[] | undefined): Pick<RelayPoolOptions, 'endpoints' | 'factory' | 'probe'> {
  if (endpoints) return { endpoints, factory };
  return { endpoints: [FACTORY_ENDPOINT], factory: (kind, tunnel) => factory(kind, tunnel), probe: async () => undefined };
}
