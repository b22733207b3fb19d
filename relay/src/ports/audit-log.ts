import type { Checkpoint } from '@tether/shared/audit';

/** The end of the log: how many records it holds and the hash of the last (GENESIS_HASH when empty). */
export interface AuditHead {
  size: number;
  hash: string;
}

/** One record as the writer hands it to the store: the exact line, its leaf hash, and the fields filtered on. */
export interface AuditLogEntry {
  index: number;
  /** The record's canonical JSON (what is exported and hashed). */
  line: string;
  /** RFC 9162 leaf hash of `line`. */
  leaf: Buffer;
  /** The record's hash (the next record's `prev`). */
  hash: string;
  time: string;
  event: string;
  actor: string;
  target: string;
  outcome: string;
}

/** Which records a query wants; every field optional. Times are ISO 8601. */
export interface AuditFilter {
  actor?: string;
  event?: string;
  target?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/**
 * The append-only audit log as the store keeps it: one ordered log for the whole deployment
 * (SQLite, or Redis shared by every node). Appends are compare-and-append on the head, so two
 * nodes never write the same index or fork the chain.
 */
export interface AuditLogStore {
  head(): Promise<AuditHead>;
  /**
   * Appends `entries` (indexes from `expected.size`, the first chained to `expected.hash`) if the
   * log's head is still `expected`; false, writing nothing, when another writer got there first.
   */
  append(expected: AuditHead, entries: readonly AuditLogEntry[]): Promise<boolean>;
  /** Stored lines of records `from` (inclusive) to `to` (exclusive), in order; pruned ones left out. */
  read(from: number, to: number): Promise<string[]>;
  /** Leaf hashes of records `from` to `to` (exclusive), in order. */
  leaves(from: number, to: number): Promise<Buffer[]>;
  /** Up to `limit` lines of records after index `after` (-1: from the start) that match, in order. */
  query(filter: AuditFilter, after: number, limit: number): Promise<string[]>;
  /** The persisted position of a named reader (a SIEM sink): the next index it will send, 0 when never set. */
  getCursor(name: string): Promise<number>;
  /** Moves a reader's cursor forward (never back: a lower value is ignored), atomically. */
  setCursor(name: string, next: number): Promise<void>;
  /**
   * Drops the content of records before index `before` (retention), keeping their leaf hashes
   * so the Merkle tree and its proofs go on; reads and queries skip them from then on.
   */
  prune(before: number): Promise<void>;
  /** The first index whose record is still stored (0 until something is pruned). */
  prunedBefore(): Promise<number>;
  /**
   * Claims or renews the lease `name` for `holder` for `ttlMs`, atomically: true when `holder`
   * holds it now (it was free, had lapsed, or was already its own). In a cluster one node per
   * SIEM sink forwards; the others stand by and take over when its lease lapses.
   */
  claimLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up when `holder` holds it (a clean stop: another node takes over at once). */
  releaseLease(name: string, holder: string): Promise<void>;
  addCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** Signed checkpoints, oldest first (at most `limit`, the newest ones). */
  checkpoints(limit?: number): Promise<Checkpoint[]>;
}
