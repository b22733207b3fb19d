import { ErrorCode } from '@tether/shared';
import type { Action, Decision, Facts, Identity, Resource } from './decision.js';

const allow = (rule: Decision['rule'], reason: string, scope?: Decision['scope']): Decision =>
  scope ? { allow: true, rule, reason, scope } : { allow: true, rule, reason };
const deny = (rule: Decision['rule'], reason: string, code: Decision['code']): Decision => ({ allow: false, rule, reason, code });

/**
 * The rules, as a pure function of who asks, what for, on what, and the stored facts. Today a
 * tunnel belongs to the identity that first hosted it and only that owner may host, connect to
 * or view it; the relay admin manages users and sees every tunnel in listings. Roles, grants,
 * invites and approvals (capability 7) extend the facts and these rules, nowhere else.
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
      return deny(facts.tunnel ? 'not-visible' : 'no-such-tunnel', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
    }
    case 'tunnel.host':
    case 'tunnel.connect':
    case 'tunnel.view': {
      const name = resource.kind === 'tunnel' ? resource.name : '';
      const tunnel = facts.tunnel;
      if (!tunnel) {
        // Hosting an unclaimed name claims it; nothing else can act on a tunnel that does not exist.
        if (action === 'tunnel.host') return allow('unclaimed-name', `${name} is not claimed yet`);
        return deny('no-such-tunnel', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
      }
      if (tunnel.ownerId === subject.id) return allow('owner', `${subject.name} owns tunnel ${name}`);
      // A node of the cluster carries a stream its own connector opened: that node decided it.
      if (action === 'tunnel.connect' && subject.peer) return allow('peer-node', `${subject.name} carries a stream it authorized`);
      // The name is taken: a host must be told so. Anyone else learns nothing about a tunnel
      // they hold no right on, not even that it exists.
      if (action === 'tunnel.host') return deny('not-owner', `tunnel ${name} belongs to another user`, ErrorCode.TUNNEL_FORBIDDEN);
      return deny('not-visible', `no tunnel named ${name}`, ErrorCode.TUNNEL_UNKNOWN);
    }
  }
}
