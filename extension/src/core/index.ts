export { Connector, type ConnectorEvents } from './connector.js';
export { HostAgent, type HostAgentOptions, type HostAgentEvents } from './host-agent.js';
export { RelayApi, type TunnelInfo } from './relay-api.js';
export { parseRelayUrl, parseHostPort, type RelayUrls } from './relay-url.js';
export { parseEndpoints, type RelayEndpoint } from './endpoints.js';
export {
  RelayPool,
  probeHealth,
  type EndpointState,
  type EndpointStatus,
  type PoolState,
  type RelayPoolEvents,
  type PoolTuning,
  type RelayPoolOptions,
} from './relay-pool.js';
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
  statusSummary,
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
export { writeManagedHost, type WriteResult } from './ssh-config-writer.js';
export * from './ssh/index.js';
