import * as vscode from 'vscode';
import { checkTunnelName } from '@tether/shared';
import {
  describeAcceptedInvite, describeSentRequest, inviteClaimsOf, inviteCodeFrom, readDuration, RelayApi, type TunnelRole,
} from '../core/index.js';
import type { Auth } from './auth.js';
import { Cancelled, guarded, type Notifier } from './notify.js';
import { tunnelArgument } from './pick-tunnel.js';
import type { StateModel } from './state.js';

/** The path of vscode://tether-dev.tether/invite?code=CODE (the CLI's `tether invite create` prints such links). */
const INVITE_PATH = '/invite';

const ROLE_DETAILS: Record<TunnelRole, string> = {
  connect: 'connect to the tunnel (SSH, a local port)',
  view: 'see the tunnel and whether it is online',
  admin: 'connect, and manage its members, invites and requests',
};

/** Asks for something the user may leave empty; Cancelled when dismissed. */
async function ask(options: vscode.InputBoxOptions): Promise<string> {
  const answer = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (answer === undefined) throw new Cancelled();
  return answer.trim();
}

/**
 * Tether: Accept Invite… (a code or a link typed in), the vscode://tether-dev.tether/invite?code=…
 * links (after a confirmation), and Tether: Request Access….
 */
export function registerInviteCommands(auth: Auth, model: StateModel, notifier: Notifier): vscode.Disposable[] {
  /** Accepts `code` with the relay and says what it gave: access now, or a request to wait for. */
  const accept = async (code: string): Promise<void> => {
    const credentials = await auth.require();
    const api = new RelayApi(credentials.relay, credentials.token);
    const accepted = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Tether: accepting the invite…' }, () => api.acceptInvite(code));
    const message = `Tether: ${describeAcceptedInvite(accepted)}`;
    void model.refreshReachable();
    if (accepted.request) notifier.info(message);
    else if (accepted.role === 'view') notifier.info(message, { title: 'Request Access', run: () => vscode.commands.executeCommand('tether.requestAccess', accepted.tunnel) });
    else notifier.info(message, { title: 'Connect', run: () => vscode.commands.executeCommand('tether.connect', accepted.tunnel) });
  };

  const acceptInvite = guarded(notifier, 'Accepting the invite', async (given?: unknown) => {
    const text = typeof given === 'string' ? given : await ask({
      title: 'Tether: Accept Invite…',
      prompt: 'Invite code or link (from "tether invite create", or a vscode://tether-dev.tether/invite?code=… link)',
      placeHolder: 'code or link',
      validateInput: (v) => {
        if (!v.trim()) return 'Paste the invite code or link';
        try {
          inviteCodeFrom(v);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    await accept(inviteCodeFrom(text));
  });

  /** An invite link opened from outside: what it claims is shown, unverified, before anything is sent. */
  const openInviteLink = guarded(notifier, 'Accepting the invite', async (uri: vscode.Uri) => {
    const code = inviteCodeFrom(new URLSearchParams(uri.query).get('code') ?? '');
    const claims = inviteClaimsOf(code);
    const what = claims ? `the invite to ${claims.tunnel} as ${claims.role}` : 'this invite';
    const choice = await vscode.window.showInformationMessage(
      `Accept ${what}?`,
      { modal: true, detail: 'Read from the link, not verified yet: the relay checks the invite (and who may use it) when you accept it.' },
      'Accept',
    );
    if (choice !== 'Accept') return;
    await accept(code);
  });

  const requestAccess = guarded(notifier, 'Requesting access', async (arg?: unknown) => {
    const credentials = await auth.require();
    const title = 'Tether: Request Access…';
    const tunnel = tunnelArgument(arg) ?? (await ask({
      title: `${title} (1/4)`,
      prompt: 'Tunnel name (as its owner told you)',
      placeHolder: 'tunnel',
      validateInput: (v) => (v.trim() ? checkTunnelName(v.trim())?.message : 'Enter the tunnel name'),
    }));
    const role = await vscode.window.showQuickPick(
      (['connect', 'view', 'admin'] as const).map((r) => ({ label: r, description: ROLE_DETAILS[r] })),
      { title: `${title} (2/4) ${tunnel}`, placeHolder: 'Role to ask for', ignoreFocusOut: true },
    );
    if (!role) throw new Cancelled();
    const custom = 'Custom…';
    const durations = [
      { label: '1h', description: 'one hour' },
      { label: '8h', description: 'a working day' },
      { label: '1d', description: 'a day' },
      { label: '7d', description: 'a week' },
      { label: custom, description: 'e.g. 30m, 2h, 3d, 1h30m' },
    ];
    const duration = await vscode.window.showQuickPick(durations, { title: `${title} (3/4) ${role.label} on ${tunnel}`, placeHolder: 'For how long', ignoreFocusOut: true });
    if (!duration) throw new Cancelled();
    const durationText = duration.label === custom
      ? await ask({
        title: `${title} (3/4)`,
        prompt: 'For how long (30m, 2h, 3d, 1h30m)',
        validateInput: (v) => (readDuration(v) === undefined ? 'A duration such as 30m, 2h, 3d or 1h30m' : undefined),
      })
      : duration.label;
    const durationMs = readDuration(durationText);
    const reason = await ask({ title: `${title} (4/4)`, prompt: 'Reason (optional: shown to who reviews the request)', placeHolder: 'why you need it' });
    const api = new RelayApi(credentials.relay, credentials.token);
    const request = await api.requestAccess(tunnel, { role: role.label, durationMs, reason: reason || undefined });
    notifier.info(`Tether: ${describeSentRequest(request)}`, {
      title: 'Copy Request ID',
      run: () => vscode.env.clipboard.writeText(request.id),
    });
    if (request.status === 'approved') void model.refreshReachable();
  });

  return [
    vscode.commands.registerCommand('tether.acceptInvite', acceptInvite),
    vscode.commands.registerCommand('tether.requestAccess', requestAccess),
    vscode.window.registerUriHandler({
      handleUri: (uri) => {
        if (uri.path === INVITE_PATH) void openInviteLink(uri);
        else notifier.warn(`Tether: this link (${uri.path}) is not one Tether knows: invite links end in /invite?code=….`);
      },
    }),
  ];
}
