import type { AuditEventCode } from '../audit/event-codes.js';

/** Who did it: an authenticated identity, or nobody (a request without a valid token). */
export interface AuditSubject {
  id: number;
  name: string;
  admin: boolean;
}

/** One security-relevant event. Fields are plain data so any sink can serialize them. */
export interface AuditEvent {
  /** Stable event code (docs/audit-events.md). */
  code: AuditEventCode;
  /** Wall-clock ISO 8601 time. */
  at: string;
  subject: AuditSubject | null;
  /** The action decided or done, e.g. `tunnel.connect`. */
  action: string;
  /** What it was done to, e.g. `tunnel:web`, `user:alice`, `relay`. */
  resource: string;
  /** Whether what was tried happened; derived from the code when absent (refusals are failures). */
  outcome?: 'success' | 'failure';
  /** For access decisions: the rule that decided. */
  rule?: string;
  /** For people: why. */
  reason?: string;
  /** Extra facts (counts, link labels, source address). */
  detail?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Where audit events go. `record` must not throw and must not block: a sink that needs I/O
 * queues and reports its own failures. The hash-chained, signed log (capability 8) is one sink.
 */
export interface AuditSink {
  record(event: AuditEvent): void;
  /** Writes out what is queued; resolves when it is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
