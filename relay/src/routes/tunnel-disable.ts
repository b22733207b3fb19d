import type { FastifyPluginAsync } from 'fastify';
import { checkTunnelName, createError, ErrorCode } from '@tether/shared';
import { AuditEventCode } from '../audit/event-codes.js';
import type { Auditor } from '../audit/auditor.js';
import type { InvalidationPublisher } from '../cluster/invalidation.js';
import type { Policy } from '../policy/policy.js';
import type { Store } from '../ports/store.js';
import type { Router } from '../routing/router.js';
import { tunnelRow } from './admin-views.js';

const params = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256, title: 'tunnel name' } } } as const;

/**
 * `PUT /v1/tunnels/:name/disabled` and `DELETE` of it: the relay admin disables a tunnel (its
 * streams reset, its host disconnected, new hosts and connects refused with TUNNEL_DISABLED on
 * every node) or enables it again. Both are audited.
 */
export const tunnelDisableRoutes: FastifyPluginAsync<{ store: Store; policy: Policy; router: Router; auditor: Auditor; invalidations: InvalidationPublisher; nodeId: string }> = async (
  app,
  { store, policy, router, auditor, invalidations, nodeId },
) => {
  app.addHook('onRequest', app.requireAdmin);

  app.put<{ Params: { name: string }; Body: { reason?: string } | undefined }>('/v1/tunnels/:name/disabled', {
    schema: {
      params,
      body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 200, title: 'reason' } } },
    },
  }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    // One line of printable text: it is shown to clients and written to the audit log.
    const reason = [...(request.body?.reason ?? '')].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('').trim();
    const tunnel = await store.setTunnelDisabled(name, reason);
    if (!tunnel) throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${name}`);
    policy.forgetTunnel(name);
    const why = `tunnel ${name} was disabled by the relay admin${reason ? ` (${reason})` : ''}`;
    const reset = router.disableTunnel(name, why);
    invalidations.publish({ kind: 'tunnel-disabled', origin: nodeId, name, disabled: true, reason: why });
    auditor.record(AuditEventCode.TUNNEL_DISABLED, request.identity, 'relay.manage', `tunnel:${name}`, { reason: reason || undefined, detail: { reset } });
    request.log.info({ tunnel: name, by: request.identity?.name, reset }, 'tunnel disabled');
    return tunnelRow(tunnel, [], false);
  });

  app.delete<{ Params: { name: string } }>('/v1/tunnels/:name/disabled', { schema: { params } }, async (request) => {
    const { name } = request.params;
    const invalid = checkTunnelName(name);
    if (invalid) throw invalid;
    const tunnel = await store.setTunnelDisabled(name, null);
    if (!tunnel) throw createError(ErrorCode.TUNNEL_UNKNOWN, `no tunnel named ${name}`);
    policy.forgetTunnel(name);
    invalidations.publish({ kind: 'tunnel-disabled', origin: nodeId, name, disabled: false, reason: 'enabled by the relay admin' });
    auditor.record(AuditEventCode.TUNNEL_ENABLED, request.identity, 'relay.manage', `tunnel:${name}`);
    return tunnelRow(tunnel, [], false);
  });
};
