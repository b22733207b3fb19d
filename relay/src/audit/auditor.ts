import { randomBytes } from 'node:crypto';
import type { AuditEvent, AuditSink, AuditSubject } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import { BurstSummary } from './burst-summary.js';
import { redactSecrets } from './details-cipher.js';
import type { AuditEventCode } from './event-codes.js';

export type AuditFields = Pick<AuditEvent, 'rule' | 'reason' | 'detail' | 'outcome'>;

/**
 * Stamps events with the clock and the subject's public fields, replaces secrets in `detail`
 * (fields named like token, secret, password or code) by their keyed HMAC, and hands them to the
 * sink. Every sink, not only the signed log, gets the redacted event. Floods of alike access
 * decisions are counted rather than recorded one by one past a few a second (BurstSummary).
 */
export class Auditor {
  private readonly sink: AuditSink;
  private readonly clock: Clock;
  private readonly salt: Buffer;
  private readonly bursts: BurstSummary;

  /** `salt` keys the HMAC of secrets: the deployment's (audit keyring) so fingerprints compare across restarts. */
  constructor(sink: AuditSink, clock: Clock, salt: Buffer = randomBytes(32)) {
    this.sink = sink;
    this.clock = clock;
    this.salt = salt;
    this.bursts = new BurstSummary((event) => this.sink.record(event));
  }

  /** Records what floods of alike decisions counted so far (at shutdown, before the sink closes). */
  flushBursts(): void {
    this.bursts.flush();
  }

  record(code: AuditEventCode, subject: AuditSubject | null, action: string, resource: string, fields: AuditFields = {}): void {
    const event: AuditEvent = {
      code,
      at: new Date(this.clock.now()).toISOString(),
      subject: subject && { id: subject.id, name: subject.name, admin: subject.admin },
      action,
      resource,
      ...fields,
      ...(fields.detail ? { detail: redactSecrets(fields.detail, this.salt) } : {}),
    };
    this.bursts.offer(event);
  }
}
