import type { AuditEntryView } from '../chained-log.js';
import { addressOf, categoryOf, decisionOf, named, sentenceOf } from './audit-facts.js';

export interface HecFormatOptions {
  /** The Splunk index; left to the token's default when absent. */
  index?: string;
}

/** A Splunk HTTP Event Collector event whose `event` follows the Elastic Common Schema. */
export interface HecEvent {
  time: number;
  host: string;
  source: 'tether';
  sourcetype: 'tether:audit';
  index?: string;
  event: Record<string, unknown>;
}

/**
 * One record as a Splunk HEC event: `time` in epoch seconds with milliseconds, `host` the node,
 * and the record in ECS field names, nested (`event.action`, not a dotted key): the event code
 * as `event.action`, the record index as `event.sequence` (the key duplicates share), the ECS
 * category of the code, the user, the client address, the node as `observer.hostname`, and what
 * ECS has no field for under `tether`.
 */
export function formatHec(entry: AuditEntryView, options: HecFormatOptions = {}): HecEvent {
  const { action, rule, reason } = decisionOf(entry);
  const user = named(entry.actor, 'user');
  const address = addressOf(entry);
  const event: Record<string, unknown> = {
    '@timestamp': entry.time,
    message: sentenceOf(entry),
    event: {
      kind: 'event',
      category: [categoryOf(entry.event)],
      action: entry.event,
      outcome: entry.outcome === 'failure' ? 'failure' : entry.outcome === 'success' ? 'success' : 'unknown',
      sequence: entry.index,
      ...(reason !== undefined && { reason }),
      module: 'tether',
      dataset: 'tether.audit',
    },
    ...(user !== undefined && { user: { name: user, ...(named(entry.target, 'user') !== undefined && { target: { name: named(entry.target, 'user') } }) } }),
    ...(user === undefined && named(entry.target, 'user') !== undefined && { user: { target: { name: named(entry.target, 'user') } } }),
    ...(address !== undefined && { source: { ip: address.replace(/^::ffff:/, '') } }),
    ...(rule !== undefined && { rule: { name: rule } }),
    observer: { hostname: entry.node, vendor: 'Tether', product: 'Tether Relay' },
    tether: {
      actor: entry.actor,
      target: entry.target,
      ...(named(entry.target, 'tunnel') !== undefined && { tunnel: named(entry.target, 'tunnel') }),
      ...(action !== undefined && { action }),
      details: entry.details,
    },
  };
  return {
    time: Date.parse(entry.time) / 1000,
    host: entry.node,
    source: 'tether',
    sourcetype: 'tether:audit',
    ...(options.index !== undefined && { index: options.index }),
    event,
  };
}
