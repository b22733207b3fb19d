import type { Evidence } from './evidence-types.js';
import { findGaps, type Gap } from './gaps.js';
import { frameworkOf, type FrameworkId, type SectionId } from './frameworks.js';
import type { Integrity } from './integrity.js';

export interface ControlResult {
  id: string;
  title: string;
  asks: string;
  scope?: string;
  /** The sections of the report that hold its evidence. */
  evidence: SectionId[];
  gaps: Gap[];
}

/** A compliance report: what the JSON format writes and the HTML shows. */
export interface ComplianceReport {
  format: 'tether-compliance-report/1';
  framework: { id: FrameworkId; name: string };
  generatedAt: string;
  relay: string;
  period: Evidence['period'];
  integrity: Integrity;
  evidence: Evidence;
  controls: ControlResult[];
  /** Controls with at least one gap. */
  controlsWithGaps: number;
}

/** The report of `framework` over the evidence and the log's integrity. */
export function buildReport(framework: FrameworkId, evidence: Evidence, integrity: Integrity, context: { generatedAt: string; relay: string }): ComplianceReport {
  const catalogue = frameworkOf(framework);
  const controls = catalogue.controls.map((c) => ({
    id: c.id,
    title: c.title,
    asks: c.asks,
    ...(c.scope ? { scope: c.scope } : {}),
    evidence: c.sections,
    gaps: findGaps(c.gaps, evidence, integrity),
  }));
  return {
    format: 'tether-compliance-report/1',
    framework: { id: catalogue.id, name: catalogue.name },
    generatedAt: context.generatedAt,
    relay: context.relay,
    period: evidence.period,
    integrity,
    evidence,
    controls,
    controlsWithGaps: controls.filter((c) => c.gaps.length > 0).length,
  };
}
