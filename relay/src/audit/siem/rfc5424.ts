import type { AuditEntryView } from '../chained-log.js';
import { decisionOf, levelOf, oneLine, sentenceOf, type AuditLevel } from './audit-facts.js';

/** RFC 5424 facility numbers by name; `authpriv` (10) is where security messages go by default. */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
export const DEFAULT_FACILITY = FACILITIES.authpriv;

/** warning for refusals, notice for changes of access or settings, informational for the rest. */
const SEVERITY: Readonly<Record<AuditLevel, number>> = { failure: 4, change: 5, info: 6 };

/**
 * The SD-ID: `tether` at the example Private Enterprise Number of RFC 5612 (32473), as the
 * issue asks; a registered number would replace it without changing the parameters.
 */
export const SD_ID = 'tether@32473';
const BOM = '\ufeff';

/** RFC 5424 §6.3.3: `"`, `\` and `]` escaped with a backslash; control characters as spaces. */
export const escapeParam = (value: string): string => oneLine(value).replace(/["\\\]]/g, (c) => `\\${c}`);

/** A header field: printable US-ASCII without spaces, at most `max` characters, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface SyslogFormatOptions {
  /** Facility number 0-23 (default authpriv, 10). */
  facility?: number;
  /** The MSG instead of the readable sentence, without a BOM (CEF over syslog). */
  message?: string;
  /** Leave out the STRUCTURED-DATA (`-`), when the MSG carries the fields (CEF). */
  structuredData?: boolean;
}

/**
 * One record as an RFC 5424 message (no framing): PRI from the facility and the outcome's
 * severity, the record's time, HOSTNAME the node that wrote it, APP-NAME `tether`, MSGID the
 * event code, the clear fields (and the decision, when the details are open) as structured
 * data, and a readable sentence as MSG, UTF-8 with its BOM.
 */
export function formatRfc5424(entry: AuditEntryView, options: SyslogFormatOptions = {}): string {
  const pri = (options.facility ?? DEFAULT_FACILITY) * 8 + SEVERITY[levelOf(entry)];
  const { action, rule, reason } = decisionOf(entry);
  const params: [string, string | undefined][] = [
    ['index', String(entry.index)],
    ['actor', entry.actor],
    ['target', entry.target],
    ['outcome', entry.outcome],
    ['node', entry.node],
    ['action', action],
    ['rule', rule],
    ['reason', reason],
  ];
  const sd = options.structuredData === false
    ? '-'
    : `[${SD_ID}${params.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeParam(v as string)}"`).join('')}]`;
  const msg = options.message === undefined ? `${BOM}${sentenceOf(entry)}` : oneLine(options.message);
  return `<${pri}>1 ${entry.time} ${headerField(entry.node, 255)} tether - ${headerField(entry.event, 32)} ${sd} ${msg}`;
}

/** RFC 6587 §3.4.1 / RFC 5425 octet counting: `LEN SP MSG`, LEN the message's length in bytes. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
