import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** How busy this node's process is (the dashboard's Overview shows it per node). */
export interface NodeLoadSample {
  /** CPU time used per wall-clock time since the previous sample: 1 is one core fully busy. */
  cpu: number;
  rssBytes: number;
  /** The 99th percentile of the event loop's delay since the previous sample (ms). */
  eventLoopDelayMs: number;
}

/**
 * Samples the process's CPU, memory and event loop delay. A sample is recomputed at most every
 * `periodMs`: callers in between (a heartbeat, an overview) get the same figures.
 */
export class NodeLoad {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private last: NodeLoadSample | undefined;

  constructor(private readonly periodMs = 1000) {
    this.delay.enable();
  }

  current(): NodeLoadSample {
    const now = performance.now();
    if (this.last && now - this.lastAt < this.periodMs) return this.last;
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = Math.max(1, now - this.lastAt);
    this.last = {
      cpu: Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 1000,
      rssBytes: process.memoryUsage.rss(),
      eventLoopDelayMs: Math.round((this.delay.percentile(99) / 1e6) * 100) / 100,
    };
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    this.delay.reset();
    return this.last;
  }

  close(): void {
    this.delay.disable();
  }
}
