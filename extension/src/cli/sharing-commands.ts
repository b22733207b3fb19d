import { assertTunnelName, checkUserName } from '@tether/shared';
import { inviteIdOf } from '../core/invite-code.js';
import { RelayApi } from '../core/relay-api.js';
import type { TunnelRole, TunnelSettings } from '../core/sharing-types.js';
import { parseCount, parseDuration } from './duration.js';
import type { ClientValues } from './flags.js';
import { info, UsageError } from './output.js';
import { relayAndToken } from './options.js';
import { describeRequest, describeSettings, invitesTable, membersTable, requestsTable, tableText, type Table } from './sharing-format.js';

/**
 * The VS Code extension's id (publisher.name of the published manifest: extension/package.json's
 * publisher, and the name vsix.mjs gives it); its URI handler takes `/invite?code=CODE`.
 */
export const EXTENSION_ID = 'tether-dev.tether';

/** The link that opens an invite in VS Code. */
export function vscodeInviteLink(code: string): string {
  return `vscode://${EXTENSION_ID}/invite?code=${encodeURIComponent(code)}`;
}

export interface JsonValues extends ClientValues {
  json?: boolean;
}

function api(values: ClientValues): RelayApi {
  const { relay, token } = relayAndToken(values);
  return new RelayApi(relay, token);
}

/** Names are checked here, as the relay would, so that a typo is a usage error with no request sent. */
function userArg(name: string): string {
  const invalid = checkUserName(name);
  if (invalid) throw new UsageError(invalid.message);
  return name;
}

function tunnelArg(name: string): string {
  assertTunnelName(name);
  return name;
}

/**
 * A listing on stdout: the relay's answer as JSON with --json (one document, for `jq`), else
 * the table (a header only on a terminal); a hint on stderr when there is nothing to list.
 */
export function printListing(values: JsonValues, answer: unknown, table: Table, empty: string): void {
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return;
  }
  if (table.rows.length === 0) {
    info(empty);
    return;
  }
  process.stdout.write(tableText(table, process.stdout.isTTY === true));
}

// --- invites ------------------------------------------------------------------------------------

export interface InviteCreateValues extends ClientValues {
  role?: TunnelRole;
  expires?: string;
  uses?: string;
  user?: string;
}

/** `tether invite create TUNNEL`: the code alone on stdout (`CODE=$(tether invite create box)`). */
export async function inviteCreateCommand(tunnel: string, values: InviteCreateValues): Promise<void> {
  tunnelArg(tunnel);
  const expiresInMs = values.expires === undefined ? undefined : parseDuration(values.expires, '--expires');
  const uses = values.uses === undefined ? undefined : parseCount(values.uses, '--uses', 1, 1000);
  const user = values.user === undefined ? undefined : userArg(values.user);
  const { code, invite } = await api(values).createInvite(tunnel, { role: values.role, expiresInMs, uses, user });
  const who = invite.user ? `for ${invite.user} only` : 'for anyone with the code';
  info(`Invite ${invite.id} to tunnel ${invite.tunnel} as ${invite.role}, ${who}: ${invite.maxUses} use${invite.maxUses === 1 ? '' : 's'}, expires ${invite.expiresAt}`);
  info(`Accept with 'tether invite accept CODE', or in VS Code: ${vscodeInviteLink(code)}`);
  process.stdout.write(`${code}\n`);
}

/** `tether invite list TUNNEL`: ID, ROLE, STATE, USES/MAX, EXPIRES, USER. */
export async function inviteListCommand(tunnel: string, values: JsonValues): Promise<void> {
  const invites = await api(values).invites(tunnelArg(tunnel));
  printListing(values, { invites }, invitesTable(invites), `No invites to tunnel ${tunnel}: create one with 'tether invite create ${tunnel}'`);
}

/**
 * The invite id a `tether invite revoke` argument names: a code (a JWT, whose `jti` is the id) or
 * the id itself, as `invite list` prints it.
 */
export function inviteIdFrom(codeOrId: string): string {
  const text = codeOrId.trim();
  if (text.includes('.')) {
    const id = inviteIdOf(text);
    if (!id) throw new UsageError('that is neither an invite code nor an invite id: check that it was copied whole');
    return id;
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) throw new UsageError(`${JSON.stringify(codeOrId)} is neither an invite code nor an invite id`);
  return text;
}

/** `tether invite revoke CODE_OR_ID` */
export async function inviteRevokeCommand(codeOrId: string, values: ClientValues): Promise<void> {
  const id = inviteIdFrom(codeOrId);
  await api(values).revokeInvite(id);
  info(`Revoked invite ${id}: it can no longer be accepted (members who accepted it keep their access)`);
}

/** `tether invite accept CODE`: nothing on stdout, or the access request id when approval is required. */
export async function inviteAcceptCommand(code: string, values: ClientValues): Promise<void> {
  const accepted = await api(values).acceptInvite(code);
  if (accepted.request) {
    info(`Tunnel ${accepted.tunnel} requires approval: your access request ${accepted.request.id} is waiting for approval (${accepted.request.approvals}/${accepted.request.approvalsNeeded})`);
    process.stdout.write(`${accepted.request.id}\n`);
    return;
  }
  const until = accepted.granted.expiresAt ? ` until ${accepted.granted.expiresAt}` : '';
  info(`You can now connect to ${accepted.tunnel} as ${accepted.role}${until}`);
}

// --- access requests ----------------------------------------------------------------------------

export interface AccessRequestValues extends ClientValues {
  role?: TunnelRole;
  for?: string;
  reason?: string;
}

/** `tether access request TUNNEL`: the request id on stdout. */
export async function accessRequestCommand(tunnel: string, values: AccessRequestValues): Promise<void> {
  tunnelArg(tunnel);
  const durationMs = values.for === undefined ? undefined : parseDuration(values.for, '--for');
  const request = await api(values).requestAccess(tunnel, { role: values.role, durationMs, reason: values.reason });
  info(describeRequest(request));
  process.stdout.write(`${request.id}\n`);
}

/** `tether access list [--pending]`: yours, and those you may review. */
export async function accessListCommand(values: JsonValues & { pending?: boolean }): Promise<void> {
  const requests = await api(values).accessRequests(values.pending === true);
  printListing(values, { requests }, requestsTable(requests), values.pending ? 'No pending access requests' : 'No access requests');
}

/** `tether access approve|deny ID [--reason T]` */
export async function accessReviewCommand(id: string, decision: 'approve' | 'deny', values: ClientValues & { reason?: string }): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`${JSON.stringify(id)} is not an access request id (see 'tether access list')`);
  const request = await api(values).reviewRequest(id, decision, values.reason);
  info(describeRequest(request));
}

// --- members ------------------------------------------------------------------------------------

/** `tether members TUNNEL`: USER, ROLE, EXPIRES, STATE, SOURCE. */
export async function membersCommand(tunnel: string, values: JsonValues): Promise<void> {
  const list = await api(values).members(tunnelArg(tunnel));
  printListing(values, list, membersTable(list.members), `Tunnel ${tunnel} has no members besides its owner ${list.owner}: invite some with 'tether invite create ${tunnel}'`);
}

/** `tether members remove TUNNEL USER`: ends the member's access and its open connections. */
export async function memberRemoveCommand(tunnel: string, user: string, values: ClientValues): Promise<void> {
  await api(values).removeMember(tunnelArg(tunnel), userArg(user));
  info(`Removed ${user} from tunnel ${tunnel}: its open connections to it are closed`);
}

/** `tether members block|unblock TUNNEL USER` */
export async function memberBlockCommand(tunnel: string, user: string, blocked: boolean, values: ClientValues): Promise<void> {
  await api(values).blockMember(tunnelArg(tunnel), userArg(user), blocked);
  info(blocked ? `Blocked ${user} on tunnel ${tunnel}: no role or invite lets them in until unblocked` : `Unblocked ${user} on tunnel ${tunnel}: their role applies again`);
}

/** `tether members set TUNNEL USER --role R [--expires D]` */
export async function memberSetCommand(tunnel: string, user: string, values: ClientValues & { role?: TunnelRole; expires?: string }): Promise<void> {
  if (!values.role) throw new UsageError('missing --role (admin, connect or view)');
  const expiresAt = values.expires === undefined ? null : new Date(Date.now() + parseDuration(values.expires, '--expires')).toISOString();
  const member = await api(values).setMember(tunnelArg(tunnel), userArg(user), values.role, expiresAt);
  info(`${member.user} is ${member.role} on tunnel ${tunnel}${member.expiresAt ? ` until ${member.expiresAt}` : ''}${member.blocked ? ' (blocked: unblock to let them in)' : ''}`);
}

// --- settings -----------------------------------------------------------------------------------

export interface TunnelSetValues extends ClientValues {
  approval?: TunnelSettings['approval'];
  approvals?: string;
  'max-duration'?: string;
}

/** The settings `tether tunnel set` changes; a usage error when it would change none. */
export function settingsPatch(values: TunnelSetValues): Partial<TunnelSettings> {
  const patch: Partial<TunnelSettings> = {};
  if (values.approval !== undefined) patch.approval = values.approval;
  if (values.approvals !== undefined) patch.approvals = parseCount(values.approvals, '--approvals', 1, 10);
  const max = values['max-duration'];
  if (max !== undefined) patch.maxDurationMs = max === 'none' ? null : parseDuration(max, '--max-duration');
  if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give --approval, --approvals or --max-duration');
  return patch;
}

/** `tether tunnel set TUNNEL [--approval] [--approvals] [--max-duration]`: the resulting settings on stderr. */
export async function tunnelSetCommand(tunnel: string, values: TunnelSetValues): Promise<void> {
  const patch = settingsPatch(values);
  const settings = await api(values).updateTunnelSettings(tunnelArg(tunnel), patch);
  info(describeSettings(tunnel, settings));
}
