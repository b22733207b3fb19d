import { chmodSync, renameSync, rmSync } from 'node:fs';
import { exportLines, parsePublicKeys, verifyLog } from '@tether/shared/audit';
import { AuditApi, type AuditEntry } from '../core/audit-api.js';
import { computeEvidence } from '../core/compliance/evidence.js';
import type { EvidenceRecord, ReportPeriod } from '../core/compliance/evidence-types.js';
import { integrityOf, mismatchedEntries } from '../core/compliance/integrity.js';
import { buildReport, type ComplianceReport } from '../core/compliance/report.js';
import { renderHtml } from '../core/compliance/report-html.js';
import type { FrameworkId } from '../core/compliance/frameworks.js';
import { writeOut } from './audit-commands.js';
import type { ClientValues } from './flags.js';
import { info, UsageError } from './output.js';
import { relayAndToken } from './options.js';
import { renderPdf } from './report-pdf.js';
import { reportFormat, reportFramework, reportPeriod } from './report-period.js';

export interface ComplianceValues extends ClientValues {
  framework?: string;
  from?: string;
  to?: string;
  format?: string;
  out?: string;
}

/** Reads a whole byte stream as text. */
async function textOf(body: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Every record up to index `last` and time `to`, details opened, a page of 1000 at a time. */
async function openedRecords(api: AuditApi, to: string, last: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await api.entries({ to }, { after, limit: 1000 });
    for (const e of page.entries) if (e.index <= last) entries.push(e);
    if (page.next === null || page.entries.at(-1)!.index >= last) return entries;
    after = page.next;
  }
}

/**
 * Gathers a report from the relay with the admin token and checks it here: checkpoints first,
 * then the whole log (so every checkpoint is covered by what was exported), verified with the
 * public keys; then the records with details opened up to the period's end, each bound to the
 * verified export by its clear fields.
 */
export async function gatherReport(api: AuditApi, framework: FrameworkId, period: ReportPeriod, relay: string, now: () => number = Date.now): Promise<ComplianceReport> {
  const checkpoints = await api.checkpoints();
  const lines = exportLines(await textOf(await api.export()));
  const { pem } = await api.keys();
  const verdict = verifyLog(lines, { keys: parsePublicKeys(pem), checkpoints });
  const exported = lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as EvidenceRecord];
    } catch {
      return [];
    }
  });
  const last = exported.at(-1)?.index ?? -1;
  const entries = last < 0 ? [] : await openedRecords(api, period.to, last);
  const records: EvidenceRecord[] = entries.map((e) => ({ index: e.index, time: e.time, event: e.event, actor: e.actor, target: e.target, outcome: e.outcome, details: e.details }));
  const evidence = computeEvidence(records, period);
  const integrity = integrityOf(verdict, checkpoints, evidence.records.last, mismatchedEntries(records, exported));
  return buildReport(framework, evidence, integrity, { generatedAt: new Date(now()).toISOString(), relay });
}

/**
 * `tether report compliance --framework F [--from D] [--to D] [--format html|json|pdf] --out FILE`:
 * the report, written through FILE.tmp with mode 0600 (it names people and addresses).
 */
export async function complianceCommand(values: ComplianceValues): Promise<void> {
  const framework = reportFramework(values.framework);
  if (values.out === undefined) throw new UsageError('missing --out FILE: where to write the report (e.g. soc2-q4.html)');
  const out = values.out;
  const format = reportFormat(values.format, out);
  const period = reportPeriod(values, Date.now());
  const { relay, token } = relayAndToken(values);
  const report = await gatherReport(AuditApi.of(relay, token), framework, period, relay);
  if (format === 'json') writeOut(out, `${JSON.stringify(report, null, 2)}\n`, 0o600);
  else if (format === 'html') writeOut(out, renderHtml(report), 0o600);
  else {
    const temporary = `${out}.tmp`;
    try {
      rmSync(temporary, { force: true });
      await renderPdf(renderHtml(report), temporary);
      chmodSync(temporary, 0o600);
      renameSync(temporary, out);
    } catch (err) {
      rmSync(temporary, { force: true });
      if ((err as NodeJS.ErrnoException).syscall) throw new Error(`cannot write ${out}: ${(err as Error).message}; check the folder exists and that you may write there`, { cause: err });
      throw err;
    }
  }
  const gaps = report.controls.reduce((n, c) => n + c.gaps.length, 0);
  info(`${report.framework.name}: ${report.controls.length} controls, ${report.controlsWithGaps} with gaps (${gaps} in all); log ${report.integrity.ok ? 'verified intact' : `NOT intact: ${report.integrity.problem?.message ?? ''}`}; ${report.evidence.records.inPeriod} records from ${period.from} to ${period.to}; written to ${out} (${format})`);
}
