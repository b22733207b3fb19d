import type { EvidenceRecord } from './evidence-types.js';

/** The verdict of `verifyLog` on the whole log, as a report shows it. */
export interface LogCheck {
  ok: boolean;
  records: number;
  root: string | null;
  checkpointsChecked: number;
  problem?: { kind: string; index: number | null; message: string };
}

export interface CheckpointSummary {
  size: number;
  time: string;
  kid: string;
}

/** Whether the log behind the report can be trusted, checked where the report is made. */
export interface Integrity extends LogCheck {
  /** The earliest verified checkpoint that covers the period's last record (null: none does). */
  covering: CheckpointSummary | null;
  /** Records the relay showed (details opened) whose clear fields differ from the verified export, or are not in it. */
  mismatched: number[];
}

type Clear = Pick<EvidenceRecord, 'index' | 'time' | 'event' | 'actor' | 'target' | 'outcome'>;

/**
 * Indexes of the entries whose clear fields are not those of the verified export's record at
 * the same index: what binds the opened details the report counts to the log that verified.
 */
export function mismatchedEntries(entries: readonly Clear[], exported: readonly Clear[]): number[] {
  const byIndex = new Map(exported.map((r) => [r.index, r]));
  const fields = ['time', 'event', 'actor', 'target', 'outcome'] as const;
  return entries.filter((e) => {
    const r = byIndex.get(e.index);
    return !r || fields.some((f) => r[f] !== e[f]);
  }).map((e) => e.index);
}

/**
 * The integrity section: the verdict, the first checkpoint covering record `lastIndex` (only
 * checkpoints the verdict checked count: a log that failed has none), and the mismatches.
 */
export function integrityOf(verdict: LogCheck, checkpoints: readonly CheckpointSummary[], lastIndex: number | null, mismatched: number[]): Integrity {
  const checked = verdict.ok ? checkpoints.slice(0, verdict.checkpointsChecked) : [];
  const covering = lastIndex === null ? null : (checked.find((c) => c.size > lastIndex) ?? null);
  return {
    ok: verdict.ok,
    records: verdict.records,
    root: verdict.root,
    checkpointsChecked: verdict.checkpointsChecked,
    ...(verdict.problem ? { problem: verdict.problem } : {}),
    covering: covering && { size: covering.size, time: covering.time, kid: covering.kid },
    mismatched,
  };
}
