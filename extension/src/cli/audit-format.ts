import type { LogVerdict } from '@tether/shared/audit';
import { AUDIT_EXPORT_FORMATS, type AuditEntry, type AuditExportFormat, type AuditFilterOptions } from '../core/audit-api.js';
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './output.js';
import type { Table } from './sharing-format.js';

/**
 * `tether audit verify`'s exit codes, as diff's: the log is intact, it is not (tampered,
 * truncated, or a checkpoint does not hold), or it could not be checked at all.
 */
export const VERIFY_EXIT = { intact: 0, notIntact: EXIT_FAILURE, cannotVerify: EXIT_USAGE } as const;


/** `2026-12-01`, `2026-12-01T10:00`, `…T10:00:00.5Z`, `…T10:00:00+02:00`. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 time given to `flag`, as the relay takes it (UTC, `…Z`); a date alone is its
 * midnight UTC, a time without a zone is local time. Anything else is a usage error naming the flag.
 */
export function parseTime(text: string, flag: string): string {
  const ms = ISO_8601.test(text.trim()) ? Date.parse(text.trim().replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be an ISO 8601 time such as 2026-12-01 or 2026-12-01T09:30:00Z, got ${JSON.stringify(text)}`);
  return new Date(ms).toISOString();
}

/** The filter flags of `audit export` and `audit log`, as given. */
export interface AuditFilterValues {
  from?: string;
  to?: string;
  actor?: string;
  event?: string;
  tunnel?: string;
  target?: string;
  outcome?: 'success' | 'failure';
}

/** The relay's filter from the flags: times checked and made UTC, `--from` not after `--to`. */
export function auditFilter(values: AuditFilterValues): AuditFilterOptions {
  const from = values.from === undefined ? undefined : parseTime(values.from, '--from');
  const to = values.to === undefined ? undefined : parseTime(values.to, '--to');
  if (from !== undefined && to !== undefined && from > to) throw new UsageError(`--from (${values.from}) is after --to (${values.to})`);
  if (values.tunnel !== undefined && values.target !== undefined) throw new UsageError('give --tunnel NAME or --target TARGET, not both (--tunnel N is --target tunnel:N)');
  const filter: AuditFilterOptions = { from, to, actor: values.actor, event: values.event, tunnel: values.tunnel, target: values.target, outcome: values.outcome };
  for (const key of Object.keys(filter) as (keyof AuditFilterOptions)[]) if (filter[key] === undefined) delete filter[key];
  return filter;
}

/** `--format`: jsonl (what verify checks), or syslog, cef or hec for a SIEM. */
export function exportFormat(format: string | undefined): AuditExportFormat {
  if (format === undefined) return 'jsonl';
  if ((AUDIT_EXPORT_FORMATS as readonly string[]).includes(format)) return format as AuditExportFormat;
  throw new UsageError(`--format must be one of ${AUDIT_EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
}

/** Tabs or newlines in a value would break the columns; empty fields are `-`. */
const cell = (value: string | null | undefined): string => (value ? value.replace(/[\t\r\n]+/g, ' ') : '-');

/** `tether audit log`: INDEX, TIME, EVENT, ACTOR, TARGET, OUTCOME. */
export function auditTable(entries: readonly AuditEntry[]): Table {
  return {
    header: ['INDEX', 'TIME', 'EVENT', 'ACTOR', 'TARGET', 'OUTCOME'],
    rows: entries.map((e) => [String(e.index), cell(e.time), cell(e.event), cell(e.actor), cell(e.target), cell(e.outcome)]),
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `0..1233`, or `none` for an empty log. */
export function indexRange(first: number, count: number): string {
  return count === 0 ? 'none' : `${first}..${first + count - 1}`;
}

/** The summary of an intact log: `intact: 1234 records (0..1233), root <hex>, 2 checkpoints verified`. */
export function intactLine(v: LogVerdict): string {
  const root = v.root === null ? 'root not computed (the export does not start at record 0)' : `root ${v.root}`;
  return `intact: ${plural(v.records, 'record')} (${indexRange(v.first, v.records)}), ${root}, ${plural(v.checkpointsChecked, 'checkpoint')} verified`;
}

/**
 * What is wrong, in one line: `record N: <what>` when a record can be named, else the truncation
 * or checkpoint sentence as it is.
 */
export function problemLine(v: LogVerdict): string {
  const p = v.problem;
  if (!p) return intactLine(v);
  if (p.index === null || p.kind === 'truncated' || p.kind === 'root') return p.message;
  const prefix = `record ${p.index} `;
  return `record ${p.index}: ${p.message.startsWith(prefix) ? p.message.slice(prefix.length) : p.message}`;
}

/** `--json`: the verdict as one document, `problem` null when intact. */
export function verdictJson(v: LogVerdict): string {
  const { ok, first, records, root, checkpointsChecked } = v;
  return JSON.stringify({ ok, first, records, root, checkpointsChecked, problem: v.problem ? { kind: v.problem.kind, index: v.problem.index, message: v.problem.message } : null });
}
