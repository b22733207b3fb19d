import { EventEmitter } from 'node:events';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import { Backoff } from './backoff.js';
import { byRank, chooseActive, liveOrder, pickForStream, rankEndpoints } from './endpoint-ranking.js';
import type { RelayEndpoint } from './endpoints.js';
import { checkSession, pingIntervalMs, probeHealth } from './health-probe.js';
import { PoolDefaults, resolvePoolTimings } from './pool-defaults.js';
import { NO_RELAY, samePoolReason, type PoolReason } from './pool-reason.js';
import type { RelayPoolOptions } from './pool-options.js';
import type { RelaySession } from './relay-session.js';
import { OpenQueue } from './open-queue.js';
import { retryCannotFix } from './pool-error-checks.js';
import type { PoolState } from './pool-state.js';
import { RelaySlot } from './relay-slot.js';

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

/**
 * How long start() waits, once some endpoint is up, for a better one still on its first attempt.
 * Long enough for a handshake with a relay across the world, short enough that an unreachable
 * preferred relay (whose attempt ends only at the handshake timeout) delays little.
 */
export const START_GRACE_MS = 1500;

/**
 * Keeps sessions to several relays: `size` live ones over the best endpoints, each watched for
 * silence and GOAWAY, failed ones retried forever with backoff (and a health probe). New
 * streams go to the best live endpoint; after a failover they move back only once the
 * preferred endpoint has stayed up `failbackDelayMs`. Opens wait in a bounded queue while no
 * relay is up. Composes RelaySlot (one endpoint's sessions), endpoint-ranking (which one new
 * streams use) and health-probe (probes and silence detection).
 */
export class RelayPool extends EventEmitter<RelayPoolEvents> {
  private readonly slots: RelaySlot[];
  private readonly size: number;
  private readonly detectMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly queue: OpenQueue;
  private tick: NodeJS.Timeout | undefined;
  private active: RelaySlot | undefined;
  private reason: PoolReason = NO_RELAY;
  private activeSince: number;
  private starting: { resolve: () => void; reject: (err: TetherError) => void } | undefined;
  private startPromise: Promise<void> | undefined;
  private started = false;
  private readonly startGraceMs: number;
  private startGrace: NodeJS.Timeout | undefined;
  /** start() waits through retryable failures of every endpoint instead of rejecting. */
  private readonly keepTrying: boolean;
  private stopped = false;
  private lastKey = '';

  constructor(options: RelayPoolOptions) {
    super();
    if (options.endpoints.length === 0) throw createError(ErrorCode.INVALID_ARGUMENT, 'a relay pool needs at least one endpoint');
    const timings = resolvePoolTimings(options.kind, options.endpoints.length, options);
    this.size = timings.size;
    this.detectMs = timings.detectMs;
    this.queue = new OpenQueue(timings.queueLimit, timings.queueTimeoutMs, () => this.changed());
    this.now = options.now ?? Date.now;
    this.keepTrying = options.keepTrying === true;
    this.random = options.random ?? Math.random;
    this.startGraceMs = options.startGraceMs ?? START_GRACE_MS;
    this.activeSince = this.now();
    const probe = options.probe ?? ((url: string) => probeHealth(url, this.detectMs));
    const connect = (url: string): Promise<RelaySession> => options.factory(options.kind, options.tunnel, url);
    const order = rankEndpoints(options.endpoints, this.random);
    this.slots = options.endpoints.map((endpoint) => {
      const slot: RelaySlot = new RelaySlot({
        endpoint,
        rank: order.indexOf(endpoint),
        backoff: new Backoff(timings.backoffBaseMs, timings.backoffMaxMs, this.random),
        maxBackoffMs: timings.backoffMaxMs,
        stableAfterMs: timings.stableAfterMs,
        failbackDelayMs: timings.failbackDelayMs,
        connect,
        probe,
        downProbeMs: options.downProbeMs ?? (options.probe ? 0 : PoolDefaults.downProbeMs),
        now: this.now,
        events: {
          connecting: () => this.changed(),
          up: (session) => this.onUp(slot, session),
          failed: () => this.onFailed(),
          draining: () => this.reconcile(),
          lost: (session, err, drained) => this.onLost(slot, session, err, drained),
          due: () => this.reconcile(),
          trusted: () => {
            this.recompute();
            this.changed();
          },
        },
      });
      return slot;
    });
  }

  /**
   * Connects to the best endpoints; resolves once one session is up. If every endpoint fails
   * its first attempt, rejects with the most telling error (one that retrying cannot fix wins)
   * and the pool stops; with `keepTrying`, only an error that retrying cannot fix does that,
   * and the rest are retried with backoff (reported through 'state') until one is up.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(createError(ErrorCode.CANCELLED, 'the relay pool is closed'));
    if (this.startPromise) return this.startPromise;
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.starting = { resolve, reject };
    });
    this.tick = setInterval(() => this.onTick(), pingIntervalMs(this.detectMs));
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
    return this.queue.wait(() => byRank(this.slots).map((s) => s.endpoint.url).join(', '));
  }

  /** Live sessions, preferred first, then draining ones (to re-attach streams to). */
  live(): RelaySession[] {
    const up = liveOrder(this.slots, this.active).map((s) => s.session as RelaySession);
    return [...up, ...byRank(this.slots).flatMap((s) => [...s.drainingSessions])];
  }

  /** The endpoint a session of this pool belongs to. */
  endpointOf(session: RelaySession): RelayEndpoint | undefined {
    return this.slots.find((s) => s.owns(session))?.endpoint;
  }

  state(): PoolState {
    const now = this.now();
    return {
      active: this.active?.endpoint.url,
      reason: this.reason,
      since: this.activeSince,
      queued: this.queue.length,
      live: this.slots.filter((s) => s.live).length,
      size: this.size,
      endpoints: this.slots.map((slot) => slot.status(now)),
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
    clearTimeout(this.startGrace);
    this.queue.rejectAll(err);
    for (const slot of this.slots) slot.close();
    this.setActive(undefined, NO_RELAY);
    this.changed();
    if (this.starting) {
      this.starting.reject(err);
      this.starting = undefined;
    }
  }

  /**
   * Walks the endpoints best first, keeping `size` of them live or connecting: wanted endpoints
   * that failed are retried, idle ones stand in for them, and surplus idle sessions are closed.
   */
  private reconcile(): void {
    if (this.stopped || !this.startPromise) return;
    let need = this.size;
    for (const slot of byRank(this.slots)) {
      if (slot.live || slot.connecting) {
        need--;
        continue;
      }
      if (slot.failing || slot.draining) {
        const wanted = slot.rank < this.size || need > 0;
        if (!wanted) {
          slot.standDown();
        } else if (slot.retry.due) {
          slot.retry.clear();
          void slot.attempt(true);
          need--;
        } else if ((this.started || this.keepTrying) && !slot.retry.scheduled && slot.failing) {
          slot.scheduleRetry();
        }
        continue;
      }
      if (need > 0) {
        void slot.attempt(false);
        need--;
      }
    }
    this.trim();
    this.recompute();
    this.changed();
  }

  /**
   * The error every endpoint refused the last attempt with, when each did so for a reason
   * retrying cannot fix (a token revoked or replaced) and none is up or connecting: then no
   * stream can open or resume anywhere, and waiting for one only delays saying so.
   */
  refusedEverywhere(): TetherError | undefined {
    if (this.slots.some((s) => s.live || s.connecting || !s.refused)) return undefined;
    return byRank(this.slots)[0]?.lastError;
  }

  /** Closes live sessions beyond `size` that carry nothing and are not the active one, worst first. */
  private trim(): void {
    const up = byRank(this.slots).filter((s) => s.live);
    for (const slot of up.slice(this.size).reverse()) {
      if (slot === this.active || (slot.session?.session.streamCount ?? 0) > 0) continue;
      slot.dropSurplus();
    }
  }

  private onFailed(): void {
    if (!this.started && this.slots.every((s) => s.failing && !s.connecting)) {
      // Every endpoint failed its first attempt: report the error that says most. One that
      // retrying cannot fix (a bad token) beats "unreachable", which may only be this network.
      // With keepTrying, only such an error ends the pool; the rest are retried like later losses.
      const errors = byRank(this.slots).map((s) => s.lastError as TetherError);
      const final = errors.find(retryCannotFix);
      if (final || !this.keepTrying) {
        this.shutdown(final ?? errors[0]);
        return;
      }
    }
    // A better endpoint's first attempt failed: the one up may be all there is.
    this.startIfSettled();
    this.reconcile();
  }

  private onUp(slot: RelaySlot, session: RelaySession): void {
    this.emit('session', session, slot.endpoint);
    if (session.session.remoteGoAway) slot.drain(session);
    this.startIfSettled();
    this.reconcile();
    this.queue.release(() => this.pick());
    this.changed();
  }

  /**
   * Resolves start() once a session is up and no better endpoint (a lower priority number) is
   * still on its first attempt; while one is, for at most startGraceMs. Otherwise a connector
   * would send its first streams to whichever relay's handshake finished first, not to the one
   * it prefers (such as the cluster node that serves the tunnel itself).
   */
  private startIfSettled(): void {
    if (this.started || this.stopped) return;
    const up = byRank(this.slots).find((s) => s.live);
    if (!up) return;
    const better = this.slots.some((s) => s.connecting && s.lastError === undefined && s.endpoint.priority < up.endpoint.priority);
    if (better && this.startGrace === undefined) {
      this.startGrace = setTimeout(() => this.markStarted(), this.startGraceMs);
      this.startGrace.unref();
    }
    if (!better) this.markStarted();
  }

  private markStarted(): void {
    clearTimeout(this.startGrace);
    if (this.started || this.stopped) return;
    this.started = true;
    this.starting?.resolve();
    this.starting = undefined;
  }

  private onLost(slot: RelaySlot, session: RelaySession, err: TetherError | undefined, drained: boolean): void {
    this.emit('lost', session, slot.endpoint, err);
    if (drained) this.changed();
    else this.reconcile();
  }

  private onTick(): void {
    for (const slot of this.slots) {
      for (const session of slot.sessions()) {
        if (slot.closing(session)) continue;
        const silent = checkSession(session, slot.endpoint.url, this.detectMs);
        if (silent) slot.kill(session, silent);
      }
    }
    this.reconcile();
  }

  /** Picks the active endpoint (the best eligible one), keeping the current one while it is as good. */
  private recompute(): void {
    const next = chooseActive(this.slots, this.active, this.reason);
    this.setActive(next.active, next.reason);
  }

  private setActive(slot: RelaySlot | undefined, reason: PoolReason): void {
    if (slot === this.active && (slot !== undefined || samePoolReason(this.reason, reason))) return;
    this.active = slot;
    this.reason = reason;
    this.activeSince = this.now();
  }

  private pick(): RelaySession | undefined {
    this.recompute();
    return pickForStream(this.slots, this.active, this.random)?.session;
  }

  /** Emits 'state' when something other than RTT or retry countdowns changed. */
  private changed(): void {
    const state = this.state();
    const key = JSON.stringify({ ...state, endpoints: state.endpoints.map((e) => ({ ...e, rttMs: 0, retryInMs: e.retryInMs === undefined, since: 0 })) });
    for (const slot of this.slots) slot.noteShown();
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.emit('state', this.state());
  }
}
