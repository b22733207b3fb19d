/**
 * What the extension says about invites and access requests, in sentences (no 'vscode' here:
 * unit-tested). The CLI has its own wording for a terminal (cli/sharing-format.ts).
 */
import { describeMs } from './duration-text.js';
import type { AcceptedInvite, AccessRequestInfo } from './sharing-types.js';

/** "2026-12-02T05:45:22.741Z" → "2026-12-02 05:45 UTC": a relay time, readable (the relay keeps UTC). */
export function readableTime(iso: string | null): string {
  if (iso === null) return 'never';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso) ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : iso;
}

/**
 * An accepted invite: "You can now connect to web as connect" (access now), or "Your access
 * request REQ for web is waiting for approval" (a tunnel that requires approval). A view-only
 * role does not claim what it cannot do.
 */
export function describeAcceptedInvite(accepted: AcceptedInvite): string {
  if (accepted.request) {
    const { id, approvals, approvalsNeeded } = accepted.request;
    return `Your access request ${id} for ${accepted.tunnel} is waiting for approval (${approvals}/${approvalsNeeded}).`;
  }
  const until = accepted.granted.expiresAt ? ` until ${readableTime(accepted.granted.expiresAt)}` : '';
  if (accepted.role === 'view') return `You can now see ${accepted.tunnel} as view${until}: connecting needs the connect role (Request Access…).`;
  return `You can now connect to ${accepted.tunnel} as ${accepted.role}${until}.`;
}

/** The answer to Request Access…: its id, and what happens next. */
export function describeSentRequest(request: AccessRequestInfo): string {
  const what = `${request.role} on ${request.tunnel} for ${describeMs(request.durationMs)}`;
  if (request.status === 'approved') return `Access request ${request.id} (${what}) was approved${request.grantedUntil ? `: until ${readableTime(request.grantedUntil)}` : ''}.`;
  if (request.status === 'denied') return `Access request ${request.id} (${what}) was denied.`;
  const needed = request.approvalsNeeded - request.approvals;
  return `Access request ${request.id} sent (${what}): waiting for ${needed} approval${needed === 1 ? '' : 's'} from the tunnel's owner or admins.`;
}

/** After a review: "Approved mia's request for connect on web: access until …" and the like. */
export function describeReviewed(request: AccessRequestInfo, decision: 'approve' | 'deny'): string {
  const whose = `${request.user}'s request for ${request.role} on ${request.tunnel}`;
  if (decision === 'deny') return `Denied ${whose}.`;
  if (request.status === 'approved') return `Approved ${whose}: ${request.user} has access${request.grantedUntil ? ` until ${readableTime(request.grantedUntil)}` : ''}.`;
  const left = request.approvalsNeeded - request.approvals;
  return `Approved ${whose} (${request.approvals}/${request.approvalsNeeded}): it waits for ${left} more approval${left === 1 ? '' : 's'}.`;
}
