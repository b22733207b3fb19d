export {
  SshShell,
  type HostKeyDecision,
  type HostKeyInfo,
  type SshShellEvents,
  type SshShellOptions,
} from './ssh-shell.js';
export type { AuditEvent, AuditSink, AgentForwardingAuditEvent } from './audit-hook.js';
export { discoverAgent, type AgentKind, type FoundAgent } from './agent-discovery.js';
