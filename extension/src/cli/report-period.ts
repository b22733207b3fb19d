import type { ReportPeriod } from '../core/compliance/evidence-types.js';
import { FRAMEWORK_IDS, type FrameworkId } from '../core/compliance/frameworks.js';
import { parseTime } from './audit-format.js';
import { UsageError } from './output.js';

export const REPORT_FORMATS = ['html', 'json', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The period a report covers when --from is not given. */
export const DEFAULT_PERIOD_DAYS = 90;
const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The period of `--from` and `--to`, both inclusive, in UTC: a date alone is that day in UTC
 * (so `--to 2026-12-31` takes in the whole of the 31st); no --to is now; no --from is
 * DEFAULT_PERIOD_DAYS before the end.
 */
export function reportPeriod(values: { from?: string; to?: string }, now: number): ReportPeriod {
  const to = values.to === undefined
    ? new Date(now).toISOString()
    : DATE_ONLY.test(values.to.trim())
      ? new Date(Date.parse(parseTime(values.to, '--to')) + DAY_MS - 1).toISOString()
      : parseTime(values.to, '--to');
  const from = values.from === undefined ? new Date(Date.parse(to) - DEFAULT_PERIOD_DAYS * DAY_MS).toISOString() : parseTime(values.from, '--from');
  if (from > to) throw new UsageError(`--from (${values.from ?? from}) is after --to (${values.to ?? to})`);
  return { from, to };
}

/** --framework: required, one of the catalogue's. */
export function reportFramework(value: string | undefined): FrameworkId {
  if (value === undefined) throw new UsageError(`missing --framework: ${FRAMEWORK_IDS.join(', ')}`);
  if (!(FRAMEWORK_IDS as readonly string[]).includes(value)) throw new UsageError(`--framework must be one of ${FRAMEWORK_IDS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as FrameworkId;
}

/** --format, or what --out's extension says (`.json`, `.pdf`), else html. */
export function reportFormat(format: string | undefined, out: string): ReportFormat {
  if (format !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    return format as ReportFormat;
  }
  const ext = /\.([a-z]+)$/i.exec(out)?.[1]?.toLowerCase();
  return ext === 'json' || ext === 'pdf' ? ext : 'html';
}
