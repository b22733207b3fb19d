import { createError, ErrorCode, type TetherError } from '@tether/shared';
import type { Identity } from './identity.js';
import type { TunnelRecord } from './store.js';

export type Action = 'host' | 'connect' | 'view';

/**
 * The one place that decides whether an identity may act on a tunnel. For now a tunnel belongs
 * to the identity that first hosted it and only its owner may host, connect to or view it;
 * roles, invites and approvals (sharing) plug in here. Returns undefined when allowed.
 */
export function authorize(identity: Identity, action: Action, tunnel: TunnelRecord | undefined, name: string): TetherError | undefined {
  if (!tunnel) {
    // Hosting an unclaimed name claims it; nothing else can act on a tunnel that does not exist.
    if (action === 'host') return undefined;
    return createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${name}`);
  }
  if (tunnel.ownerId === identity.id) return undefined;
  return createError(ErrorCode.TUNNEL_FORBIDDEN, `tunnel ${name} belongs to another user`);
}
