import type { AuditEntryView } from '../chained-log.js';
import { addressOf, decisionOf, levelOf, named, oneLine, sentenceOf, type AuditLevel } from './audit-facts.js';

/** CEF severity 0-10: refusals high, changes of access or settings medium, the rest low. */
const SEVERITY: Readonly<Record<AuditLevel, number>> = { failure: 7, change: 5, info: 3 };

/** Header fields: `\` and `|` escaped; no newlines (a header is one line). */
export const escapeHeader = (value: string): string => oneLine(value).replace(/[\\|]/g, (c) => `\\${c}`);

/** Extension values: `\` and `=` escaped, CR and LF as `\r` and `\n` (CEF 25, "Character Encoding"). */
export const escapeExtension = (value: string): string =>
  value.replace(/[\\=\r\n]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : `\\${c}`));

const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

/**
 * One record as a CEF:0 event: vendor Tether, product Tether Relay, the relay's version, the
 * event code as signature id, the readable sentence as name; extensions in the standard keys
 * (rt, suser, duser, src, act, outcome, reason, dvchost), the tunnel in cs1 and the record index
 * in cn1 (the key a SIEM de-duplicates on).
 */
export function formatCef(entry: AuditEntryView, version: string): string {
  const { action, rule, reason } = decisionOf(entry);
  const address = addressOf(entry);
  const tunnel = named(entry.target, 'tunnel');
  const fields: [string, string | undefined][] = [
    ['rt', String(Date.parse(entry.time))],
    ['suser', named(entry.actor, 'user') ?? entry.actor],
    ['duser', named(entry.target, 'user')],
    ['src', address && IP.test(address) ? address.replace(/^::ffff:/, '') : undefined],
    ['act', action],
    ['outcome', entry.outcome],
    ['reason', reason],
    ['cs1Label', tunnel === undefined ? undefined : 'tunnel'],
    ['cs1', tunnel],
    ['cs2Label', rule === undefined ? undefined : 'rule'],
    ['cs2', rule],
    ['cs3Label', 'target'],
    ['cs3', entry.target],
    ['cn1Label', 'recordIndex'],
    ['cn1', String(entry.index)],
    ['dvchost', entry.node],
    ['msg', sentenceOf(entry)],
  ];
  const header = ['CEF:0', 'Tether', 'Tether Relay', version, entry.event, sentenceOf(entry), String(SEVERITY[levelOf(entry)])].map((h, i) => (i === 0 ? h : escapeHeader(h)));
  const extension = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${escapeExtension(v as string)}`).join(' ');
  return `${header.join('|')}|${extension}`;
}
