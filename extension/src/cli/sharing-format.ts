import type { AccessRequestInfo, InviteInfo, MemberInfo, TunnelInfo } from '../core/index.js';
import { formatDuration } from './duration.js';

/**
 * The lines of the sharing listings: tab-separated, one record each, so `cut -f`, `awk -F'\t'`
 * and shell completion can read them; the header is for people (the caller prints it only on a
 * terminal). Empty fields are `-`, never blank, so that columns never shift.
 */
export interface Table {
  header: string[];
  rows: string[][];
}

/** The table as text: the header first when `withHeader`, a newline after every line. */
export function tableText(table: Table, withHeader: boolean): string {
  const lines = withHeader ? [table.header, ...table.rows] : table.rows;
  return lines.map((cells) => `${cells.join('\t')}\n`).join('');
}

/** Tabs or newlines in a value (a relay's free text) would break the columns. */
const cell = (value: string | null | undefined): string => (value ? value.replace(/[\t\r\n]+/g, ' ') : '-');

/** `tether tunnels`: NAME, online|offline, OWNER, then the caller's ROLE (new: kept last so the first three stay where scripts read them). */
export function tunnelsTable(tunnels: readonly TunnelInfo[]): Table {
  return {
    header: ['NAME', 'STATE', 'OWNER', 'ROLE'],
    rows: tunnels.map((t) => [t.name, t.online ? 'online' : 'offline', t.owner, cell(t.role)]),
  };
}

/** `tether invite list`: ID, ROLE, STATE, USES/MAX, EXPIRES, USER (`-`: anyone with the code). */
export function invitesTable(invites: readonly InviteInfo[]): Table {
  return {
    header: ['ID', 'ROLE', 'STATE', 'USES', 'EXPIRES', 'USER'],
    rows: invites.map((i) => [i.id, i.role, i.state, `${i.uses}/${i.maxUses}`, i.expiresAt, cell(i.user)]),
  };
}

/** `tether access list`: ID, TUNNEL, USER, ROLE, STATUS, APPROVALS n/N, DURATION (as `--for` takes it). */
export function requestsTable(requests: readonly AccessRequestInfo[]): Table {
  return {
    header: ['ID', 'TUNNEL', 'USER', 'ROLE', 'STATUS', 'APPROVALS', 'DURATION'],
    rows: requests.map((r) => [r.id, r.tunnel, r.user, r.role, r.status, `${r.approvals}/${r.approvalsNeeded}`, formatDuration(r.durationMs)]),
  };
}

/** `tether members`: USER, ROLE, EXPIRES (`never`), STATE blocked|active, SOURCE. */
export function membersTable(members: readonly MemberInfo[]): Table {
  return {
    header: ['USER', 'ROLE', 'EXPIRES', 'STATE', 'SOURCE'],
    rows: members.map((m) => [m.user, m.role, m.expiresAt ?? 'never', m.blocked ? 'blocked' : 'active', m.source]),
  };
}

/** One line about a request, for stderr after request, approve and deny. */
export function describeRequest(r: AccessRequestInfo): string {
  const access = `${r.user} as ${r.role} on tunnel ${r.tunnel} for ${formatDuration(r.durationMs)}`;
  switch (r.status) {
    case 'approved':
      return `Access request ${r.id} is approved: ${r.user} may use tunnel ${r.tunnel} as ${r.role}${r.grantedUntil ? ` until ${r.grantedUntil}` : ''}`;
    case 'denied':
      return `Access request ${r.id} is denied (${access})`;
    default:
      return `Access request ${r.id} is waiting for approval (${r.approvals}/${r.approvalsNeeded} approvals): ${access}`;
  }
}

/** `tether tunnel set`: the settings that now apply, in the flags' own words. */
export function describeSettings(tunnel: string, s: { approval: string; approvals: number; maxDurationMs: number | null }): string {
  return `Tunnel ${tunnel}: approval ${s.approval}, ${s.approvals} approval${s.approvals === 1 ? '' : 's'} needed, longest access ${s.maxDurationMs === null ? 'unlimited' : formatDuration(s.maxDurationMs)}`;
}
