/**
 * What the diagnostics panel (a webview, webview/src/diagnostics.ts) shows and the messages it
 * exchanges with the extension host. The webview imports the types only; the extension checks
 * each message it receives with `readDiagnosticsMessage` (anything else is dropped).
 */
import type { EndpointState } from './pool-state.js';

/** One relay of a pool, as the pool sees it now. */
export interface RelayHealth {
  url: string;
  state: EndpointState;
  /** New streams of this pool go here. */
  active: boolean;
  /** Smoothed RTT of its live session (0 when none). */
  rttMs: number;
  streams: number;
  /** When `state` last changed (epoch ms). */
  since: number;
  lastError?: { code: string; message: string };
  retryInMs?: number;
}

/** A relay pool: the connections' (Connect to Tunnel, SSH terminals) or one share's. */
export interface PoolView {
  /** "connections" or "sharing NAME". */
  label: string;
  /** Why new streams go to the active relay, in words ("preferred", "failover: … lost (…)"). */
  reason: string;
  live: number;
  size: number;
  queued: number;
  relays: RelayHealth[];
  /** RTT of the active relay's session as measured by its PINGs (0: not measured yet). */
  rtt: { smoothedMs: number; lastMs: number; minMs: number };
}

export type DiagnosticsEventKind = 'relay-up' | 'relay-down' | 'failover' | 'failback' | 'no-relay' | 'detached' | 'resumed' | 'error';

/** Something that happened, for the timeline. */
export interface DiagnosticsEvent {
  at: number;
  kind: DiagnosticsEventKind;
  /** The pool or tunnel it happened to. */
  where: string;
  text: string;
  code?: string;
}

/** A failure, with its code and what to do about it. */
export interface DiagnosticsError {
  at: number;
  where: string;
  code: string;
  message: string;
  advice: string;
}

/** One PING's round trip on a relay session. */
export interface RttSample {
  at: number;
  ms: number;
  pool: string;
  relay: string;
}

/** A bucket of the RTT histogram: samples above the previous bucket's bound up to `upToMs` (null: above every bound). */
export interface RttBucket {
  upToMs: number | null;
  count: number;
}

/** Bytes per second over one sampling interval. */
export interface ThroughputSample {
  at: number;
  inBps: number;
  outBps: number;
}

/** One connection (a local listener's or an SSH terminal's): where its streams go and how fast. */
export interface ConnectionPath {
  id: string;
  tunnel: string;
  /** Where it starts: "127.0.0.1:2222" for a listener, "SSH terminal" for a terminal. */
  origin: string;
  /** Relays its open streams ride on now; "resuming" for a stream between relays. */
  relays: string[];
  /** The relay its next stream would go to (its pool's active one), if any. */
  next?: string;
  openStreams: number;
  bytesIn: number;
  bytesOut: number;
  /** Throughput while the panel was open (oldest first). */
  throughput: ThroughputSample[];
}

/** Agent forwarding of one SSH terminal. */
export interface AgentForwardingView {
  terminal: string;
  tunnel: string;
  /** tether.agent.forward asked for it. */
  requested: boolean;
  /** The agent found ('ssh-agent', 'pageant', 'gpg-agent'…), if any. */
  agent?: string;
  /** The session forwards it now. */
  live: boolean;
  /** Why not, when requested but not live. */
  problem?: string;
}

/** Everything the panel shows: each figure comes from the pools, sessions and streams as they are. */
export interface DiagnosticsView {
  now: number;
  pools: PoolView[];
  events: DiagnosticsEvent[];
  errors: DiagnosticsError[];
  rttSamples: RttSample[];
  rttHistogram: RttBucket[];
  connections: ConnectionPath[];
  agents: AgentForwardingView[];
  /** Milliseconds between updates. */
  intervalMs: number;
}

/** webview → extension. */
export type DiagnosticsRequest = { type: 'ready' } | { type: 'export' } | { type: 'clear' };

/** extension → webview. */
export type DiagnosticsUpdate = { type: 'view'; view: DiagnosticsView } | { type: 'notice'; message: string };

/** A message from the webview, checked; undefined for anything that is not exactly one of the requests. */
export function readDiagnosticsMessage(value: unknown): DiagnosticsRequest | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  if (Object.keys(fields).some((k) => k !== 'type')) return undefined;
  switch (fields.type) {
    case 'ready':
    case 'export':
    case 'clear':
      return { type: fields.type };
    default:
      return undefined;
  }
}
