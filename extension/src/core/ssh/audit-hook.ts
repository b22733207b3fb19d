/**
 * Audit records of the SSH client. The sink is injected: `SshShellOptions.auditSink`, chosen by
 * the front end (CLI, VS Code layer) that opens the session; without one nothing is recorded.
 */

export interface AgentForwardingAuditEvent {
  type: 'agent-forwarding-start' | 'agent-forwarding-stop';
  /** The host label of the session (the tunnel name for Tether sessions). */
  tunnel: string;
  /** The SSH login user on the far side. */
  user: string;
  /** Which local agent is forwarded: its kind and socket, e.g. `ssh-agent /tmp/agent.sock`. */
  agent: string;
  /** ISO 8601. */
  time: string;
}

export type AuditEvent = AgentForwardingAuditEvent;
export type AuditSink = (event: AuditEvent) => void;

/** The default sink: records nothing (the audit log itself comes later). */
export const discardAudit: AuditSink = () => undefined;

/** Hands one event to `sink`. A failing sink must not break the session it describes. */
export function recordAudit(sink: AuditSink, event: AuditEvent): void {
  try {
    sink(event);
  } catch {
    // Deliberately ignored: see above.
  }
}
