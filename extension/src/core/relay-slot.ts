import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { Backoff } from './backoff.js';
import type { Candidate } from './endpoint-ranking.js';
import type { EndpointState, EndpointStatus } from './pool-state.js';
import type { RelayEndpoint } from './endpoints.js';
import { asAttemptError, retryCannotFix } from './pool-error-checks.js';
import type { RelaySession } from './relay-session.js';
import { RetrySchedule } from './retry-schedule.js';

/** What a slot tells its pool; each is called after the slot's own bookkeeping. */
export interface RelaySlotEvents {
  /** An attempt began. */
  connecting(): void;
  /** A session is up (not yet announced). */
  up(session: RelaySession): void;
  /** An attempt (probe or connection) failed. */
  failed(err: TetherError): void;
  /** The live session got GOAWAY: it takes no new streams; a retry is scheduled. */
  draining(): void;
  /** A session ended (`drained`: it was draining); err is undefined when the slot closed it as surplus. */
  lost(session: RelaySession, err: TetherError | undefined, drained: boolean): void;
  /** The retry timer fired: the endpoint may be attempted again. */
  due(): void;
  /** It stayed up failbackDelayMs after a failure: it may be preferred again. */
  trusted(): void;
}

export interface RelaySlotOptions {
  endpoint: RelayEndpoint;
  rank: number;
  backoff: Backoff;
  /** The pace at which an endpoint that refused us is asked again. */
  maxBackoffMs: number;
  stableAfterMs: number;
  failbackDelayMs: number;
  connect: (url: string) => Promise<RelaySession>;
  probe: (url: string) => Promise<void>;
  /** Probe this often while waiting for a retry, retrying as soon as the probe passes (0: off). */
  downProbeMs: number;
  now: () => number;
  events: RelaySlotEvents;
}

/**
 * One endpoint's sessions over time: attempts (with a health probe when retrying), the live
 * session, sessions draining after GOAWAY, retries with backoff, and when it may be trusted
 * again after a failure. Which endpoints to attempt is the pool's call.
 */
export class RelaySlot implements Candidate {
  readonly endpoint: RelayEndpoint;
  readonly rank: number;
  session: RelaySession | undefined;
  readonly drainingSessions = new Set<RelaySession>();
  connecting = false;
  /** The last attempt failed (or the session was lost) and it has not been up since. */
  failing = false;
  /** Lost or failed since it was last trusted: it must stay up failbackDelayMs before it is preferred again. */
  recovering = false;
  lastError: TetherError | undefined;
  /** The last connection attempt was refused for a reason retrying cannot fix (not a lost session). */
  refused = false;
  readonly retry: RetrySchedule;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Every session until its close is seen (draining and surplus ones included). */
  private readonly known = new Set<RelaySession>();
  /** Why the slot itself closed a session (silence); undefined for a deliberate close. */
  private readonly killed = new Map<RelaySession, TetherError | undefined>();
  private closed = false;
  private shown: EndpointState = 'idle';
  private since: number;

  constructor(private readonly options: RelaySlotOptions) {
    this.endpoint = options.endpoint;
    this.rank = options.rank;
    this.since = options.now();
    this.retry = new RetrySchedule(options.backoff, options.maxBackoffMs, options.now, () => options.events.due(), {
      everyMs: options.downProbeMs,
      check: () => options.probe(options.endpoint.url),
    });
  }

  get live(): boolean {
    return this.session !== undefined;
  }

  get draining(): boolean {
    return this.drainingSessions.size > 0;
  }

  get rttMs(): number {
    return this.session?.session.rttMs ?? 0;
  }

  get lastErrorCode(): string | undefined {
    return this.lastError?.code;
  }

  get state(): EndpointState {
    if (this.session) return 'up';
    if (this.connecting) return 'connecting';
    if (this.drainingSessions.size > 0) return 'draining';
    if (this.failing) return this.refused ? 'failed' : 'down';
    return 'idle';
  }

  /** The live session, then draining ones. */
  sessions(): RelaySession[] {
    return [...(this.session ? [this.session] : []), ...this.drainingSessions];
  }

  owns(session: RelaySession): boolean {
    return this.known.has(session);
  }

  /** True once the slot closed this session itself and is waiting for it to end. */
  closing(session: RelaySession): boolean {
    return this.killed.has(session);
  }

  status(now: number): EndpointStatus {
    const status: EndpointStatus = {
      url: this.endpoint.url,
      priority: this.endpoint.priority,
      weight: this.endpoint.weight,
      state: this.state,
      rttMs: Math.round(this.rttMs * 10) / 10,
      since: this.since,
      streams: this.sessions().reduce((sum, s) => sum + s.session.streamCount, 0),
    };
    if (this.lastError) status.lastError = { code: this.lastError.code, message: this.lastError.message };
    if (this.retry.at !== undefined) status.retryInMs = Math.max(0, this.retry.at - now);
    return status;
  }

  /** Notes when the displayed state changed (for `since`). */
  noteShown(): void {
    const shown = this.state;
    if (shown === this.shown) return;
    this.shown = shown;
    this.since = this.options.now();
  }

  /** Connects (after a health probe when `probe`), then reports up or failed. */
  async attempt(probe: boolean): Promise<void> {
    this.connecting = true;
    this.options.events.connecting();
    const { url } = this.endpoint;
    let session: RelaySession;
    try {
      if (probe) await this.options.probe(url);
      if (this.closed) return;
      session = await this.options.connect(url);
    } catch (err) {
      if (this.closed) return;
      this.fail(asAttemptError(err, url));
      return;
    }
    if (this.closed) {
      session.close();
      return;
    }
    this.up(session);
  }

  /** Not wanted any more: no retry, and no longer shown as failing. */
  standDown(): void {
    this.retry.clear();
    this.failing = false;
  }

  /** A retry after a failure; an endpoint that refused us (a bad token there) only at the slowest pace, not hammered. */
  scheduleRetry(): void {
    // A relay that rate-limited us said when to come back: not before (and no health probe
    // cuts that short: a busy relay is a healthy one).
    this.retry.schedule(this.refused, this.lastError?.retryAfterMs ?? 0);
  }

  /** Closes the live session because the pool does not need it (reported lost with no error). */
  dropSurplus(): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    this.kill(session, undefined);
  }

  /** Closes a session, reporting `err` as why it was lost (undefined: deliberately). */
  kill(session: RelaySession, err: TetherError | undefined): void {
    this.killed.set(session, err);
    session.close();
  }

  /** Closes every session and stops every timer; nothing more is reported. */
  close(): void {
    this.closed = true;
    this.retry.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const session of this.sessions()) this.kill(session, undefined);
    this.session = undefined;
    this.drainingSessions.clear();
    this.connecting = false;
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private fail(err: TetherError): void {
    this.connecting = false;
    this.failing = true;
    this.recovering = true;
    this.lastError = err;
    this.refused = retryCannotFix(err);
    this.options.events.failed(err);
  }

  private up(session: RelaySession): void {
    this.connecting = false;
    this.failing = false;
    this.lastError = undefined;
    this.refused = false;
    this.session = session;
    this.known.add(session);
    this.after(this.options.stableAfterMs, () => {
      if (this.session === session) this.retry.resetBackoff();
    });
    if (this.recovering) {
      this.after(this.options.failbackDelayMs, () => {
        if (this.session !== session) return;
        this.recovering = false;
        this.options.events.trusted();
      });
    }
    session.session.on('goaway', () => this.drain(session));
    void session.closed.then((err) => this.onClosed(session, err));
    this.options.events.up(session);
  }

  /** GOAWAY: no new streams on this session; a retry is scheduled so a replacement can connect. */
  drain(session: RelaySession): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.drainingSessions.add(session);
    this.failing = true;
    this.recovering = true;
    this.lastError = session.session.remoteGoAway ?? createError(ErrorCode.GOING_AWAY, `relay ${this.endpoint.url} is going away`);
    this.retry.clear();
    this.scheduleRetry();
    this.options.events.draining();
  }

  private onClosed(session: RelaySession, closeError: TetherError | undefined): void {
    this.known.delete(session);
    const deliberate = this.killed.has(session);
    const err = deliberate ? this.killed.get(session) : (closeError ?? createError(ErrorCode.CONNECTION_LOST, `relay ${this.endpoint.url} ended the session`));
    this.killed.delete(session);
    // After close() the owner asked for everything to end: no more events about it.
    if (this.closed) return;
    if (this.drainingSessions.delete(session)) {
      this.options.events.lost(session, err, true);
      return;
    }
    if (this.session === session) {
      this.session = undefined;
      if (err) {
        this.failing = true;
        this.recovering = true;
        this.lastError = err;
      }
    }
    this.options.events.lost(session, err, false);
  }
}
