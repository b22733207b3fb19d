export { Connector, type ConnectorEvents, type StreamPath } from './connector.js';
export { HostAgent, type HostAgentOptions, type HostAgentEvents } from './host-agent.js';
export { RelayApi, type SessionInfo, type TunnelInfo, type UserInfo } from './relay-api.js';
export * from './sharing-types.js';
export { inviteClaimsOf, inviteCodeFrom, inviteIdOf, type InviteClaims } from './invite-code.js';
export { parseRelayUrl, parseHostPort, type RelayUrls } from './relay-url.js';
export { parseEndpoint, parseEndpoints, preferServing, type RelayEndpoint } from './endpoints.js';
export { RelayPool, type RelayPoolEvents } from './relay-pool.js';
export { FACTORY_ENDPOINT, poolTargets, type PoolTuning, type RelayPoolOptions } from './pool-options.js';
export { PoolDefaults } from './pool-defaults.js';
export { describePoolReason, type PoolReason } from './pool-reason.js';
export { describeStreamEnd, VSCODE_HINTS, type StreamEndHints } from './stream-end.js';
export { cliShimPath, writeCliShim } from './cli-shim.js';
export { targetListens } from './target-probe.js';
export { proposedName, suggestedName } from './tunnel-names.js';
export { readStartupShares, withoutStartupShare, withStartupShare, type StartupShare } from './startup-shares.js';
export { probeHealth } from './health-probe.js';
export type { EndpointState, EndpointStatus, PoolState } from './pool-state.js';
export {
  connectRelaySession,
  webSocketFactory,
  type Endpoint,
  type RelaySession,
  type RelaySessionOptions,
  type SessionFactory,
} from './relay-session.js';
export {
  readSettings,
  expandHome,
  logLevelEnabled,
  LOG_LEVELS,
  SettingKey,
  type LogLevel,
  type TetherSettings,
  type FailoverSettings,
  type SettingsProblem,
  type SettingsEnvironment,
} from './settings.js';
export {
  buildTunnelTree,
  ContextValue,
  reachableContextValue,
  roleConnects,
  roleManages,
  statusSummary,
  spokenText,
  tunnelActions,
  type TunnelAction,
  formatRtt,
  type ActiveConnection,
  type ClientState,
  type ReachableTunnel,
  type ShareState,
  type SharedTunnel,
  type StatusKind,
  type StatusSummary,
  type TunnelNode,
} from './tunnel-list.js';
export { reconcileTree } from './tree-update.js';
export { setManagedHostUser, writeManagedHost, type WriteResult } from './ssh-config-writer.js';
export {
  chooseSshUser,
  readSshUserMemory,
  rememberSshUser,
  sshUserProblem,
  sshUserWarning,
  type SshUserChoice,
  type SshUserMemory,
} from './ssh-user.js';
export { accountLabel, accountSession, sessionChange, type AccountSession, type SessionChange, type SignedIn } from './account-session.js';
export * from './ssh/index.js';
export { describeMs, readDuration } from './duration-text.js';
export { describePendingRequest, REQUEST_POLL_MS, RequestWatcher, type RequestWatchOptions } from './request-watch.js';
export { describeAcceptedInvite, describeReviewed, describeSentRequest, readableTime } from './sharing-text.js';
export { PANEL_LIMITS, readPanelMessage, type PanelRequest, type PanelState, type PanelUpdate } from './sharing-panel-protocol.js';
export { AuditApi, auditQuery, type AuditEntry, type AuditFilterOptions, type AuditKeys, type AuditPage } from './audit-api.js';
export { UdpListener, type UdpListenerOptions, type UdpListenerEvents } from './udp-listener.js';
export { UdpTarget, type UdpTargetOptions } from './udp-target.js';
export { describeUdpStats, totalDropped, type UdpDrop, type UdpStats } from './udp-stats.js';
export { readDiagnosticsMessage, type DiagnosticsRequest, type DiagnosticsUpdate, type DiagnosticsView, type PoolView, type ConnectionPath, type AgentForwardingView } from './diagnostics-protocol.js';
export { DiagnosticsModel, poolView, type ConnectionSnapshot } from './diagnostics-model.js';
export { rttOf, type SessionRtt } from './session-rtt.js';
export { buildBundle, bundleText, type BundleInput, type DiagnosticsBundle } from './diagnostics-bundle.js';
