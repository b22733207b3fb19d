import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { ErrorCode } from '@tether/shared';
import {
  describeReviewed, readableTime, readPanelMessage, RelayApi, roleManages, type PanelRequest, type PanelState, type PanelUpdate,
} from '../core/index.js';
import type { Auth, Credentials } from './auth.js';
import { describeFailure } from './failures.js';
import type { Logger } from './logger.js';
import { Cancelled, guarded, type Notifier } from './notify.js';
import { tunnelArgument } from './pick-tunnel.js';
import type { RequestNotifications } from './request-notifications.js';

/** The link that opens an invite in VS Code (what `tether invite create` prints too). */
export const inviteLink = (code: string): string => `vscode://tether-dev.tether/invite?code=${encodeURIComponent(code)}`;

/** The bundled webview script, next to extension.js (esbuild.mjs writes it). */
const SCRIPT = ['webview', 'sharing.js'];

/** What each panel message does, for error sentences ("Removing mia failed: …"). */
function doing(message: PanelRequest, tunnel: string, members: ReadonlySet<string>): string {
  switch (message.type) {
    case 'setMember': return members.has(message.user) ? `Changing ${message.user}'s role on ${tunnel}` : `Adding ${message.user} to ${tunnel}`;
    case 'removeMember': return `Removing ${message.user} from ${tunnel}`;
    case 'blockMember': return `${message.blocked ? 'Blocking' : 'Unblocking'} ${message.user} on ${tunnel}`;
    case 'createInvite': return `Creating an invite to ${tunnel}`;
    case 'copyInviteLink': return 'Copying the invite link';
    case 'revokeInvite': return `Revoking invite ${message.id}`;
    case 'review': return `${message.decision === 'approve' ? 'Approving' : 'Denying'} request ${message.id}`;
    case 'updateSettings': return `Changing the settings of ${tunnel}`;
    default: return `Loading the sharing of ${tunnel}`;
  }
}

/** One tunnel's sharing panel: the webview shows, the extension host asks the relay. */
class SharingPanel implements vscode.Disposable {
  private readonly created: PanelState['created'] = [];
  /** The members the panel shows (as last loaded): whether a role change adds someone. */
  private members = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly api: RelayApi;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly tunnel: string,
    readonly credentials: Credentials,
    private readonly logger: Logger,
    private readonly requests: RequestNotifications,
  ) {
    this.api = new RelayApi(credentials.relay, credentials.token);
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = readPanelMessage(raw);
        if (!message) {
          // Nothing is sent to the relay; the panel is told, in case a person typed something odd.
          this.logger.warn(`sharing panel ${tunnel}: dropped a message that is not part of the protocol`);
          this.post({ type: 'error', message: `The panel asked for something the extension does not accept (a user name the relay would refuse, say): nothing was sent [${ErrorCode.INVALID_ARGUMENT}]` });
          return;
        }
        void this.handle(message);
      }),
      requests.onDidChange((request) => {
        if (request.tunnel === tunnel) void this.load();
      }),
    );
  }

  private post(update: PanelUpdate): void {
    void this.panel.webview.postMessage(update);
  }

  /** Reads everything the panel shows from the relay and posts it. */
  async load(): Promise<void> {
    const [list, invites, settings, requests] = await Promise.all([
      this.api.members(this.tunnel),
      this.api.invites(this.tunnel),
      this.api.tunnelSettings(this.tunnel),
      this.api.accessRequests(true),
    ]);
    this.members = new Set(list.members.map((m) => m.user));
    const mine = requests.filter((r) => r.tunnel === this.tunnel && r.status === 'pending' && r.user !== this.credentials.user);
    this.post({
      type: 'state',
      state: { tunnel: this.tunnel, owner: list.owner, me: this.credentials.user, members: list.members, invites, settings, requests: mine, created: this.created },
    });
  }

  private async handle(message: PanelRequest): Promise<void> {
    this.post({ type: 'busy', busy: true });
    try {
      const notice = await this.run(message);
      if (notice) this.post({ type: 'notice', message: notice });
      if (message.type !== 'copyInviteLink') await this.load();
    } catch (err) {
      const advice = describeFailure(err, doing(message, this.tunnel, this.members), false);
      this.logger.error(advice.message);
      this.post({ type: 'error', message: advice.message });
    } finally {
      this.post({ type: 'busy', busy: false });
    }
  }

  /** Does what the message asks; resolves with what to tell the user, if anything. */
  private async run(message: PanelRequest): Promise<string | undefined> {
    const { api, tunnel } = this;
    switch (message.type) {
      case 'ready':
      case 'refresh':
        return undefined;
      case 'setMember': {
        const m = await api.setMember(tunnel, message.user, message.role, message.expiresAt);
        return `${m.user} is now ${m.role} on ${tunnel}${m.expiresAt ? ` until ${readableTime(m.expiresAt)}` : ''}.`;
      }
      case 'removeMember':
        await api.removeMember(tunnel, message.user);
        return `Removed ${message.user}: their open connections to ${tunnel} are closed.`;
      case 'blockMember':
        await api.blockMember(tunnel, message.user, message.blocked);
        return message.blocked ? `Blocked ${message.user} on ${tunnel}.` : `Unblocked ${message.user} on ${tunnel}.`;
      case 'createInvite': {
        const { code, invite } = await api.createInvite(tunnel, { role: message.role, expiresInMs: message.expiresInMs, uses: message.uses });
        this.created.unshift({ id: invite.id, code, link: inviteLink(code) });
        return `Invite ${invite.id} created: ${invite.role}, ${invite.maxUses} use${invite.maxUses === 1 ? '' : 's'}, until ${readableTime(invite.expiresAt)}.`;
      }
      case 'copyInviteLink': {
        const invite = this.created.find((c) => c.id === message.id);
        if (!invite) return `The code of invite ${message.id} is not known here (the relay shows a code only when it is created).`;
        await vscode.env.clipboard.writeText(invite.link);
        return `Copied the link of invite ${message.id}.`;
      }
      case 'revokeInvite':
        await api.revokeInvite(message.id);
        return `Revoked invite ${message.id}.`;
      case 'review': {
        const reviewed = await api.reviewRequest(message.id, message.decision, message.reason.trim() || undefined);
        void this.requests.refresh();
        return describeReviewed(reviewed, message.decision);
      }
      case 'updateSettings':
        await api.updateTunnelSettings(tunnel, message.patch);
        return `Saved the settings of ${tunnel}.`;
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

/** Tether: Manage Sharing…: one panel per tunnel (opened again, it comes to the front). */
export class SharingPanels implements vscode.Disposable {
  private readonly panels = new Map<string, SharingPanel>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly auth: Auth,
    private readonly notifier: Notifier,
    private readonly logger: Logger,
    private readonly requests: RequestNotifications,
  ) {
    // A panel acts as the identity that opened it: signed out, or in as someone else, it closes.
    this.subscription = auth.onDidChange((credentials) => {
      for (const view of [...this.panels.values()]) if (view.credentials !== credentials) view.panel.dispose();
    });
  }

  register(): vscode.Disposable[] {
    const manage = guarded(this.notifier, 'Opening the sharing panel', async (arg?: unknown) => {
      const credentials = await this.auth.require();
      const tunnel = tunnelArgument(arg) ?? (await this.pick(credentials));
      await this.open(credentials, tunnel);
    });
    return [vscode.commands.registerCommand('tether.manageSharing', manage)];
  }

  /** The tunnels this identity manages (owns, administers, or any as the relay's admin). */
  private async pick(credentials: Credentials): Promise<string> {
    const api = new RelayApi(credentials.relay, credentials.token);
    const managed = (await api.tunnels())
      .filter((t) => t.owner === credentials.user || roleManages(t.role))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (managed.length === 0) {
      this.notifier.info('Tether: you manage no tunnels here: share one first, or ask its owner to make you an admin.');
      throw new Cancelled();
    }
    const pick = await vscode.window.showQuickPick(
      managed.map((t) => ({ label: t.name, description: `${t.online ? 'online' : 'offline'} · ${t.owner === credentials.user ? 'yours' : `${t.owner} · ${t.role ?? ''}`}` })),
      { title: 'Tether: Manage Sharing…', placeHolder: 'Tunnel whose sharing to manage' },
    );
    if (!pick) throw new Cancelled();
    return pick.label;
  }

  private async open(credentials: Credentials, tunnel: string): Promise<void> {
    const existing = this.panels.get(tunnel);
    if (existing) {
      existing.panel.reveal();
      await existing.load();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, SCRIPT[0]);
    const panel = vscode.window.createWebviewPanel('tether.sharing', `Sharing: ${tunnel}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root],
      retainContextWhenHidden: true,
    });
    const view = new SharingPanel(panel, tunnel, credentials, this.logger, this.requests);
    this.panels.set(tunnel, view);
    panel.onDidDispose(() => {
      view.dispose();
      if (this.panels.get(tunnel) === view) this.panels.delete(tunnel);
    });
    panel.webview.html = this.html(panel.webview, tunnel);
    // The first state goes out when the webview says it is ready (its listener is then in place).
  }

  private html(webview: vscode.Webview, tunnel: string): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...SCRIPT));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    const title = tunnel.replace(/[^A-Za-z0-9._-]/g, '');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Sharing: ${title}</title>
</head>
<body>
<main id="app" data-nonce="${nonce}"><p>Loading the sharing of ${title}…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.subscription.dispose();
    for (const view of [...this.panels.values()]) view.panel.dispose();
    this.panels.clear();
  }
}
