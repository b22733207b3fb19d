import type { AuditEvent } from '../ports/audit-sink.js';
import { AuditEventCode } from './event-codes.js';

/** Decisions a client can make the relay take by the thousand (a flood of OPENs or requests). */
const SUMMARIZED: ReadonlySet<string> = new Set([AuditEventCode.ACCESS_GRANTED, AuditEventCode.ACCESS_DENIED, AuditEventCode.AUTH_FAILED, AuditEventCode.LIMIT_REFUSED]);

/** How many alike events in a window are recorded one by one before the rest are counted. */
export const BURST_LIMIT = 10;
export const BURST_WINDOW_MS = 1000;

interface Burst {
  passed: number;
  more: number;
  last: AuditEvent | undefined;
  resources: Set<string>;
}

/**
 * Keeps a flood from turning into a flood of records: of the access decisions and failed
 * sign-ins alike in code, subject and action, the first BURST_LIMIT in a window of
 * BURST_WINDOW_MS are recorded as they come, and the rest are counted and recorded once when the
 * window ends, as the last of them with `detail.repeated` (how many) and `detail.resources` (up
 * to five of what they were about). Nothing is lost from the count; every record still costs
 * the relay a hash, a seal and a write, so one client cannot make it spend its CPU there.
 */
export class BurstSummary {
  private readonly bursts = new Map<string, Burst>();

  constructor(private readonly emit: (event: AuditEvent) => void) {}

  offer(event: AuditEvent): void {
    if (!SUMMARIZED.has(event.code)) return this.emit(event);
    const key = `${event.code}|${event.subject?.id ?? '-'}|${event.action}`;
    let burst = this.bursts.get(key);
    if (!burst) {
      burst = { passed: 0, more: 0, last: undefined, resources: new Set() };
      this.bursts.set(key, burst);
      setTimeout(() => this.close(key), BURST_WINDOW_MS).unref();
    }
    if (burst.passed < BURST_LIMIT) {
      burst.passed++;
      return this.emit(event);
    }
    burst.more++;
    burst.last = event;
    if (burst.resources.size < 5) burst.resources.add(event.resource);
  }

  /** Records what each open window counted, now (at shutdown). */
  flush(): void {
    for (const key of [...this.bursts.keys()]) this.close(key);
  }

  private close(key: string): void {
    const burst = this.bursts.get(key);
    if (!burst) return;
    this.bursts.delete(key);
    if (!burst.last) return;
    const { last, more, resources } = burst;
    this.emit({
      ...last,
      reason: `${more} more like this within ${BURST_WINDOW_MS} ms, counted in one record${last.reason ? `; the last: ${last.reason}` : ''}`,
      detail: { ...last.detail, repeated: more, resources: [...resources].join(' ') },
    });
  }
}
