import { WireCode } from '@tether/shared';
import type { Clock } from '../ports/clock.js';
import { DEFAULT_USAGE_RETENTION, emptyCounters, mergeCounters, type UsageDelta, type UsageRetention, type UsageStore } from '../ports/usage-store.js';

/** A stream as the router keeps it: its tunnel and the payload bytes it carried so far (they grow). */
/** Where opens refused as TUNNEL_UNKNOWN are counted: the names asked for are nobody's (or not to be told). */
export const UNKNOWN_TUNNEL = '_unknown';
/** Where keys past `maxKeys` are counted. */
export const OVERFLOW_KEY = '_other';

export interface LiveStream {
  readonly tunnel: string;
  readonly up: number;
  readonly down: number;
}

/**
 * What the router tells usage analytics, at three moments of a stream's life: the host accepted
 * it, it ended, or its OPEN was refused. Calls are cheap (a few map updates); nothing is written
 * until the recorder's next flush.
 */
export interface UsageHook {
  streamOpened(stream: LiveStream, user: string): void;
  /** `protocol`: what its first bytes spoke, when it was classified on this node (docs/protocols.md). */
  streamClosed(stream: LiveStream, durationMs: number, protocol?: string): void;
  openFailed(tunnel: string, user: string, code: number): void;
}

export interface UsageRecorderOptions {
  store: UsageStore;
  clock: Clock;
  /** This relay's node id: the `node` of every row it writes. */
  nodeId: string;
  retention?: UsageRetention;
  /** How often the batch is written (default 5 s). */
  flushMs?: number;
  /**
   * Distinct (minute, tunnel, user) keys held between flushes (default 20 000): past that, new
   * keys are counted under tunnel and user `_other`, so a flood of names cannot grow the store
   * without bound. While the store is unreachable at most twice this is kept (oldest minutes dropped).
   */
  maxKeys?: number;
  log?: { warn(obj: object, msg: string): void };
}

interface Live {
  user: string;
  key: string;
  up: number;
  down: number;
}

/**
 * Counts usage per (minute, tunnel, user, this node) in memory and writes it to the UsageStore in
 * batches every few seconds: bytes each way (read from live streams at each flush, so a long
 * session's bytes land in the minutes they flowed), streams opened, sessions closed and their
 * duration, peak concurrent streams, failed opens by wire code. Rows older than their retention
 * are pruned once a minute.
 */
export class UsageRecorder implements UsageHook {
  private readonly live = new Map<LiveStream, Live>();
  /** Open streams per `tunnel\0user`. */
  private readonly concurrent = new Map<string, number>();
  private pending = new Map<string, UsageDelta>();
  private readonly retention: UsageRetention;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private lastPrune = 0;
  private closed = false;
  private readonly maxKeys: number;

  constructor(private readonly options: UsageRecorderOptions) {
    this.retention = options.retention ?? DEFAULT_USAGE_RETENTION;
    this.maxKeys = options.maxKeys ?? 20_000;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 5000);
    this.timer.unref();
  }

  streamOpened(stream: LiveStream, user: string): void {
    const key = `${stream.tunnel}\0${user}`;
    this.live.set(stream, { user, key, up: stream.up, down: stream.down });
    const n = (this.concurrent.get(key) ?? 0) + 1;
    this.concurrent.set(key, n);
    const d = this.delta(stream.tunnel, user);
    d.opened++;
    d.peak = Math.max(d.peak, n);
  }

  streamClosed(stream: LiveStream, durationMs: number, protocol?: string): void {
    const live = this.live.get(stream);
    if (!live) return;
    this.live.delete(stream);
    const d = this.delta(stream.tunnel, live.user);
    d.bytesUp += stream.up - live.up;
    d.bytesDown += stream.down - live.down;
    d.closed++;
    d.durationMs += Math.max(0, Math.round(durationMs));
    if (protocol !== undefined) d.protocols[protocol] = (d.protocols[protocol] ?? 0) + 1;
    const n = (this.concurrent.get(live.key) ?? 1) - 1;
    if (n > 0) this.concurrent.set(live.key, n);
    else this.concurrent.delete(live.key);
  }

  openFailed(tunnel: string, user: string, code: number): void {
    const d = this.delta(code === WireCode.TUNNEL_UNKNOWN ? UNKNOWN_TUNNEL : tunnel, user);
    d.failed[code] = (d.failed[code] ?? 0) + 1;
  }

  /** Streams open now, on this node. */
  openStreams(): number {
    return this.live.size;
  }

  /**
   * Writes what was counted since the last flush (and the bytes live streams carried since); on a
   * store failure the batch is kept and merged into the next one.
   */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes the last batch. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    for (const [stream, live] of this.live) {
      if (stream.up === live.up && stream.down === live.down) continue;
      const d = this.delta(stream.tunnel, live.user);
      d.bytesUp += stream.up - live.up;
      d.bytesDown += stream.down - live.down;
      live.up = stream.up;
      live.down = stream.down;
    }
    // A minute where streams stayed open shows them in its peak even if none opened in it.
    for (const [key, n] of this.concurrent) {
      const [tunnel, user] = key.split('\0');
      const d = this.delta(tunnel, user);
      d.peak = Math.max(d.peak, n);
    }
    const batch = this.pending;
    this.pending = new Map();
    const now = this.options.clock.now();
    try {
      if (batch.size > 0) await this.options.store.add([...batch.values()], this.retention);
      if (now - this.lastPrune >= 60_000) {
        this.lastPrune = now;
        await this.options.store.prune(now, this.retention);
      }
    } catch (err) {
      this.options.log?.warn({ err: (err as Error).message, keys: batch.size }, 'usage analytics could not be written; kept for the next flush');
      for (const [k, d] of batch) {
        const into = this.pending.get(k);
        if (into) mergeCounters(into, d);
        else this.pending.set(k, d);
      }
      const max = 2 * this.maxKeys;
      if (this.pending.size > max) {
        const sorted = [...this.pending].sort((a, b) => a[1].minute - b[1].minute);
        this.pending = new Map(sorted.slice(sorted.length - max));
      }
    }
  }

  private delta(tunnel: string, user: string): UsageDelta {
    const minute = Math.floor(this.options.clock.now() / 60_000) * 60_000;
    let k = `${minute}\0${tunnel}\0${user}`;
    let d = this.pending.get(k);
    if (!d && this.pending.size >= this.maxKeys) {
      tunnel = user = OVERFLOW_KEY;
      k = `${minute}\0${tunnel}\0${user}`;
      d = this.pending.get(k);
    }
    if (!d) {
      d = { ...emptyCounters(), minute, tunnel, user, node: this.options.nodeId };
      this.pending.set(k, d);
    }
    return d;
  }
}
