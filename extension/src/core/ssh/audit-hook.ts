/**
 * The one hook point for audit records of the SSH client (the audit log itself comes later).
 * The default sink records nothing.
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

const discard: AuditSink = () => undefined;
let sink: AuditSink = discard;

/** Sets where audit events go (`undefined`: nowhere again); returns the previous sink. */
export function setAuditSink(next: AuditSink | undefined): AuditSink {
  const previous = sink;
  sink = next ?? discard;
  return previous;
}

/** Hands one event to the sink. A failing sink must not break the session it describes. */
export function recordAudit(event: AuditEvent): void {
  try {
    sink(event);
  } catch {
    // Deliberately ignored: see above.
  }
}
