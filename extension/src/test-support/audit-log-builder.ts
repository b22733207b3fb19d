import type { EvidenceRecord } from '../core/compliance/evidence-types.js';

/**
 * Builds a log of records for the compliance tests: `add(event, actor, target, detail, extra)`
 * appends one a minute after the last, from 2026-01-01T00:00Z.
 */
export class LogBuilder {
  readonly records: EvidenceRecord[] = [];
  private at = Date.parse('2026-01-01T00:00:00.000Z');

  /** The time the next record gets, and moves the clock on by `minutes` first. */
  wait(minutes: number): this {
    this.at += minutes * 60_000;
    return this;
  }

  add(event: string, actor: string, target: string, detail: Record<string, unknown> = {}, extra: { action?: string; rule?: string; outcome?: string; unreadable?: boolean } = {}): this {
    this.at += 60_000;
    this.records.push({
      index: this.records.length,
      time: new Date(this.at).toISOString(),
      event,
      actor,
      target,
      outcome: extra.outcome ?? 'success',
      details: extra.unreadable ? null : { action: extra.action ?? 'tunnel.manage', ...(extra.rule ? { rule: extra.rule } : {}), detail },
    });
    return this;
  }

  /** The time of the last record added. */
  get now(): string {
    return new Date(this.at).toISOString();
  }
}
