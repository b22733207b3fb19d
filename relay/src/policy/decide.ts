import { ErrorCode } from '@tether/shared';
import type { Action, Decision, Facts, Identity, Resource } from './decision.js';
import { liveGrant, roleAllows } from './roles.js';

const allow = (rule: Decision['rule'], reason: string, scope?: Decision['scope']): Decision =>
  scope ? { allow: true, rule, reason, scope } : { allow: true, rule, reason };
const deny = (rule: Decision['rule'], reason: string, code: Decision['code']): Decision => ({ allow: false, rule, reason, code });

/**
 * The rules, as a pure function of who asks, what for, on what, and the stored facts. A tunnel
 * belongs to the identity that first hosted it; only its owner hosts it. The owner and the relay
 * admin may do everything else on it; a member may what its role allows (roles.ts) while its
 * grant has not lapsed; a block (an explicit deny) beats every role. Nobody else learns that
 * the tunnel exists.
 */
export function decide(subject: Identity, action: Action, resource: Resource, facts: Facts): Decision {
  switch (action) {
    case 'relay.connect':
      return allow('authenticated', 'any identity may open a connector link');
    case 'relay.stats':
      return subject.admin ? allow('admin', "the relay admin sees the relay's counts") : deny('not-admin', 'this needs the admin token', ErrorCode.FORBIDDEN);
    case 'users.manage':
      return subject.admin ? allow('admin', 'the relay admin manages users') : deny('not-admin', 'this needs the admin token', ErrorCode.FORBIDDEN);
    case 'tunnels.list':
      return subject.admin ? allow('admin', 'the relay admin sees every tunnel', 'all') : allow('list-own', 'users see the tunnels they own', 'own');
    case 'tunnel.delete': {
      const name = resource.kind === 'tunnel' ? resource.name : '';
      if (facts.tunnel && facts.tunnel.ownerId === subject.id) return allow('owner', `${subject.name} owns tunnel ${name}`);
      if (facts.tunnel && subject.admin) return allow('admin', 'the relay admin may release any tunnel name');
      // A member sees the tunnel: it is told why it may not delete it.
      const grant = liveGrant(facts.grant, facts.now ?? Date.now());
      if (facts.tunnel && grant && !grant.blocked) return deny('role', `only the owner of tunnel ${name} (or the relay admin) may delete it`, ErrorCode.TUNNEL_FORBIDDEN);
      return deny(facts.tunnel ? 'not-visible' : 'no-such-tunnel', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
    }
    case 'tunnel.host':
    case 'tunnel.connect':
    case 'tunnel.view':
    case 'tunnel.manage':
    case 'tunnel.request':
      return unlessDisabled(action, facts, decideOnTunnel(subject, action, resource.kind === 'tunnel' ? resource.name : '', facts));
  }
}

/**
 * A tunnel the relay admin disabled is neither hosted nor connected to, by anyone (its owner and
 * the admin included), until enabled; everything else on it (viewing, sharing) goes on. Only
 * someone allowed to act on it learns that it is disabled.
 */
function unlessDisabled(action: Action, facts: Facts, decision: Decision): Decision {
  const tunnel = facts.tunnel;
  if (!decision.allow || !tunnel?.disabledAt || (action !== 'tunnel.host' && action !== 'tunnel.connect')) return decision;
  const why = tunnel.disabledReason ? ` (${tunnel.disabledReason})` : '';
  return deny('disabled', `tunnel ${tunnel.name} is disabled by the relay admin${why}: ask the relay admin to enable it`, ErrorCode.TUNNEL_DISABLED);
}

/** Allowed with the role it came through, and when that lapses. */
const allowAs = (rule: Decision['rule'], reason: string, role: string, until?: number): Decision & { role: string; until?: number } =>
  until === undefined ? { allow: true, rule, reason, role } : { allow: true, rule, reason, role, until };

function decideOnTunnel(subject: Identity, action: Action, name: string, facts: Facts): Decision {
  const tunnel = facts.tunnel;
  if (!tunnel) {
    // Hosting an unclaimed name claims it; nothing else can act on a tunnel that does not exist.
    if (action === 'tunnel.host') return allow('unclaimed-name', `${name} is not claimed yet`);
    return deny('no-such-tunnel', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
  }
  if (tunnel.ownerId === subject.id && !subject.peer) {
    if (action === 'tunnel.request') return deny('owner', `${subject.name} owns tunnel ${name} already`, ErrorCode.INVALID_ARGUMENT);
    return allowAs('owner', `${subject.name} owns tunnel ${name}`, 'owner');
  }
  // The name is taken: a host must be told so, whoever it is.
  if (action === 'tunnel.host') return deny('not-owner', `tunnel ${name} belongs to another user`, ErrorCode.TUNNEL_FORBIDDEN);
  if (subject.admin) {
    if (action === 'tunnel.request') return deny('admin', 'the relay admin holds every right on every tunnel already', ErrorCode.INVALID_ARGUMENT);
    return allowAs('admin', 'the relay admin holds every right on every tunnel', 'relay-admin');
  }
  // A visitor of a public (or access-token) URL: that one tunnel, streams only. Whether the
  // tunnel still admits visitors is the router's to check against the host's settings.
  if (subject.visitor) {
    return action === 'tunnel.connect' && subject.visitor.tunnel === name
      ? allow('visitor', `tunnel ${name} admits visitors of its URL (access ${subject.visitor.access})`)
      : deny('not-visible', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
  }
  // A node of the cluster carries a stream its own connector opened: that node decided it.
  if (subject.peer) {
    return action === 'tunnel.connect' ? allow('peer-node', `${subject.name} carries a stream it authorized`) : deny('not-visible', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
  }
  const grant = liveGrant(facts.grant, facts.now ?? Date.now());
  if (grant?.blocked) return deny('blocked', `${subject.name} is blocked on tunnel ${name}: ask its owner`, ErrorCode.TUNNEL_FORBIDDEN);
  if (action === 'tunnel.request') return allow('authenticated', 'any user may ask for access to a tunnel it knows the name of');
  if (!grant) return deny('not-visible', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
  const until = grant.expiresAt === null ? undefined : Date.parse(grant.expiresAt);
  if (roleAllows(grant.role, action)) return allowAs('member', `${subject.name} holds the ${grant.role} role on tunnel ${name}`, grant.role, until);
  const what = action === 'tunnel.connect' ? 'connecting' : 'managing its sharing';
  return deny('role', `${subject.name} holds the ${grant.role} role on tunnel ${name}, which does not allow ${what}`, ErrorCode.TUNNEL_FORBIDDEN);
}
