import type { AuditEvent, AuditSink, AuditSubject } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { AuditEventCode } from './event-codes.js';

export type AuditFields = Pick<AuditEvent, 'rule' | 'reason' | 'detail'>;

/** Stamps events with the clock and the subject's public fields, and hands them to the sink. */
export class Auditor {
  private readonly sink: AuditSink;
  private readonly clock: Clock;

  constructor(sink: AuditSink, clock: Clock) {
    this.sink = sink;
    this.clock = clock;
  }

  record(code: AuditEventCode, subject: AuditSubject | null, action: string, resource: string, fields: AuditFields = {}): void {
    const event: AuditEvent = {
      code,
      at: new Date(this.clock.now()).toISOString(),
      subject: subject && { id: subject.id, name: subject.name, admin: subject.admin },
      action,
      resource,
      ...fields,
    };
    this.sink.record(event);
  }
}
