import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';

/** Keeps the newest `capacity` events in memory (recent activity; tests read it). */
export class MemoryAuditSink implements AuditSink {
  private readonly ring: AuditEvent[] = [];
  private readonly capacity: number;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  record(event: AuditEvent): void {
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  /** Events held, oldest first. */
  events(): readonly AuditEvent[] {
    return this.ring;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
