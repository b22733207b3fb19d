import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';

/** Hands each event to several sinks (the signed log and, say, a JSON lines mirror). */
export class TeeAuditSink implements AuditSink {
  constructor(private readonly sinks: readonly AuditSink[]) {}

  record(event: AuditEvent): void {
    for (const sink of this.sinks) sink.record(event);
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}
