import { createError, ErrorCode } from '@tether/shared';
import type { AuditLogStore } from '../../ports/audit-log.js';
import type { Metrics } from '../../ports/metrics.js';
import type { ChainedAuditLog } from '../chained-log.js';
import { formatCef } from './cef.js';
import { formatHec } from './hec.js';
import { HecTransport } from './hec-transport.js';
import { formatRfc5424, octetFrame } from './rfc5424.js';
import { SiemForwarder } from './siem-forwarder.js';
import { SyslogTransport, type SyslogTarget } from './syslog-transport.js';

/** A SIEM the audit log is forwarded to (docs/audit.md, "SIEM export"). `ca` is PEM text. */
export type AuditSinkConfig =
  | { kind: 'syslog'; url: string; format?: 'rfc5424' | 'cef'; ca?: string; facility?: number }
  | { kind: 'hec'; url: string; token: string; ca?: string; index?: string };

export const SYSLOG_FORMATS = ['rfc5424', 'cef'] as const;

/** `tcp://HOST:PORT` or `tls://HOST:PORT`, checked; INVALID_CONFIG with what to give otherwise. */
export function parseSyslogUrl(url: string): Omit<SyslogTarget, 'ca'> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const protocol = parsed?.protocol.slice(0, -1);
  if (!parsed || (protocol !== 'tcp' && protocol !== 'tls') || parsed.hostname === '' || parsed.port === '' || (parsed.pathname !== '' && parsed.pathname !== '/')) {
    throw createError(ErrorCode.INVALID_CONFIG, `--audit-syslog takes tcp://HOST:PORT or tls://HOST:PORT (syslog over TCP, or over TLS per RFC 5425), got ${JSON.stringify(url)}`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol, host, port: Number(parsed.port) };
}

/** An http(s) URL of a Splunk HTTP Event Collector, checked. */
export function checkHecUrl(url: string, token: string | undefined): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username !== '' || parsed.password !== '') {
    throw createError(ErrorCode.INVALID_CONFIG, `--audit-hec takes the collector's http(s) URL, e.g. https://splunk.example:8088 (no credentials in it: the token goes in TETHER_AUDIT_HEC_TOKEN), got ${JSON.stringify(url)}`);
  }
  if (!token) throw createError(ErrorCode.INVALID_CONFIG, '--audit-hec needs the collector\'s token: set TETHER_AUDIT_HEC_TOKEN (or --audit-hec-token, which shows in ps)');
}

/** The name of a sink's cursor, the label of its lag, and how /readyz names it. */
export const sinkName = (sink: AuditSinkConfig): string => `${sink.kind}:${sink.url}`;

/** Checks every sink's settings before anything starts. */
export function checkSinks(sinks: readonly AuditSinkConfig[]): void {
  for (const sink of sinks) {
    if (sink.kind === 'syslog') {
      parseSyslogUrl(sink.url);
      if (sink.format !== undefined && !(SYSLOG_FORMATS as readonly string[]).includes(sink.format)) {
        throw createError(ErrorCode.INVALID_CONFIG, `--audit-syslog-format must be rfc5424 or cef, got ${JSON.stringify(sink.format)}`);
      }
    } else {
      checkHecUrl(sink.url, sink.token);
    }
  }
}

export interface SiemContext {
  log: ChainedAuditLog;
  store: AuditLogStore;
  metrics: Metrics;
  /** The relay's version, in CEF headers. */
  version: string;
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  pollMs?: number;
  /** In a cluster: forward under a lease held as this node id (one node per sink forwards). */
  leaseHolder?: string;
}

/** One forwarder per sink, not started. */
export function buildForwarders(sinks: readonly AuditSinkConfig[], context: SiemContext): SiemForwarder[] {
  checkSinks(sinks);
  const lagGauge = context.metrics.gauge({ name: 'tether_audit_sink_lag_records', help: 'Audit records not yet acknowledged by a SIEM sink', labelNames: ['sink'] });
  return sinks.map((sink) => {
    const lease = context.leaseHolder === undefined ? undefined : { holder: context.leaseHolder };
    const common = { name: sinkName(sink), log: context.log, store: context.store, lagGauge, logger: context.logger, pollMs: context.pollMs, lease };
    if (sink.kind === 'hec') {
      return new SiemForwarder({
        ...common,
        transport: new HecTransport({ url: sink.url, token: sink.token, ca: sink.ca }),
        confirmMs: 0,
        format: (entry) => Buffer.from(JSON.stringify(formatHec(entry, { index: sink.index })), 'utf8'),
      });
    }
    const target = { ...parseSyslogUrl(sink.url), ca: sink.ca };
    const cef = sink.format === 'cef';
    return new SiemForwarder({
      ...common,
      transport: new SyslogTransport(target),
      // CEF travels as the MSG of an RFC 5424 message (its fields are in the CEF extensions).
      format: (entry) => octetFrame(cef ? formatRfc5424(entry, { facility: sink.facility, message: formatCef(entry, context.version), structuredData: false }) : formatRfc5424(entry, { facility: sink.facility })),
    });
  });
}
