import type { AuditLogStore } from '../../ports/audit-log.js';
import type { Gauge } from '../../ports/metrics.js';
import type { AuditEntryView } from '../chained-log.js';
import type { SiemTransport } from './siem-transport.js';

/** What a forwarder reads: the stored lines in order, opened for formatting. */
export interface ForwardedLog {
  lines(from: number, to: number): AsyncIterable<string>;
  view(line: string): AuditEntryView;
  /** Subscribes to this node's appends (a wake-up); returns the unsubscribe. */
  onAppend?(listener: (size: number) => void): () => void;
}

export interface SiemForwarderOptions {
  /** The sink's name, also its persisted cursor's: `syslog:tcp://h:p`, `hec:URL`. */
  name: string;
  log: ForwardedLog;
  /** Where the log's head and the cursor are kept (shared by every node of a cluster). */
  store: Pick<AuditLogStore, 'head' | 'getCursor' | 'setCursor' | 'claimLease' | 'releaseLease'>;
  /**
   * In a cluster: forward only while holding the sink's lease in the store (as `holder`, the
   * node id), renewed every third of `ttlMs` (default 15 s); otherwise stand by. Without it
   * (a single relay) the forwarder always forwards.
   */
  lease?: { holder: string; ttlMs?: number };
  transport: SiemTransport;
  /** One record as the bytes the transport sends (framed for syslog, JSON for HEC). */
  format(entry: AuditEntryView): Buffer;
  /** Records per batch (default 500). */
  batchSize?: number;
  /** How often the log is looked at for records written by other nodes (default 1 s). */
  pollMs?: number;
  /** First and longest wait after a failure (defaults 100 ms and 30 s; doubling). */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * How long the connection a batch was written on must stay up before the batch counts as
   * delivered (default 500 ms; 0 for a transport that acknowledges, like HEC).
   */
  confirmMs?: number;
  /** The lag gauge, labelled by sink (tether_audit_sink_lag_records). */
  lagGauge?: Gauge;
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** What /readyz and the metrics say about a sink. */
export interface SinkStatus {
  name: string;
  /** Records in the log not yet acknowledged by the sink (null before the first look). */
  lag: number | null;
  connected: boolean;
  lastError: string | null;
  /** Records acknowledged since this relay started. */
  sent: number;
  /** In a cluster: another node holds the sink's lease and forwards; this one stands by. */
  standby: boolean;
}

/**
 * Forwards the audit log to one SIEM sink, at least once and in order: it reads from the sink's
 * persisted cursor, sends records in batches, and moves the cursor only once the transport
 * acknowledged the whole batch. After a crash the next start resends from the cursor, so
 * nothing is skipped and a duplicate carries the index of the record it repeats. It runs beside
 * the data path, never on it: a sink that is down is retried with capped backoff and its lag
 * reported; nothing the relay does waits for it (fail-closed concerns the log itself, not its
 * sinks).
 */
export class SiemForwarder {
  private running: Promise<void> | undefined;
  private stopped = false;
  /** stop() was called: leave once caught up, or at the first failure. */
  private stopping = false;
  private wake: (() => void) | undefined;
  /** Waiting for new records (an append may wake it), not backing off after a failure. */
  private idle = false;
  private unsubscribe: (() => void) | undefined;
  /** What the store's cursor says: every record before it was delivered. */
  private delivered: number | undefined;
  /** The next record to send (ahead of `delivered` by the batches waiting to be confirmed). */
  private next: number | undefined;
  /** Batches written and not yet confirmed: the cursor after each, when, and on which connection. */
  private unconfirmed: { next: number; at: number; connection: number }[] = [];
  private size: number | undefined;
  /** Holds the lease (always, without one), and when it was last claimed. */
  private leased: boolean;
  private claimedAt = 0;
  private lastError: string | null = null;
  private sent = 0;

  constructor(private readonly options: SiemForwarderOptions) {
    this.leased = options.lease === undefined;
  }

  get name(): string {
    return this.options.name;
  }

  status(): SinkStatus {
    const lag = this.delivered === undefined || this.size === undefined ? null : Math.max(0, this.size - this.delivered);
    return { name: this.options.name, lag, connected: this.options.transport.connected, lastError: this.lastError, sent: this.sent, standby: !this.leased };
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.unsubscribe = this.options.log.onAppend?.(() => {
      if (this.idle) this.wake?.();
    });
    this.running = this.loop();
  }

  /**
   * Stops: at once, or once caught up within `graceMs` (what a drain at shutdown gives). A batch
   * in flight when time is up is abandoned; its cursor is not moved, so it is sent again next time.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    const timer = setTimeout(() => {
      this.stopped = true;
      this.options.transport.close();
      this.wake?.();
    }, graceMs);
    this.wake?.();
    await this.running;
    clearTimeout(timer);
    this.stopped = true;
    this.options.transport.close();
    if (this.options.lease && this.leased) {
      await this.options.store.releaseLease(this.options.name, this.options.lease.holder).catch(() => undefined);
    }
  }

  private async loop(): Promise<void> {
    const initial = this.options.backoff?.initialMs ?? 100;
    const max = this.options.backoff?.maxMs ?? 30_000;
    let backoff = initial;
    while (!this.stopped) {
      try {
        const more = await this.step();
        if (this.lastError !== null) this.options.logger.info({ sink: this.options.name, lag: this.status().lag }, 'audit sink reachable again');
        this.lastError = null;
        backoff = initial;
        if (!more) {
          if (this.stopping && this.unconfirmed.length === 0) return;
          this.idle = true;
          const poll = this.options.pollMs ?? 1000;
          await this.pause(this.unconfirmed.length > 0 ? Math.min(poll, this.confirmMs) : poll);
          this.idle = false;
        }
      } catch (err) {
        if (this.stopping) return;
        const message = (err as Error).message || String(err);
        if (this.lastError === null) this.options.logger.warn({ sink: this.options.name, err: message }, 'audit sink unreachable: records wait in the log and are retried with backoff');
        this.lastError = message;
        // Resend what was not confirmed, from the stored cursor (another node may have moved it).
        this.next = undefined;
        this.unconfirmed = [];
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private get confirmMs(): number {
    return this.options.confirmMs ?? 500;
  }

  /** Claims or renews the lease when one is due; false while another node holds it. */
  private async holdLease(): Promise<boolean> {
    const lease = this.options.lease;
    if (!lease) return true;
    const ttl = lease.ttlMs ?? 15_000;
    if (this.leased && Date.now() - this.claimedAt < ttl / 3) return true;
    const was = this.leased;
    const at = Date.now();
    this.leased = await this.options.store.claimLease(this.options.name, lease.holder, ttl);
    if (this.leased) this.claimedAt = at;
    if (this.leased !== was) {
      this.options.logger.info({ sink: this.options.name, holder: lease.holder }, this.leased ? 'this node forwards the audit log to the sink (lease taken)' : 'another node forwards the audit log to the sink: standing by');
      // Whoever forwarded before moved the cursor: start again from the stored one.
      this.next = undefined;
      this.unconfirmed = [];
    }
    return this.leased;
  }

  /** Sends one batch; false when there was nothing to send. */
  private async step(): Promise<boolean> {
    const { store, log, transport } = this.options;
    if (!(await this.holdLease())) {
      // Standing by: the lag is the forwarding node's, read from the store.
      this.delivered = await store.getCursor(this.options.name);
      this.size = (await store.head()).size;
      this.report();
      return false;
    }
    if (this.next === undefined) {
      this.delivered = await store.getCursor(this.options.name);
      this.next = this.delivered;
    }
    await this.confirm();
    this.size = (await store.head()).size;
    this.report();
    const from = this.next;
    if (from >= this.size) return false;
    const to = Math.min(this.size, from + (this.options.batchSize ?? 500));
    const messages: Buffer[] = [];
    for await (const line of log.lines(from, to)) messages.push(this.options.format(log.view(line)));
    if (messages.length === 0) return false;
    await transport.send(messages);
    this.next = from + messages.length;
    this.unconfirmed.push({ next: this.next, at: Date.now(), connection: transport.connection });
    this.sent += messages.length;
    await this.confirm();
    return true;
  }

  /**
   * Moves the stored cursor past the batches the transport can vouch for: at once for one that
   * acknowledges (HEC's 2xx, confirmMs 0), else once the connection they were written on stayed
   * up `confirmMs` after. A connection lost before that means the collector may not have read
   * them: they are sent again (a failure, so the loop backs off and rewinds to the cursor).
   */
  private async confirm(): Promise<void> {
    const { transport, store } = this.options;
    let upTo: number | undefined;
    const now = Date.now();
    while (this.unconfirmed.length > 0) {
      const batch = this.unconfirmed[0];
      if (batch.connection !== transport.connection || !transport.connected) throw new Error(transport.lastError ?? 'the connection was lost before the collector could have read the last records');
      if (now - batch.at < this.confirmMs) break;
      upTo = batch.next;
      this.unconfirmed.shift();
    }
    if (upTo === undefined) return;
    await store.setCursor(this.options.name, upTo);
    this.delivered = upTo;
    this.report();
  }

  private report(): void {
    const lag = this.status().lag;
    if (lag !== null) this.options.lagGauge?.set(lag, { sink: this.options.name });
  }

  /** Waits `ms`, or less when woken by an append or by stop(). */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
