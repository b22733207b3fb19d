export { Connector, type ConnectorEvents } from './connector.js';
export { HostAgent, type HostAgentOptions, type HostAgentEvents } from './host-agent.js';
export { bridge } from './bridge.js';
export { Backoff } from './backoff.js';
export { RelayApi, errorFromBody, type TunnelInfo } from './relay-api.js';
export { parseRelayUrl, parseHostPort, type RelayUrls } from './relay-url.js';
export {
  connectRelaySession,
  webSocketFactory,
  type Endpoint,
  type RelaySession,
  type RelaySessionOptions,
  type SessionFactory,
} from './relay-session.js';
