import type { AccessEnd, AccessHolder } from './access-replay.js';

/**
 * One audit record as the relay's `GET /v1/audit` shows it (details opened), the part a report
 * reads. `details` is null when the relay no longer holds the key that sealed them.
 */
export interface EvidenceRecord {
  index: number;
  time: string;
  event: string;
  actor: string;
  target: string;
  outcome: string;
  details: {
    action?: string;
    rule?: string;
    reason?: string;
    detail?: Record<string, unknown>;
  } | null;
}

/** The period a report covers, both ends inclusive, ISO 8601 UTC. */
export interface ReportPeriod {
  from: string;
  to: string;
}

export interface Grant {
  index: number;
  time: string;
  tunnel: string;
  user: string;
  role: string;
  source: string;
  expiresAt: string | null;
  by: string;
}

export interface Review {
  request: string;
  tunnel: string;
  /** Who asked (null: the request was made before the period or its record is unreadable). */
  user: string | null;
  role: string | null;
  requestedAt: string | null;
  reviewers: { by: string; decision: string; time: string }[];
  outcome: 'approved' | 'denied' | 'pending';
  /** For an approved request: when the access it gave ends. */
  until: string | null;
}

/** Failed sign-ins (`auth.failed`) from one client address. */
export interface FailedSignInSource {
  address: string;
  count: number;
  /** Distinct refused-token fingerprints (HMACs) tried from there; 0 when no token was sent. */
  tokens: number;
  first: string;
  last: string;
}

export interface SessionsOfTunnel {
  tunnel: string;
  /** Streams that ended in the period (`stream.closed`). */
  sessions: number;
  /** Payload bytes, connector to target and back. */
  up: number;
  down: number;
  durationMs: number;
  /** Users that opened them. */
  users: string[];
  /** Stream opens refused (`access.denied`, action `tunnel.connect`). */
  refused: number;
}

export interface AdminAction {
  index: number;
  time: string;
  event: string;
  actor: string;
  target: string;
}

export interface DeniedAccess {
  actor: string;
  action: string;
  target: string;
  rule: string;
  count: number;
}

/** What the log says for a period: the figures a compliance report shows. */
export interface Evidence {
  period: ReportPeriod;
  records: {
    /** Records with a time in the period. */
    inPeriod: number;
    /** Index of the first and last of them (null: none). */
    first: number | null;
    last: number | null;
    /** Records of the period whose details the relay could not open. */
    unreadable: number;
    /** Records read from index 0 to the period's end (the access replay's basis). */
    replayed: number;
  };
  /** Who holds access to what at the period's end, replayed from index 0. */
  accessHolders: AccessHolder[];
  grants: Grant[];
  /** Access that ended in the period: removed, blocked, lapsed, or deleted with its user or tunnel. */
  removals: AccessEnd[];
  reviews: Review[];
  /** Successful sign-ins (`access.granted` for `relay.connect`), per user. */
  signIns: { user: string; count: number }[];
  failedSignIns: { total: number; bySource: FailedSignInSource[] };
  denied: DeniedAccess[];
  sessionsPerTunnel: SessionsOfTunnel[];
  adminActions: AdminAction[];
}
