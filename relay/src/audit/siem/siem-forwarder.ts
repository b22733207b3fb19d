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
  store: Pick<AuditLogStore, 'head' | 'getCursor' | 'setCursor'>;
  transport: SiemTransport;
  /** One record as the bytes the transport sends (framed for syslog, JSON for HEC). */
  format(entry: AuditEntryView): Buffer;
  /** Records per batch (default 500). */
  batchSize?: number;
  /** How often the log is looked at for records written by other nodes (default 1 s). */
  pollMs?: number;
  /** First and longest wait after a failure (defaults 100 ms and 30 s; doubling). */
  backoff?: { initialMs?: number; maxMs?: number };
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
  private cursor: number | undefined;
  private size: number | undefined;
  private lastError: string | null = null;
  private sent = 0;

  constructor(private readonly options: SiemForwarderOptions) {}

  get name(): string {
    return this.options.name;
  }

  status(): SinkStatus {
    const lag = this.cursor === undefined || this.size === undefined ? null : Math.max(0, this.size - this.cursor);
    return { name: this.options.name, lag, connected: this.options.transport.connected, lastError: this.lastError, sent: this.sent };
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
          if (this.stopping) return;
          this.idle = true;
          await this.pause(this.options.pollMs ?? 1000);
          this.idle = false;
        }
      } catch (err) {
        if (this.stopping) return;
        const message = (err as Error).message || String(err);
        if (this.lastError === null) this.options.logger.warn({ sink: this.options.name, err: message }, 'audit sink unreachable: records wait in the log and are retried with backoff');
        this.lastError = message;
        // Reread the cursor after a failure: another node may have moved it.
        this.cursor = undefined;
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  /** Sends one batch; false when there was nothing to send. */
  private async step(): Promise<boolean> {
    const { store, log, transport } = this.options;
    this.cursor ??= await store.getCursor(this.options.name);
    this.size = (await store.head()).size;
    this.report();
    const from = this.cursor;
    if (from >= this.size) return false;
    const to = Math.min(this.size, from + (this.options.batchSize ?? 500));
    const messages: Buffer[] = [];
    for await (const line of log.lines(from, to)) messages.push(this.options.format(log.view(line)));
    if (messages.length === 0) return false;
    await transport.send(messages);
    const next = from + messages.length;
    await store.setCursor(this.options.name, next);
    this.cursor = next;
    this.sent += messages.length;
    this.report();
    return true;
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
