import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Metrics } from '../ports/metrics.js';
import type { AdaptiveLimit } from './adaptive-limit.js';

/**
 * Feeds the relay's event-loop delay to the adaptive open limit (its p99 over each interval:
 * past the limit's threshold the relay counts as overloaded and the limit is cut), and shows the
 * limit, the opens under way and the delay as gauges. Returns the function that stops it.
 */
export function watchOverload(adaptive: AdaptiveLimit, metrics: Metrics, everyMs = 1000): () => void {
  const limit = metrics.gauge({ name: 'tether_open_concurrency_limit', help: 'Stream opens the relay takes on at once, as the adaptive limit now has it' });
  const inflight = metrics.gauge({ name: 'tether_open_concurrency_inflight', help: 'Stream opens under way (admitted, not yet answered by their host)' });
  const delay = metrics.gauge({ name: 'tether_event_loop_delay_p99_seconds', help: "The relay's event-loop delay, 99th percentile over the last interval" });
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const timer = setInterval(() => {
    const p99Ms = histogram.percentile(99) / 1e6;
    histogram.reset();
    adaptive.observeEventLoopDelay(p99Ms);
    const stats = adaptive.stats;
    limit.set(stats.limit);
    inflight.set(stats.inflight);
    delay.set(p99Ms / 1000);
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
