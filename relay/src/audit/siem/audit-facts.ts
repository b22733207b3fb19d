import type { AuditEntryView } from '../chained-log.js';

/**
 * What every SIEM format says about a record, decided once: its kind (the ECS category, which
 * also sets syslog and CEF severities), the names and address it carries, and a sentence for
 * people. Formats only spell these facts their own way.
 */
export type AuditCategory = 'authentication' | 'iam' | 'network' | 'configuration';

/** The ECS category of each event code's family; an unknown family (a newer relay) is configuration. */
const CATEGORY_BY_PREFIX: Readonly<Record<string, AuditCategory>> = {
  access: 'authentication',
  auth: 'authentication',
  user: 'iam',
  member: 'iam',
  invite: 'iam',
  request: 'iam',
  links: 'iam',
  stream: 'network',
  streams: 'network',
  tunnel: 'configuration',
  relay: 'configuration',
};
/** Presence, not configuration: a host coming and going. */
const NETWORK_EVENTS: ReadonlySet<string> = new Set(['tunnel.online', 'tunnel.offline', 'tunnel.host_replaced']);

export function categoryOf(event: string): AuditCategory {
  if (NETWORK_EVENTS.has(event)) return 'network';
  return CATEGORY_BY_PREFIX[event.split('.')[0]] ?? 'configuration';
}

/** Three levels, spelled per format: a refusal, a change of who may do what or of settings, anything else. */
export type AuditLevel = 'failure' | 'change' | 'info';

export function levelOf(entry: Pick<AuditEntryView, 'event' | 'outcome'>): AuditLevel {
  if (entry.outcome === 'failure') return 'failure';
  const category = categoryOf(entry.event);
  return (category === 'iam' || category === 'configuration') && !entry.event.startsWith('relay.') ? 'change' : 'info';
}

/** `NAME` of a `prefix:NAME` field, when it has that prefix. */
export function named(field: string, prefix: 'user' | 'tunnel'): string | undefined {
  return field.startsWith(`${prefix}:`) ? field.slice(prefix.length + 1) : undefined;
}

/** A detail field of an opened record (undefined when absent, or the details are sealed). */
export function detailField(entry: AuditEntryView, key: string): unknown {
  return entry.details?.[key];
}

/** The client address recorded with the event (`detail.address`), when there is one. */
export function addressOf(entry: AuditEntryView): string | undefined {
  const detail = detailField(entry, 'detail');
  const address = detail && typeof detail === 'object' ? (detail as Record<string, unknown>).address : undefined;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The action, the rule that decided and the reason, from the opened details. */
export function decisionOf(entry: AuditEntryView): { action?: string; rule?: string; reason?: string } {
  return { action: text(detailField(entry, 'action')), rule: text(detailField(entry, 'rule')), reason: text(detailField(entry, 'reason')) };
}

/** Control characters (newlines included) as spaces: one record stays one line wherever it goes. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const oneLine = (value: string): string => value.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/** e.g. `access.denied: user:bob on tunnel:web, failure (rule not-owner; reason …) [#41]`. */
export function sentenceOf(entry: AuditEntryView): string {
  const { action, rule, reason } = decisionOf(entry);
  const why = [action && `action ${action}`, rule && `rule ${rule}`, reason && `reason ${reason}`].filter(Boolean).join('; ');
  return oneLine(`${entry.event}: ${entry.actor} on ${entry.target}, ${entry.outcome}${why ? ` (${why})` : ''} [#${entry.index}]`);
}
