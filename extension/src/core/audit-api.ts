import type { Checkpoint } from '@tether/shared/audit';
import { RelayApi } from './relay-api.js';

/** The filters of `GET /v1/audit` and its export (left out when undefined). */
/** `GET /v1/audit/export?format=`: the stored lines, or them as SIEM messages. */
export const AUDIT_EXPORT_FORMATS = ['jsonl', 'syslog', 'cef', 'hec'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

export interface AuditFilterOptions {
  actor?: string;
  event?: string;
  tunnel?: string;
  target?: string;
  outcome?: 'success' | 'failure';
  /** ISO 8601 times, inclusive. */
  from?: string;
  to?: string;
}

/** One record as the relay shows it: the clear fields, and its details opened (null: key not on the relay). */
export interface AuditEntry {
  index: number;
  time: string;
  event: string;
  actor: string;
  target: string;
  outcome: 'success' | 'failure';
  node: string;
  details: Record<string, unknown> | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** The `after` of the next page, or null on the last one. */
  next: number | null;
}

export interface AuditKeys {
  /** Every signing public key, oldest first: what `tether audit verify --key` reads. */
  pem: string;
  keys: { kid: string; createdAt: string; active: boolean }[];
}

/** A query string of the values given (`?a=1&b=2`, or `''`). */
export function auditQuery(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The relay's audit log API (docs/relay.md, "Audit log"), with coded errors as RelayApi: reading
 * the log, exporting it, and checkpoints are the relay admin's; the public keys are anyone's.
 */
export class AuditApi {
  constructor(private readonly api: RelayApi) {}

  static of(relay: string, token: string, timeoutMs?: number): AuditApi {
    return new AuditApi(new RelayApi(relay, token, timeoutMs));
  }

  /** One page of records matching `filter`, those after index `after`. */
  entries(filter: AuditFilterOptions = {}, page: { after?: number; limit?: number } = {}): Promise<AuditPage> {
    return this.api.request('GET', `/v1/audit${auditQuery({ ...filter, after: page.after, limit: page.limit })}`);
  }

  keys(): Promise<AuditKeys> {
    return this.api.request('GET', '/v1/audit/keys');
  }

  /** Signs a checkpoint of the log as it is now. */
  checkpoint(): Promise<Checkpoint> {
    return this.api.request('POST', '/v1/audit/checkpoint');
  }

  /** Archives and prunes the records older than `before` (ISO time). */
  prune(before: string): Promise<{ pruned: number; from?: number; to?: number; archive?: string | null }> {
    return this.api.request('POST', '/v1/audit/prune', { before });
  }

  /** The stored checkpoints, oldest first. */
  async checkpoints(limit = 10_000): Promise<Checkpoint[]> {
    return (await this.api.request<{ checkpoints: Checkpoint[] }>('GET', `/v1/audit/checkpoints${auditQuery({ limit })}`)).checkpoints;
  }

  /**
   * The export as a stream of bytes, one record per line (no timeout once it flows): the stored
   * JSONL, or the same records as syslog (RFC 5424), CEF or Splunk HEC events.
   */
  export(filter: AuditFilterOptions = {}, format: AuditExportFormat = 'jsonl'): Promise<ReadableStream<Uint8Array>> {
    return this.api.stream(`/v1/audit/export${auditQuery({ ...filter, format })}`, format === 'jsonl' || format === 'hec' ? 'application/x-ndjson' : 'text/plain');
  }
}
