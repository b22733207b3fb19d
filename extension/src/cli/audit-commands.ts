import { chmodSync, createWriteStream, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exportLines, parsePublicKeys, verifyLog, type LogVerdict } from '@tether/shared/audit';
import { AuditApi } from '../core/audit-api.js';
import { auditFilter, auditTable, exportFormat, intactLine, parseTime, problemLine, VERIFY_EXIT, verdictJson, type AuditFilterValues } from './audit-format.js';
import { parseCount } from './duration.js';
import type { ClientValues } from './flags.js';
import { info, UsageError } from './output.js';
import { relayAndToken } from './options.js';
import { printListing } from './sharing-commands.js';

function api(values: ClientValues): AuditApi {
  const { relay, token } = relayAndToken(values);
  return AuditApi.of(relay, token);
}

export interface OutValues extends ClientValues {
  out?: string;
}

/**
 * Writes `text` to `file` through `file.tmp` (renamed when whole, so a reader never sees half a
 * file), or to stdout without --out.
 */
export function writeOut(file: string | undefined, text: string, mode = 0o644): void {
  if (file === undefined) {
    process.stdout.write(text);
    return;
  }
  const temporary = `${file}.tmp`;
  try {
    writeFileSync(temporary, text, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, file);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw new Error(`cannot write ${file}: ${reasonOf(err)}; check the folder exists and that you may write there`, { cause: err });
  }
}

/** An errno in words. */
function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return code ?? (err as Error).message;
  }
}

// --- export -------------------------------------------------------------------------------------

export interface ExportValues extends OutValues, AuditFilterValues {
  format?: string;
}

/** Counts the records going by (one per line) and notes the first and last index. */
class RecordCounter extends Transform {
  count = 0;
  first: number | null = null;
  last: number | null = null;
  private partial = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.see(line);
    done(null, chunk);
  }

  override _flush(done: (err?: Error | null) => void): void {
    this.see(this.partial);
    done();
  }

  private see(line: string): void {
    if (line.length === 0) return;
    this.count++;
    const index = recordIndex(line);
    if (index === undefined) return;
    this.first ??= index;
    this.last = index;
  }
}

/** The record index an exported line carries: JSONL `index`, HEC `event.event.sequence`, syslog `index="N"`, CEF `cn1=N`. */
function recordIndex(line: string): number | undefined {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { index?: unknown; event?: { event?: { sequence?: unknown } } };
      const index = parsed.index ?? parsed.event?.event?.sequence;
      return typeof index === 'number' ? index : undefined;
    } catch {
      return undefined;
    }
  }
  const match = / index="(\d+)"| cn1=(\d+)/.exec(line);
  return match ? Number(match[1] ?? match[2]) : undefined;
}

/**
 * `tether audit export [filters] [--out FILE]`: the stored records, one per line, streamed to FILE
 * (mode 0600, through FILE.tmp) or stdout; how many and which on stderr.
 */
export async function exportCommand(values: ExportValues): Promise<void> {
  const format = exportFormat(values.format);
  const filter = auditFilter(values);
  const body = await api(values).export(filter, format);
  const counter = new RecordCounter();
  const source = Readable.fromWeb(body);
  if (values.out === undefined) {
    try {
      await pipeline(source, counter, process.stdout as Writable, { end: false });
    } catch (err) {
      // A reader that went away (`tether audit export | head`) is not an error.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw err;
    }
  } else {
    const temporary = `${values.out}.tmp`;
    try {
      rmSync(temporary, { force: true });
      await pipeline(source, counter, createWriteStream(temporary, { mode: 0o600, flags: 'wx' }));
      chmodSync(temporary, 0o600);
      renameSync(temporary, values.out);
    } catch (err) {
      rmSync(temporary, { force: true });
      if ((err as NodeJS.ErrnoException).syscall) throw new Error(`cannot write ${values.out}: ${reasonOf(err)}; check the folder exists and that you may write there`, { cause: err });
      throw err;
    }
  }
  const range = counter.count === 0 ? '' : ` (${counter.first ?? '?'}..${counter.last ?? '?'})`;
  const where = values.out === undefined ? '' : ` to ${values.out}`;
  info(counter.count === 0 ? `No records match: nothing exported${where ? `, ${values.out} is empty` : ''}` : `Exported ${counter.count} record${counter.count === 1 ? '' : 's'}${range}${where}`);
}

// --- keys and checkpoints -----------------------------------------------------------------------

/** `tether audit key [--out FILE]`: the relay's public keys as PEM, oldest first. */
export async function keyCommand(values: OutValues): Promise<void> {
  const { pem, keys } = await api(values).keys();
  writeOut(values.out, pem.endsWith('\n') ? pem : `${pem}\n`);
  const active = keys.find((k) => k.active)?.kid;
  info(`${keys.length} public key${keys.length === 1 ? '' : 's'}${active ? `, active ${active}` : ''}${values.out ? `, written to ${values.out}` : ''}: give them to tether audit verify --key`);
}

/** `tether audit checkpoint [--out FILE]`: a checkpoint signed now, as one line of JSON. */
export async function checkpointCommand(values: OutValues): Promise<void> {
  const checkpoint = await api(values).checkpoint();
  writeOut(values.out, `${JSON.stringify(checkpoint)}\n`);
  info(`Checkpoint of ${checkpoint.size} record${checkpoint.size === 1 ? '' : 's'} signed ${checkpoint.time} by key ${checkpoint.kid}${values.out ? `, written to ${values.out}` : ''}`);
}

/** `tether audit prune --before T`: archive and prune the records older than T. */
export async function pruneCommand(values: ClientValues & { before?: string }): Promise<void> {
  if (values.before === undefined) throw new UsageError('tether audit prune needs --before TIME (records older than it are archived, then pruned)');
  const answer = await api(values).prune(parseTime(values.before, '--before'));
  if (answer.pruned === 0) {
    info(`Nothing to prune: no record before ${values.before} is still stored`);
    return;
  }
  process.stdout.write(`${answer.from}\t${answer.to}\t${answer.archive ?? '-'}\n`);
  info(`Pruned records ${answer.from}..${answer.to}${answer.archive ? `, archived in the relay's archive folder as ${answer.archive}` : ''}; a prune checkpoint keeps the rest verifiable (tether audit checkpoints)`);
}

/** `tether audit checkpoints [--out FILE]`: every stored checkpoint, oldest first, as a JSON array. */
export async function checkpointsCommand(values: OutValues): Promise<void> {
  const checkpoints = await api(values).checkpoints();
  writeOut(values.out, `${JSON.stringify(checkpoints, null, 2)}\n`);
  info(checkpoints.length === 0
    ? "No checkpoints yet: sign one with 'tether audit checkpoint'"
    : `${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'}, of ${checkpoints[0].size} to ${checkpoints[checkpoints.length - 1].size} records${values.out ? `, written to ${values.out}` : ''}`);
}

// --- verify (offline) ---------------------------------------------------------------------------

export interface VerifyValues {
  key?: string;
  checkpoint?: string;
  json?: boolean;
}

/** A file's text, or a usage error (exit 2: could not verify) saying which file and what to do. */
function readInput(file: string, what: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${reasonOf(err)}; ${hint}`);
  }
}

/** The public keys in a PEM file, or a usage error. */
export function readKeys(file: string): ReturnType<typeof parsePublicKeys> {
  const hint = "give the file 'tether audit key --out FILE' wrote";
  const text = readInput(file, 'the key file', hint);
  let keys: ReturnType<typeof parsePublicKeys>;
  try {
    keys = parsePublicKeys(text);
  } catch (err) {
    throw new UsageError(`the key file ${file} holds a key that cannot be used (${(err as Error).message}); ${hint}`);
  }
  if (keys.size === 0) throw new UsageError(`the key file ${file} holds no PEM public key (-----BEGIN PUBLIC KEY-----); ${hint}`);
  return keys;
}

/** The checkpoints of a file: one JSON object, a JSON array of them, or one per line. */
export function readCheckpoints(file: string): unknown[] {
  const hint = "give the output of 'tether audit checkpoint' or 'tether audit checkpoints'";
  const text = readInput(file, 'the checkpoint file', hint);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = exportLines(text).map((line) => JSON.parse(line) as unknown);
    } catch {
      throw new UsageError(`the checkpoint file ${file} is not JSON; ${hint}`);
    }
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new UsageError(`the checkpoint file ${file} holds no checkpoint; ${hint}`);
  return list;
}

/** Verifies an export offline: the verdict, and how the command reports it. */
export function verifyFile(file: string, values: VerifyValues): LogVerdict {
  if (values.checkpoint !== undefined && values.key === undefined) throw new UsageError('--checkpoint needs --key: the public keys its signature is checked with (tether audit key --out FILE)');
  const keys = values.key === undefined ? undefined : readKeys(values.key);
  const checkpoints = values.checkpoint === undefined ? undefined : readCheckpoints(values.checkpoint);
  const text = readInput(file, 'the export', "give a file written by 'tether audit export --out FILE'");
  return verifyLog(exportLines(text), { keys, checkpoints });
}

/**
 * `tether audit verify FILE [--key PEM] [--checkpoint F] [--json]`, offline: exit 0 and the
 * summary on stdout when intact, exit 1 and what is wrong on stderr when not, exit 2 when it
 * could not verify (a usage error).
 */
export function verifyCommand(file: string, values: VerifyValues): number {
  const verdict = verifyFile(file, values);
  if (values.json) process.stdout.write(`${verdictJson(verdict)}\n`);
  if (!verdict.ok) {
    process.stderr.write(`${problemLine(verdict)}\n`);
    return VERIFY_EXIT.notIntact;
  }
  if (!values.json) process.stdout.write(`${intactLine(verdict)}\n`);
  if (values.checkpoint === undefined && !values.json) info('No checkpoint given: records removed from the end cannot be noticed without one (--key and --checkpoint)');
  return VERIFY_EXIT.intact;
}

// --- rotate-keys (offline) ----------------------------------------------------------------------

/** `tether audit rotate-keys --keys FILE`: a new active signing key and details key; the old ones stay. */
export async function rotateKeysCommand(values: { keys?: string }): Promise<void> {
  if (values.keys === undefined) throw new UsageError("missing --keys FILE: the relay's audit keys file (DIR/audit-keys.json by default)");
  const { loadAuditKeyring, rotateAuditKeyring, saveAuditKeyring, activeSigningKey, activeDetailsKey } = await import('@tether/relay');
  const ring = rotateAuditKeyring(loadAuditKeyring(values.keys));
  saveAuditKeyring(values.keys, ring);
  const signing = activeSigningKey(ring);
  const details = activeDetailsKey(ring);
  process.stdout.write(`signing\t${signing.kid}\ndetails\t${details.kid}\n`);
  info(`Added signing key ${signing.kid} and details key ${details.kid} to ${values.keys}; the ${ring.signing.length - 1} older signing and ${ring.details.length - 1} older details keys stay, so old checkpoints verify and old records stay readable.`);
  info("Restart the relay(s) using this file to sign and seal with the new keys (every node of a cluster needs the new file); then 'tether audit key' prints both public keys.");
}

// --- log ----------------------------------------------------------------------------------------

export interface LogValues extends ClientValues, AuditFilterValues {
  after?: string;
  limit?: string;
  json?: boolean;
}

/** `tether audit log [filters] [--after N] [--limit N] [--json]`: one page of records, oldest first. */
export async function logCommand(values: LogValues): Promise<void> {
  const filter = auditFilter(values);
  const after = values.after === undefined ? undefined : parseCount(values.after, '--after', 0, 999_999_999);
  const limit = values.limit === undefined ? undefined : parseCount(values.limit, '--limit', 1, 1000);
  const page = await api(values).entries(filter, { after, limit });
  printListing(values, page, auditTable(page.entries), after === undefined ? 'No records match' : `No records match after record ${after}`);
  if (!values.json && page.next !== null) info(`More records: tether audit log --after ${page.next} (with the same filters)`);
}
