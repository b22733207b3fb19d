import type { AgentForwardingView, ConnectionPath, DiagnosticsError, DiagnosticsEvent, PoolView } from './diagnostics-protocol.js';
import { redact } from './redact.js';

/** Versions of what ran, for a bug report. */
export interface BundleVersions {
  extension: string;
  vscode: string;
  os: string;
  node: string;
}

/** What goes into `Tether: Export Diagnostics` (before redaction). */
export interface BundleInput {
  createdAt: string;
  versions: BundleVersions;
  /** The `tether.*` settings as VS Code holds them. */
  settings: Record<string, unknown>;
  /** The relay signed in to (its URL only), if any. */
  relay?: string;
  pools: PoolView[];
  connections: ConnectionPath[];
  agents: AgentForwardingView[];
  events: DiagnosticsEvent[];
  errors: DiagnosticsError[];
  /** Values known to be secret (the signed-in token): removed wherever they appear. */
  secrets: readonly string[];
}

export interface DiagnosticsBundle {
  format: 'tether-diagnostics/1';
  createdAt: string;
  versions: BundleVersions;
  settings: Record<string, unknown>;
  relay?: string;
  pools: PoolView[];
  connections: Omit<ConnectionPath, 'throughput'>[];
  agents: AgentForwardingView[];
  events: DiagnosticsEvent[];
  errors: DiagnosticsError[];
}

/**
 * The JSON bundle for a bug report, with every secret taken out (redact.ts): settings under
 * secret-like keys, URL query strings and user info, tokens and invite codes anywhere in text,
 * and the `secrets` given. Throughput series are left out (bytes so far are kept).
 */
export function buildBundle(input: BundleInput): DiagnosticsBundle {
  const bundle: DiagnosticsBundle = {
    format: 'tether-diagnostics/1',
    createdAt: input.createdAt,
    versions: input.versions,
    settings: input.settings,
    ...(input.relay ? { relay: input.relay } : {}),
    pools: input.pools,
    connections: input.connections.map(({ throughput: _omitted, ...rest }) => rest),
    agents: input.agents,
    events: input.events,
    errors: input.errors,
  };
  return redact(bundle, input.secrets) as DiagnosticsBundle;
}

/** The bundle as the file holds it. */
export function bundleText(bundle: DiagnosticsBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
