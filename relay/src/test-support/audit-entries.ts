import type { AuditEntryView } from '../audit/chained-log.js';

/** A record as `ChainedAuditLog.view` shows it, with fields overridden (a test's builder). */
export function auditEntry(overrides: Partial<AuditEntryView> = {}): AuditEntryView {
  return {
    index: 41,
    time: '2026-12-01T10:46:57.141Z',
    event: 'access.denied',
    actor: 'user:bob',
    target: 'tunnel:web',
    outcome: 'failure',
    node: 'node-1',
    details: { action: 'tunnel.connect', rule: 'not-owner', reason: 'not a member', detail: { address: '::ffff:10.0.0.7' } },
    ...overrides,
  };
}
