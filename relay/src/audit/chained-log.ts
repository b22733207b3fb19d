import {
  consistencyProof,
  encodeRecord,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  rootFromLeafHashes,
  sealRecord,
  signCheckpoint,
  type AuditRecord,
  type Checkpoint,
} from '@tether/shared/audit';
import type { AuditHead, AuditFilter, AuditLogEntry, AuditLogStore } from '../ports/audit-log.js';
import type { AuditEvent, AuditSink } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import { activeSigningKey, publicKeysPem, type AuditKeyring } from './audit-keys.js';
import { openDetails, sealDetails, type PlainDetails } from './details-cipher.js';
import { AuditEventCode } from './event-codes.js';

/** Events whose outcome is a refusal. */
const FAILURES: ReadonlySet<string> = new Set([AuditEventCode.ACCESS_DENIED, AuditEventCode.AUTH_FAILED, AuditEventCode.INVITE_REFUSED, AuditEventCode.LIMIT_REFUSED]);

/** How the log names who acted: `user:NAME`, `admin`, `node:ID` (a peer node) or `anonymous`. */
export function actorOf(subject: AuditEvent['subject']): string {
  if (!subject) return 'anonymous';
  if (subject.admin && subject.id === 0) return 'admin';
  if (subject.id < 0) return subject.name;
  return `user:${subject.name}`;
}

/** A record as the API shows it: the clear fields, and the details opened when the relay holds their key. */
export interface AuditEntryView {
  index: number;
  time: string;
  event: string;
  actor: string;
  target: string;
  outcome: string;
  node: string;
  /** null when the details key is not on this relay (a key removed from the ring). */
  details: PlainDetails | null;
}

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface ChainedAuditLogOptions {
  store: AuditLogStore;
  keys: AuditKeyring;
  clock: Clock;
  nodeId: string;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Signs a checkpoint this often when records were added (default 60 s; 0: only on demand and at close). */
  checkpointIntervalMs?: number;
  /**
   * Retention: where records are written before they are pruned (resolves to what to call the
   * archive, e.g. its file name). Without it records are pruned without an archive.
   */
  archive?: (from: number, to: number, lines: AsyncIterable<string>) => Promise<string>;
  /** Retention: records older than this are archived and pruned, checked hourly (and a minute after start). */
  retentionMs?: number;
  /** Records per append (default 256). */
  batchSize?: number;
  /**
   * How long the writer gathers events before it appends them (default 10 ms; 0: only the events
   * of the same tick). One append of many records costs far less than many appends of one (see
   * docs/audit.md). A full batch, `flush`, `settle` (fail-closed) and `close` end the wait at once.
   */
  gatherMs?: number;
  /** Records held while the store cannot be written; beyond it new events are dropped and counted (default 100,000). */
  maxQueued?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The default of `gatherMs`. */
export const AUDIT_GATHER_MS = 10;

/**
 * The audit sink that proves itself (docs/audit.md): each event becomes a record chained to the
 * one before by hash, its details sealed with AES-256-GCM, appended to the store's one ordered
 * log with compare-and-append (so every node of a cluster writes the same chain), and covered
 * by Ed25519-signed Merkle checkpoints written at an interval and at close. `record` never
 * blocks: events queue and are written in batches; a store that fails is retried with backoff.
 */
export class ChainedAuditLog implements AuditSink {
  private readonly queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private head: AuditHead | undefined;
  private readonly tree = new MerkleFrontier();
  private lastCheckpointSize = -1;
  private timer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** At close: a write that fails is given up on instead of retried. */
  private closing = false;
  private failing = false;
  /** Events dropped because the queue was full while the store could not be written. */
  dropped = 0;
  /** Ends the writer's gathering wait early (set while it waits). */
  private gathered: (() => void) | undefined;
  /** Told the new size after each append of this node (SIEM forwarders wake on it). */
  private readonly appendListeners = new Set<(size: number) => void>();

  constructor(private readonly options: ChainedAuditLogOptions) {
    const interval = options.checkpointIntervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.checkpointIfGrown().catch((err: unknown) => options.log.warn({ err: (err as Error).message }, 'audit checkpoint not written; retried at the next interval'));
      }, interval);
      this.timer.unref();
    }
    const retention = options.retentionMs;
    if (retention !== undefined && retention > 0) {
      const self = { id: -2, name: `node:${options.nodeId}`, admin: false };
      const run = (): void => {
        this.prune(new Date(options.clock.now() - retention).toISOString(), self).catch((err: unknown) => options.log.warn({ err: (err as Error).message }, 'audit retention: nothing pruned this time; retried in an hour'));
      };
      this.retentionTimer = setTimeout(() => {
        run();
        this.retentionTimer = setInterval(run, 3_600_000);
        this.retentionTimer.unref();
      }, 60_000);
      this.retentionTimer.unref();
    }
  }

  /**
   * Calls `listener` with the log's size after every batch this node appends; returns the
   * function that stops it. Records of other nodes are not seen here: a reader polls for those.
   */
  onAppend(listener: (size: number) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** False from a failed write until the next one succeeds, and once closing. */
  get writable(): boolean {
    return !this.failing && !this.closing;
  }

  /**
   * Waits (up to `timeoutMs`) for what is queued to be written; true when it was and the log is
   * writable. What fail-closed asks before it lets a request act.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    if (!this.writing) return this.writable;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([this.flush().then(() => true), timedOut]);
    clearTimeout(timer);
    return done && this.writable;
  }

  /** Records waiting to be written (the lag a sink reports). */
  get pending(): number {
    return this.queue.length;
  }

  record(event: AuditEvent): void {
    this.append(event).catch(() => undefined);
  }

  /** Queues the event; resolves once its record is in the store (what fail-closed waits on). */
  append(event: AuditEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    if (this.queue.length >= (this.options.maxQueued ?? 100_000)) {
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.options.log.error({ dropped: this.dropped }, 'audit queue full while the store cannot be written: events dropped');
      return Promise.reject(new Error('the audit queue is full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.kick();
      if (this.queue.length >= this.batchSize) this.gathered?.();
    });
  }

  /**
   * Starts the writer unless it runs. An event queued by code that ran when the writer resolved
   * the batch before it (after the writer's last look at the queue) starts it again as it ends.
   */
  private kick(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 256;
  }

  /** Resolves when everything queued so far is written (or given up on at close). */
  async flush(): Promise<void> {
    while (this.writing) {
      this.gathered?.();
      await this.writing;
    }
  }

  /**
   * Lets events join the batch: for `gatherMs`, or until the batch is full or a flush asks for
   * it; only to the end of the tick when `gatherMs` is 0 or the log is closing.
   */
  private gather(): Promise<void> {
    const ms = this.options.gatherMs ?? AUDIT_GATHER_MS;
    if (ms <= 0 || this.closing || this.queue.length >= this.batchSize) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.gathered = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.gathered = done;
    });
  }

  private async drain(): Promise<void> {
    let backoff = 100;
    await this.gather();
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.write(batch.map((p) => p.event));
        this.queue.splice(0, batch.length);
        for (const p of batch) p.resolve();
        if (this.failing) this.options.log.info({ pending: this.queue.length }, 'audit log writable again');
        this.failing = false;
        backoff = 100;
        // SQLite appends synchronously: between batches, let the event loop serve everyone else.
        if (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        if (!this.failing) this.options.log.error({ err: (err as Error).message, pending: this.queue.length }, 'audit records cannot be written; retrying');
        this.failing = true;
        if (this.closing) {
          for (const p of this.queue.splice(0)) p.reject(err as Error);
          return;
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /** Appends the events as records after the current head, rereading the head when another node got there first. */
  private async write(events: readonly AuditEvent[]): Promise<void> {
    for (;;) {
      const head = this.head ?? (await this.options.store.head());
      const entries = this.build(events, head);
      if (await this.options.store.append(head, entries)) {
        const last = entries[entries.length - 1];
        this.head = { size: last.index + 1, hash: last.hash };
        for (const listener of this.appendListeners) listener(this.head.size);
        return;
      }
      this.head = undefined;
    }
  }

  private build(events: readonly AuditEvent[], head: AuditHead): AuditLogEntry[] {
    let prev = head.hash;
    return events.map((event, i) => {
      const index = head.size + i;
      const details: Record<string, unknown> = { action: event.action };
      if (event.subject) details.subject = { id: event.subject.id, admin: event.subject.admin };
      if (event.rule !== undefined) details.rule = event.rule;
      if (event.reason !== undefined) details.reason = event.reason;
      if (event.detail !== undefined) details.detail = event.detail;
      const record: AuditRecord = sealRecord({
        v: 1,
        index,
        time: event.at,
        event: event.code,
        actor: actorOf(event.subject),
        target: event.resource,
        outcome: event.outcome ?? (FAILURES.has(event.code) ? 'failure' : 'success'),
        node: this.options.nodeId,
        details: sealDetails(details, index, this.options.keys),
        prev,
      });
      prev = record.hash;
      const line = encodeRecord(record);
      return { index, line, leaf: leafHash(Buffer.from(line, 'utf8')), hash: record.hash, time: record.time, event: record.event, actor: record.actor, target: record.target, outcome: record.outcome };
    });
  }

  /** The tree brought up to the store's head (appending only the leaves it lacks). */
  private async catchUp(): Promise<number> {
    const { size } = await this.options.store.head();
    for (let from = this.tree.size; from < size; from += 10_000) {
      for (const leaf of await this.options.store.leaves(from, Math.min(size, from + 10_000))) this.tree.append(leaf);
    }
    return size;
  }

  /** Signs a checkpoint of the log as it stands once what is queued is written, and stores it. */
  async checkpoint(): Promise<Checkpoint> {
    await this.flush();
    const size = await this.catchUp();
    const key = activeSigningKey(this.options.keys);
    const checkpoint = signCheckpoint(
      { v: 1, log: this.options.keys.logId, size, root: this.tree.root().toString('hex'), time: new Date(this.options.clock.now()).toISOString(), kid: key.kid },
      key.privateKey,
    );
    await this.options.store.addCheckpoint(checkpoint);
    this.lastCheckpointSize = size;
    return checkpoint;
  }

  private async checkpointIfGrown(): Promise<void> {
    const { size } = await this.options.store.head();
    if (size !== this.lastCheckpointSize && size > 0) await this.checkpoint();
  }

  /**
   * Retention: archives and prunes every record older than `cutoff` (ISO time), up to the first
   * record at or after it. First a prune checkpoint is signed at that size, carrying the hash of
   * the last pruned record and the tree's frontier, so what remains verifies on its own as the
   * same chain and tree; then the records' content is dropped (their leaf hashes stay), and an
   * `audit.pruned` record says what was pruned, by whom, and where it was archived.
   */
  async prune(cutoff: string, by: AuditEvent['subject']): Promise<{ from: number; to: number; archive: string | undefined; checkpoint: Checkpoint } | undefined> {
    await this.flush();
    const store = this.options.store;
    const from = await store.prunedBefore();
    const { size } = await store.head();
    const kept = await store.query({ from: cutoff }, from - 1, 1);
    const to = kept.length > 0 ? (JSON.parse(kept[0]) as AuditRecord).index : size;
    if (to <= from) return undefined;
    const archive = this.options.archive ? await this.options.archive(from, to, this.lines(from, to)) : undefined;
    const frontier = new MerkleFrontier();
    for (let at = 0; at < to; at += 10_000) for (const leaf of await store.leaves(at, Math.min(to, at + 10_000))) frontier.append(leaf);
    const [last] = await store.read(to - 1, to);
    const key = activeSigningKey(this.options.keys);
    const checkpoint = signCheckpoint(
      {
        v: 1,
        log: this.options.keys.logId,
        size: to,
        root: frontier.root().toString('hex'),
        time: new Date(this.options.clock.now()).toISOString(),
        kid: key.kid,
        prev: (JSON.parse(last) as AuditRecord).hash,
        frontier: frontier.nodes().map((h) => h.toString('hex')),
      },
      key.privateKey,
    );
    await store.addCheckpoint(checkpoint);
    await store.prune(to);
    await this.append({
      code: AuditEventCode.AUDIT_PRUNED,
      at: new Date(this.options.clock.now()).toISOString(),
      subject: by,
      action: 'audit.prune',
      resource: 'relay',
      reason: `records older than ${cutoff}`,
      detail: { from, to: to - 1, root: checkpoint.root, ...(archive ? { archive } : {}) },
    });
    this.options.log.info({ from, to: to - 1, archive }, 'audit records pruned');
    return { from, to, archive, checkpoint };
  }

  /** Whether pruned records are archived first. */
  get archives(): boolean {
    return this.options.archive !== undefined;
  }

  /** The first index still stored (records before it were pruned). */
  prunedBefore(): Promise<number> {
    return this.options.store.prunedBefore();
  }

  /** Every signing public key, PEM. */
  publicKeys(): string {
    return publicKeysPem(this.options.keys);
  }

  /** Every signing key: id, creation time, and whether it signs new checkpoints. */
  keyList(): { kid: string; createdAt: string; active: boolean }[] {
    const active = activeSigningKey(this.options.keys).kid;
    return this.options.keys.signing.map((k) => ({ kid: k.kid, createdAt: k.createdAt, active: k.kid === active }));
  }

  async query(filter: AuditFilter, after: number, limit: number): Promise<AuditEntryView[]> {
    return (await this.queryLines(filter, after, limit)).map(({ line }) => this.view(line));
  }

  /** Stored lines that match, with their indexes, once what is queued is written. */
  async queryLines(filter: AuditFilter, after: number, limit: number): Promise<{ index: number; line: string }[]> {
    await this.flush();
    return (await this.options.store.query(filter, after, limit)).map((line) => ({ index: (JSON.parse(line) as AuditRecord).index, line }));
  }

  /** Opens a stored line for people: its clear fields and its details when this relay holds the key. */
  view(line: string): AuditEntryView {
    const r = JSON.parse(line) as AuditRecord;
    return { index: r.index, time: r.time, event: r.event, actor: r.actor, target: r.target, outcome: r.outcome, node: r.node, details: openDetails(r.details, r.index, this.options.keys) ?? null };
  }

  /** Stored lines from `from` to `to` (exclusive), in chunks, for exports. */
  async *lines(from: number, to: number): AsyncGenerator<string> {
    for (let at = from; at < to; at += 1000) yield* await this.options.store.read(at, Math.min(to, at + 1000));
  }

  async size(): Promise<number> {
    await this.flush();
    return (await this.options.store.head()).size;
  }

  private async allLeaves(size: number): Promise<Buffer[]> {
    const leaves: Buffer[] = [];
    for (let from = 0; from < size; from += 10_000) leaves.push(...(await this.options.store.leaves(from, Math.min(size, from + 10_000))));
    return leaves;
  }

  /** RFC 9162 inclusion proof of record `index` in the tree of the first `size` records. */
  async inclusion(index: number, size: number): Promise<{ leaf: string; root: string; proof: string[] }> {
    const leaves = await this.allLeaves(size);
    return { leaf: leaves[index].toString('hex'), root: rootFromLeafHashes(leaves).toString('hex'), proof: inclusionProof(leaves, index, size).map((h) => h.toString('hex')) };
  }

  /** RFC 9162 consistency proof between the trees of the first `from` and `to` records. */
  async consistency(from: number, to: number): Promise<{ oldRoot: string; newRoot: string; proof: string[] }> {
    const leaves = await this.allLeaves(to);
    return {
      oldRoot: rootFromLeafHashes(leaves.slice(0, from)).toString('hex'),
      newRoot: rootFromLeafHashes(leaves).toString('hex'),
      proof: consistencyProof(leaves, from, to).map((h) => h.toString('hex')),
    };
  }

  async checkpoints(limit?: number): Promise<Checkpoint[]> {
    return this.options.store.checkpoints(limit);
  }

  /** Writes what is queued and a last checkpoint (when records were added), then stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.retentionTimer);
    clearInterval(this.retentionTimer);
    this.closing = true;
    await this.flush();
    try {
      await this.checkpointIfGrown();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'no audit checkpoint at close');
    }
    this.closed = true;
    await this.flush();
  }
}
