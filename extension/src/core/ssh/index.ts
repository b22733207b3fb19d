export {
  SshShell,
  type HostKeyDecision,
  type HostKeyInfo,
  type SshShellEvents,
  type SshShellOptions,
} from './ssh-shell.js';
export {
  addKnownHost,
  checkHostKey,
  fingerprint,
  hostMatches,
  keyTypeOf,
  knownHostName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  type HostKeyCheck,
  type KnownHostEntry,
} from './known-hosts.js';
export { type AuditEvent, type AuditSink, type AgentForwardingAuditEvent } from './audit-hook.js';
export {
  discoverAgent,
  describeAgent,
  agentCandidates,
  pageantPipes,
  AGENT_CHOICES,
  AUTO_ORDER,
  DEFAULT_PROBE_TIMEOUT_MS,
  type AgentCandidate,
  type AgentChoice,
  type AgentKind,
  type DiscoverOptions,
  type DiscoveryEnvironment,
  type FoundAgent,
} from './agent-discovery.js';
export { AgentProxy, TimedAgent, DEFAULT_AGENT_TIMEOUT_MS, type AgentProxyOptions } from './agent-forwarding.js';
export { probeAgent, type AgentProbe } from './agent-client.js';
