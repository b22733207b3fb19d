/**
 * What the Tether view and status bar show, computed from plain state so it can be tested
 * without VS Code: the vscode layer turns these nodes into TreeItems and a StatusBarItem.
 */

import { describePoolReason, type PoolReason } from './pool-reason.js';
import type { PoolState } from './pool-state.js';
import type { CallerRole } from './sharing-types.js';

export type ShareState = 'connecting' | 'online' | 'reconnecting' | 'failed';

/** A tunnel this window shares (one HostAgent). */
export interface SharedTunnel {
  name: string;
  target: { host: string; port: number };
  state: ShareState;
  /** Connections open through it (including those waiting to resume). */
  activeStreams: number;
  /** Of those, the ones whose far end lost its relay and may resume through another. */
  resumingStreams?: number;
  rttMs: number;
  /** Why it is reconnecting or failed. */
  lastError?: string;
  /** Nothing listened on the target when last tried: connections through the tunnel are refused. */
  targetDown?: boolean;
  /** The relays it is registered with. */
  relays?: RelayUse;
}

/** A tunnel the relay says this identity may use. */
export interface ReachableTunnel {
  name: string;
  owner: string;
  online: boolean;
  /** The caller's role on it (a relay from before sharing leaves it out: then as before, connect). */
  role?: CallerRole;
}

/** Whether the role lets its holder connect (every role but view; unknown: a relay from before roles). */
export const roleConnects = (role: CallerRole | undefined): boolean => role !== 'view';

/** Whether the role may manage the tunnel's sharing (members, invites, requests, settings). */
export const roleManages = (role: CallerRole | undefined): boolean => role === 'owner' || role === 'admin' || role === 'relay-admin';

/** A local listener or an SSH terminal that reaches a tunnel. */
export interface ActiveConnection {
  id: string;
  tunnel: string;
  kind: 'listener' | 'terminal';
  /** The loopback port of a listener. */
  localPort?: number;
  /** Open TCP connections through a listener (1 for a terminal). */
  openConnections: number;
  bytesIn: number;
  bytesOut: number;
  rttMs: number;
}

export interface ClientState {
  /** The relay signed in to (http form), or undefined when signed out. */
  relay?: string;
  user?: string;
  /** Something is connecting (sign-in, a share starting, a connect). */
  busy: boolean;
  shared: SharedTunnel[];
  reachable: ReachableTunnel[];
  /** Why the reachable list could not be fetched. */
  reachableError?: string;
  /** The relay did not answer the last request at all (it is down, or the network is). */
  relayDown?: boolean;
  connections: ActiveConnection[];
  /** Offline tunnels are left out of the reachable group (which says how many). */
  hideOffline?: boolean;
  /**
   * The connector's session to the relay, which local listeners and SSH terminals need;
   * undefined while nothing needs it.
   */
  link?: RelayLink;
}

/** The connector's link to the relay: up, or lost and being re-established. */
export interface RelayLink {
  state: 'up' | 'reconnecting';
  /** Why the link was lost (while reconnecting). */
  lastError?: string;
  /** The relay new connections go to. */
  relays?: RelayUse;
}

/** Where a relay pool (a share's or the connector's) stands, for display. */
export interface RelayUse {
  /** URL of the relay new streams go to; undefined while none is up. */
  active: string | undefined;
  /** Why that one (PoolState.reason). */
  reason: PoolReason;
  /** Relays with a live session, and relays configured. */
  up: number;
  total: number;
}

/** The part of a pool's state the view, the status bar and the log show. */
export function relayUse(state: PoolState): RelayUse {
  return { active: state.active, reason: state.reason, up: state.live, total: state.endpoints.length };
}

const hostOf = (url: string): string => url.replace(/^[a-z]+:\/\//, '');

/** True while new streams go to a relay other than the preferred one because that one failed. */
export function isFailedOver(use: RelayUse | undefined): boolean {
  return use?.active !== undefined && use.reason.kind === 'failover';
}

/**
 * "127.0.0.1:8081 (failover: 127.0.0.1:8080 lost (TETHER_ERR_CONNECTION_LOST)), connected to
 * 1 of 2 relays"; the reason is left out when it is the preferred relay, the count with one relay.
 */
export function describeRelayUse(use: RelayUse): string {
  const count = use.total > 1 ? `, connected to ${use.up} of ${use.total} relays` : '';
  if (use.active === undefined) return `no relay reachable${use.total > 1 ? ` (${use.total} configured)` : ''}`;
  const why = use.reason.kind === 'preferred' ? '' : ` (${describePoolReason(use.reason, hostOf)})`;
  return `${hostOf(use.active)}${why}${count}`;
}

/**
 * The log line for a change of relay (`relay: now using X (reason)`), or of there being none;
 * undefined when the relay in use did not change.
 */
export function relayChangeLine(previous: RelayUse | undefined, next: RelayUse): string | undefined {
  if (next.active === previous?.active) return undefined;
  if (next.active === undefined) return `relay: none reachable (${previous?.active ?? 'none'} lost; ${next.total} configured)`;
  return `relay: now using ${next.active} (${describePoolReason(next.reason)})`;
}

/** Context values used by `menus.view/item/context` `when` clauses in the manifest. */
export const ContextValue = {
  group: 'tether.group',
  shared: 'tether.shared',
  reachableOnline: 'tether.reachable.online',
  /** An online tunnel whose sharing I manage (I own it, or am its admin). */
  reachableOnlineManaged: 'tether.reachable.online.managed',
  reachableOffline: 'tether.reachable.offline',
  /** An offline tunnel someone else owns whose sharing I manage (its admin). */
  reachableOfflineManaged: 'tether.reachable.offline.managed',
  /**
   * An offline tunnel the signed-in user owns: it can be deleted. (An online one cannot: the relay
   * refuses while it is shared, so its menu does not offer what would only be refused.)
   */
  reachableOfflineMine: 'tether.reachable.offline.mine',
  /** A tunnel shared with me with the view role: listed, not connectable (online or not). */
  viewOnly: 'tether.viewOnly',
  listener: 'tether.connection.listener',
  terminal: 'tether.connection.terminal',
  message: 'tether.message',
} as const;

export interface TunnelNode {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  contextValue: string;
  /** A codicon name. */
  icon: string;
  /** The tunnel a context-menu command acts on. */
  tunnel?: string;
  /** The connection a context-menu command acts on. */
  connectionId?: string;
  children?: TunnelNode[];
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** An RTT for display; 0 means not measured yet. */
export function formatRtt(ms: number): string | undefined {
  if (!(ms > 0)) return undefined;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

/** "3 open · 1 resuming": live connections apart from those waiting for their far end to resume. */
function openParts(t: SharedTunnel): (string | undefined)[] {
  const resuming = Math.min(t.resumingStreams ?? 0, t.activeStreams);
  const live = t.activeStreams - resuming;
  return [live ? `${live} open` : undefined, resuming ? `${resuming} resuming` : undefined];
}

function sharedNode(t: SharedTunnel): TunnelNode {
  const target = `${t.target.host}:${t.target.port}`;
  const rtt = formatRtt(t.rttMs);
  const parts = [target, t.state === 'online' ? undefined : t.state, t.targetDown ? 'nothing listens there' : undefined, ...openParts(t), rtt];
  return {
    id: `shared/${t.name}`,
    label: t.name,
    description: parts.filter(Boolean).join(' · '),
    tooltip: `Sharing ${target} as ${t.name} (${t.state})${t.lastError ? `\n${t.lastError}` : ''}${t.targetDown ? `\nNothing listens on ${target}: connections through ${t.name} are refused until something does.` : ''}`,
    contextValue: ContextValue.shared,
    icon: t.state === 'failed' ? 'error' : t.state !== 'online' ? 'sync' : t.targetDown ? 'warning' : 'broadcast',
    tunnel: t.name,
  };
}

/** The context value of a listed tunnel: what its menu offers follows whether it is online and my role. */
export function reachableContextValue(t: ReachableTunnel, user: string | undefined): string {
  const mine = t.role === 'owner' || (user !== undefined && user !== '' && t.owner === user);
  if (!mine && !roleConnects(t.role)) return ContextValue.viewOnly;
  const manages = mine || roleManages(t.role);
  if (t.online) return manages ? ContextValue.reachableOnlineManaged : ContextValue.reachableOnline;
  return mine ? ContextValue.reachableOfflineMine : manages ? ContextValue.reachableOfflineManaged : ContextValue.reachableOffline;
}

function reachableNode(t: ReachableTunnel, user: string | undefined): TunnelNode {
  const mine = t.role === 'owner' || (user !== undefined && user !== '' && t.owner === user);
  // Someone else's tunnel: its owner, and my role on it ("alice · connect").
  const owner = mine ? 'yours' : [t.owner, t.role].filter(Boolean).join(' · ');
  const contextValue = reachableContextValue(t, user);
  const role = !mine && t.role ? `; your role: ${t.role}${t.role === 'view' ? ' (you see it, you cannot connect: request access to connect)' : ''}` : '';
  return {
    id: `reachable/${t.name}`,
    label: t.name,
    description: `${t.online ? 'online' : 'offline'} · ${owner}`,
    tooltip: `${t.name}: ${t.online ? 'online' : 'offline'}, shared by ${t.owner}${role}`,
    contextValue,
    icon: contextValue === ContextValue.viewOnly ? 'eye' : t.online ? 'vm-running' : 'vm-outline',
    tunnel: t.name,
  };
}

function connectionNode(c: ActiveConnection, link: RelayLink | undefined): TunnelNode {
  const traffic = `↓ ${formatBytes(c.bytesIn)} ↑ ${formatBytes(c.bytesOut)}`;
  const rtt = formatRtt(c.rttMs);
  const where = c.kind === 'listener' ? `127.0.0.1:${c.localPort}` : 'SSH terminal';
  const lost = link?.state === 'reconnecting';
  return {
    id: `connection/${c.id}`,
    label: c.tunnel,
    description: [where, lost ? 'relay unreachable' : undefined, traffic, rtt].filter(Boolean).join(' · '),
    tooltip: `${c.tunnel} via ${where}: ${c.openConnections} open, ${traffic}${rtt ? `, RTT ${rtt}` : ''}${lost ? `\nRelay link lost, reconnecting${link.lastError ? `: ${link.lastError}` : ''}` : ''}`,
    contextValue: c.kind === 'listener' ? ContextValue.listener : ContextValue.terminal,
    icon: lost ? 'warning' : c.kind === 'listener' ? 'plug' : 'terminal',
    tunnel: c.tunnel,
    connectionId: c.id,
  };
}

function message(id: string, label: string): TunnelNode {
  return { id, label, contextValue: ContextValue.message, icon: 'info' };
}

/** The three groups of the Tether view; empty when signed out (the view shows its welcome). */
export function buildTunnelTree(state: ClientState): TunnelNode[] {
  if (!state.relay) return [];
  const shared = [...state.shared].sort(byName).map(sharedNode);
  const shown = state.hideOffline ? state.reachable.filter((t) => t.online) : state.reachable;
  const hidden = state.reachableError ? 0 : state.reachable.length - shown.length;
  const reachable = state.reachableError
    ? [message('reachable/error', `Could not list tunnels: ${state.reachableError}`)]
    : [...shown].sort((a, b) => Number(b.online) - Number(a.online) || byName(a, b)).map((t) => reachableNode(t, state.user));
  const connections = [...state.connections].sort((a, b) => a.tunnel.localeCompare(b.tunnel) || a.id.localeCompare(b.id)).map((c) => connectionNode(c, state.link));
  const group = (id: string, label: string, children: TunnelNode[], empty: string, note?: string): TunnelNode => ({
    id,
    label,
    description: [children.length && children[0].contextValue !== ContextValue.message ? String(children.length) : undefined, note].filter(Boolean).join(' · ') || undefined,
    contextValue: ContextValue.group,
    icon: '',
    children: children.length ? children : [message(`${id}/empty`, empty)],
  });
  // Hidden tunnels are counted, so nothing vanishes without a word.
  const hiddenNote = hidden ? `${hidden} offline hidden` : undefined;
  return [
    group('shared', 'My shared tunnels', shared, 'Nothing shared yet'),
    group('reachable', 'Tunnels I can reach', reachable, hidden ? 'No online tunnels (Show Offline Tunnels lists the others)' : 'No tunnels on this relay yet', hiddenNote),
    group('connections', 'Active connections', connections, 'No active connections'),
  ];
}

export type StatusKind = 'offline' | 'connecting' | 'idle' | 'active' | 'degraded';

export interface StatusSummary {
  kind: StatusKind;
  /** Status bar text (with codicons). */
  text: string;
  /** What a screen reader says: the text without its icons. */
  ariaLabel: string;
  tooltip: string;
  /** Something lost its relay link or failed: the item shows on a warning background. */
  warning: boolean;
}

/** "$(warning) Tether: a · b" → "Tether: a, b": icon names are not read aloud. */
export function spokenText(text: string): string {
  return text.replace(/\$\([^)]*\)\s*/g, '').replace(/ · /g, ', ').trim();
}

/**
 * The status bar item: not signed in / connecting / sharing N / connected, the RTT and the
 * relay. The state follows the relay: while the relay does not answer, or a share or the
 * connector has lost it, it says "relay unreachable" (and nothing that claims a connection)
 * until the relay is back.
 */
export function statusSummary(state: ClientState): StatusSummary {
  const summary = summarize(state);
  return { ...summary, ariaLabel: spokenText(summary.text) };
}

function summarize(state: ClientState): Omit<StatusSummary, 'ariaLabel'> {
  if (!state.relay) {
    return {
      kind: state.busy ? 'connecting' : 'offline',
      text: state.busy ? '$(sync~spin) Tether: signing in' : '$(account) Tether: not signed in',
      tooltip: state.busy ? 'Tether: signing in…' : 'Tether: not signed in. Click to sign in.',
      warning: false,
    };
  }
  const relayHost = state.relay.replace(/^[a-z]+:\/\//, '');
  const who = `${state.user ? `${state.user} @ ` : ''}${relayHost}`;
  const starting = state.busy || state.shared.some((t) => t.state === 'connecting');
  // A share that lost its link still counts as shared: the host agent is bringing it back.
  const sharing = state.shared.filter((t) => t.state === 'online' || t.state === 'reconnecting');
  const failed = state.shared.filter((t) => t.state === 'failed');
  const linkLost = state.connections.length > 0 && state.link?.state === 'reconnecting';
  const unreachable = linkLost || state.shared.some((t) => t.state === 'reconnecting') || state.relayDown === true;

  const parts: string[] = [];
  if (sharing.length) parts.push(`sharing ${sharing.length}`);
  if (state.connections.length) parts.push('connected');
  const via = (use: RelayUse | undefined): string => (use ? ` via ${describeRelayUse(use)}` : '');
  const linkLine = state.connections.length && state.link
    ? [state.link.state === 'up' ? `Relay link: up${via(state.link.relays)}` : `Relay link lost, reconnecting${state.link.lastError ? `: ${state.link.lastError}` : ''}`]
    : [];
  const tooltip = [
    `Tether: ${who}`,
    ...state.shared.map((t) => `Sharing ${t.name} (${t.state}${t.state !== 'online' && t.lastError ? `: ${t.lastError}` : ''})${t.state === 'online' ? via(t.relays) : ''}`),
    ...state.connections.map((c) => `Connected to ${c.tunnel}${c.localPort ? ` on 127.0.0.1:${c.localPort}` : ''}`),
    ...linkLine,
    ...(state.relayDown ? [`The relay does not answer${state.reachableError ? `: ${state.reachableError}` : ''}`] : []),
  ].join('\n');

  if (unreachable || failed.length) {
    // Nothing reaches anyone while the relay is unreachable: say that, not "sharing"/"connected".
    const degraded = unreachable
      ? ['relay unreachable', ...(sharing.length || state.connections.length ? ['reconnecting'] : [])]
      : parts;
    if (failed.length) degraded.push(failed.length === 1 ? `${failed[0].name} failed` : `${failed.length} shares failed`);
    return { kind: 'degraded', text: `$(warning) Tether: ${degraded.join(' · ')}`, tooltip, warning: true };
  }
  if (starting) return { kind: 'connecting', text: `$(sync~spin) Tether: connecting${parts.length ? ` · ${parts.join(' · ')}` : ''}`, tooltip, warning: false };
  // On a backup relay: say which, so nobody wonders why the RTT changed.
  const failedOver = [state.connections.length ? state.link?.relays : undefined, ...sharing.map((t) => t.relays)].find(isFailedOver);
  if (failedOver?.active) parts.push(`via ${hostOf(failedOver.active)}`);
  if (!parts.length) return { kind: 'idle', text: `$(plug) Tether: ${relayHost}`, tooltip, warning: false };
  const rtts = [...sharing.map((t) => t.rttMs), ...state.connections.map((c) => c.rttMs)].filter((ms) => ms > 0);
  const rtt = rtts.length ? formatRtt(Math.min(...rtts)) : undefined;
  const icon = sharing.length ? '$(broadcast)' : '$(plug)';
  return { kind: 'active', text: `${icon} Tether: ${parts.join(' · ')}${rtt ? ` · ${rtt}` : ''}`, tooltip, warning: false };
}

/** One entry of a view item's action menu: its title and the command run on the item. */
export interface TunnelAction {
  label: string;
  command: string;
}

/**
 * What Enter (or a click) on a view item offers, by its context value: the same commands as
 * its context menu in package.json (a test keeps the two in step), most used first.
 */
export function tunnelActions(contextValue: string): TunnelAction[] {
  const terminal = { label: '$(terminal) Open SSH Terminal', command: 'tether.openSshTerminal' };
  const remote = { label: '$(remote-explorer) Open in Remote-SSH Window', command: 'tether.openRemoteSsh' };
  const copy = { label: '$(copy) Copy SSH Command', command: 'tether.copySshCommand' };
  // Whether a tunnel serves HTTP is not known (the relay does not look): offered on every one
  // that has, or can get, a local port.
  const browser = { label: '$(globe) Open in Browser', command: 'tether.openInBrowser' };
  const user = { label: '$(account) Change SSH User…', command: 'tether.changeSshUser' };
  const connect = { label: '$(plug) Connect (local port)', command: 'tether.connect' };
  const remove = { label: '$(trash) Delete Tunnel…', command: 'tether.deleteTunnel' };
  const manage = { label: '$(organization) Manage Sharing…', command: 'tether.manageSharing' };
  const request = { label: '$(key) Request Access…', command: 'tether.requestAccess' };
  switch (contextValue) {
    case ContextValue.shared:
      return [{ label: '$(debug-stop) Stop Sharing', command: 'tether.stopSharing' }, { label: '$(debug-restart) Toggle Share on Startup', command: 'tether.toggleShareOnStartup' }, copy, manage];
    case ContextValue.reachableOnline:
      return [terminal, connect, browser, remote, copy, user];
    case ContextValue.reachableOnlineManaged:
      return [terminal, connect, browser, remote, copy, user, manage];
    case ContextValue.reachableOffline:
      return [terminal, remote, copy, user];
    case ContextValue.reachableOfflineManaged:
      return [terminal, remote, copy, user, manage];
    case ContextValue.reachableOfflineMine:
      return [terminal, remote, copy, user, manage, remove];
    case ContextValue.viewOnly:
      // Seen, not connectable: asking for more is all there is to do.
      return [request];
    case ContextValue.listener:
      return [
        terminal,
        browser,
        remote,
        { label: '$(clippy) Copy Address', command: 'tether.copyAddress' },
        copy,
        user,
        { label: '$(debug-disconnect) Disconnect', command: 'tether.disconnect' },
      ];
    case ContextValue.terminal:
      return [terminal, remote, copy, user];
    default:
      return [];
  }
}
