import type { AuditSink } from '../ports/audit-sink.js';

/** Drops every event: the default when no audit sink is configured. */
export const noopAuditSink: AuditSink = {
  record: () => undefined,
  flush: async () => undefined,
  close: async () => undefined,
};
