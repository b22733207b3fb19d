import type { KeyObject } from 'node:crypto';
import { encodeRecord, GENESIS_HASH, recordHash, recordShapeProblem, type AuditRecord } from './audit-record.js';
import { checkpointShapeProblem, checkpointSignatureProblem, type Checkpoint } from './checkpoint.js';
import { leafHash, MerkleFrontier } from './merkle.js';

/** What is wrong with a log, named the way `tether audit verify` reports it. */
export type LogProblemKind =
  | 'malformed' // not a record, or not the bytes the relay wrote (canonical JSON)
  | 'hash' // the record's content does not match its own hash: it was changed
  | 'chain' // the record does not name the hash of the one before it
  | 'gap' // records are missing before this one
  | 'order' // a record out of place: reordered, duplicated or inserted
  | 'truncated' // a checkpoint covers more records than the log has
  | 'root' // the records do not hash to a checkpoint's root
  | 'signature' // a checkpoint's signature is wrong
  | 'unknown-key' // a checkpoint signed by a key not given
  | 'checkpoint'; // checkpoints malformed, out of order, or of another log

export interface LogProblem {
  kind: LogProblemKind;
  /** The first record that is bad, when one can be named. */
  index: number | null;
  message: string;
}

export interface LogVerdict {
  ok: boolean;
  /** Index of the first record in the file (0 for a whole log). */
  first: number;
  /** Number of records read. */
  records: number;
  /** Hex Merkle root of the records read, when the file starts at index 0. */
  root: string | null;
  /** Checkpoints whose signature and root were checked. */
  checkpointsChecked: number;
  problem?: LogProblem;
}

export interface VerifyOptions {
  /** Public keys by id (parsePublicKeys); needed to check checkpoints. */
  keys?: ReadonlyMap<string, KeyObject>;
  /** Signed checkpoints, oldest first. */
  checkpoints?: readonly unknown[];
}

/**
 * Verifies an exported log (one stored record per line) offline: every record is canonical and
 * matches its own hash, indexes run on without gaps, each record chains to the one before, and
 * each checkpoint is signed by a given key and matches the Merkle root of the records it
 * covers. Stops at the first problem, naming the first bad record when it can.
 */
export function verifyLog(lines: readonly string[], options: VerifyOptions = {}): LogVerdict {
  const checkpoints = options.checkpoints ?? [];
  const records: AuditRecord[] = [];
  const leaves: Buffer[] = [];
  let first = 0;
  let checkpointsChecked = 0;
  // A log whose first records were pruned starts where a prune checkpoint says: its frontier
  // continues the tree and its prev the chain.
  const start = pruneStart(lines, checkpoints);
  if (start) first = start.size;
  const tree = start ? MerkleFrontier.from(start.size, start.frontier.map((h) => Buffer.from(h, 'hex'))) : new MerkleFrontier();
  if (start && tree.root().toString('hex') !== start.root) {
    return { ok: false, first, records: 0, root: null, checkpointsChecked, problem: { kind: 'checkpoint', index: null, message: `the prune checkpoint of size ${start.size} does not hold together: its frontier does not hash to its root` } };
  }
  const verdict = (problem?: LogProblem): LogVerdict => {
    let root: string | null = null;
    if (problem === undefined && (first === 0 || start)) {
      while (tree.size < first + leaves.length) tree.append(leaves[tree.size - first]);
      root = tree.root().toString('hex');
    }
    return { ok: problem === undefined, first, records: records.length, root, checkpointsChecked, ...(problem ? { problem } : {}) };
  };

  for (let p = 0; p < lines.length; p++) {
    const line = lines[p];
    const expected = first + p;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return verdict({ kind: 'malformed', index: expected, message: `record ${expected} is not valid JSON` });
    }
    const shape = recordShapeProblem(parsed);
    if (shape) return verdict({ kind: 'malformed', index: expected, message: `record ${expected} is malformed: ${shape}` });
    const record = parsed as AuditRecord;
    // A file may start later (an export of a time range), unless checkpoints say it is the whole log.
    if (p === 0 && checkpoints.length === 0) first = record.index;
    const at = first + p;
    if (encodeRecord(record) !== line) return verdict({ kind: 'malformed', index: at, message: `record ${at} is not in the form the relay wrote (not canonical JSON): it was edited` });
    if (recordHash(record) !== record.hash) return verdict({ kind: 'hash', index: at, message: `record ${at} does not match its hash: its content was changed` });
    if (record.index > at && !laterLineHasIndex(lines, p + 1, at)) return verdict({ kind: 'gap', index: at, message: `record ${at} is missing (the next record found is ${record.index})` });
    if (record.index !== at) return verdict({ kind: 'order', index: at, message: `record ${at} is out of place: found record ${record.index} there (reordered, duplicated or inserted)` });
    const prev = p === 0 ? (at === 0 ? GENESIS_HASH : (start?.prev ?? record.prev)) : records[p - 1].hash;
    if (record.prev !== prev) return verdict({ kind: 'chain', index: at, message: `record ${at} does not follow record ${at - 1}: its prev hash differs (a record was replaced, inserted or rewritten)` });
    records.push(record);
    leaves.push(leafHash(Buffer.from(line, 'utf8')));
  }

  if (checkpoints.length > 0 && !options.keys) {
    return verdict({ kind: 'checkpoint', index: null, message: 'checkpoints need the public key to be checked (--key)' });
  }
  let before: Checkpoint | undefined;
  let verifiedSize = first;
  for (const [n, value] of checkpoints.entries()) {
    const shape = checkpointShapeProblem(value);
    if (shape) return verdict({ kind: 'checkpoint', index: null, message: `checkpoint ${n + 1} is malformed: ${shape}` });
    const c = value as Checkpoint;
    const signature = checkpointSignatureProblem(c, options.keys!);
    if (signature) return verdict({ kind: signature.startsWith('signed by an unknown') ? 'unknown-key' : 'signature', index: null, message: `checkpoint ${n + 1} (size ${c.size}): ${signature}` });
    if (before && c.log !== before.log) return verdict({ kind: 'checkpoint', index: null, message: `checkpoint ${n + 1} (size ${c.size}) is of another log` });
    // A prune checkpoint is signed when records are pruned, after bigger checkpoints: it is out of the order check.
    const isPrune = c.frontier !== undefined;
    if (!isPrune && before && (c.size < before.size || c.time < before.time)) {
      return verdict({ kind: 'checkpoint', index: null, message: `checkpoint ${n + 1} (size ${c.size}) is older than the one before it (checkpoints out of order)` });
    }
    if (!isPrune || !before) before = c;
    // Checkpoints of the pruned part were checked when it was whole (its archive verifies against them).
    if (c.size < first || (start && c === start)) continue;
    const end = first + records.length;
    if (c.size > end) {
      return verdict({ kind: 'truncated', index: end, message: `the log ends after record ${end - 1} but a checkpoint signed ${c.time} covers ${c.size} records: records ${end}..${c.size - 1} were removed` });
    }
    while (tree.size < c.size) tree.append(leaves[tree.size - first]);
    if (tree.root().toString('hex') !== c.root) {
      return verdict({ kind: 'root', index: verifiedSize, message: `records ${verifiedSize}..${c.size - 1} do not match the checkpoint signed ${c.time}: a record from ${verifiedSize} on was changed and the chain rewritten after it` });
    }
    verifiedSize = c.size;
    checkpointsChecked++;
  }
  return verdict();
}

/** The prune checkpoint a file starting after record 0 begins at, when the checkpoints hold one. */
function pruneStart(lines: readonly string[], checkpoints: readonly unknown[]): (Checkpoint & { prev: string; frontier: string[] }) | undefined {
  if (checkpoints.length === 0 || lines.length === 0) return undefined;
  let index: unknown;
  try {
    index = (JSON.parse(lines[0]) as { index?: unknown }).index;
  } catch {
    return undefined;
  }
  if (typeof index !== 'number' || index === 0) return undefined;
  const found = checkpoints.find((c) => checkpointShapeProblem(c) === undefined && (c as Checkpoint).size === index && (c as Checkpoint).frontier !== undefined);
  return found as (Checkpoint & { prev: string; frontier: string[] }) | undefined;
}

/** Whether a line from `from` on holds record `index`: then a record ahead of its place was moved, not a gap. */
function laterLineHasIndex(lines: readonly string[], from: number, index: number): boolean {
  for (let p = from; p < lines.length; p++) {
    try {
      if ((JSON.parse(lines[p]) as { index?: unknown }).index === index) return true;
    } catch {
      // not a record: it is reported when its turn comes
    }
  }
  return false;
}

/** Splits a JSONL export into record lines (blank lines, such as a final newline, ignored). */
export function exportLines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}
