import * as vscode from 'vscode';
import { DiagnosticsModel, type TunnelNode } from '../core/index.js';
import { Auth } from './auth.js';
import { TetherAuthProvider } from './auth-provider.js';
import { registerAuthCommands } from './commands-auth.js';
import { registerBrowserCommands } from './commands-browser.js';
import { registerConnectCommands } from './commands-connect.js';
import { registerInviteCommands } from './commands-invites.js';
import { registerRemoteCommand } from './commands-remote.js';
import { registerShareCommands } from './commands-share.js';
import { registerTerminalCommand } from './commands-terminal.js';
import { registerTunnelCommands } from './commands-tunnel.js';
import { Config } from './config.js';
import { registerExportCommand } from './diagnostics-export.js';
import { DiagnosticsPanel } from './diagnostics-panel.js';
import { DiagnosticsSources } from './diagnostics-sources.js';
import { Connections } from './connections.js';
import { Logger } from './logger.js';
import { Notifier } from './notify.js';
import { registerOfflineFilter } from './offline-filter.js';
import { RequestNotifications } from './request-notifications.js';
import { SavedSessions } from './saved-sessions.js';
import { Sharing } from './sharing.js';
import { SharingPanels } from './sharing-panel.js';
import { registerSshUserCommand, SshUsers } from './ssh-users.js';
import { StateModel } from './state.js';
import { registerStartupShareCommand, StartupShares } from './startup-shares.js';
import { showStatusMenu, StatusBar } from './status-bar.js';
import { registerTokenCommands } from './token-copy.js';
import { showTunnelActions, TunnelTreeProvider } from './tree.js';

/** The composition root: builds every service and hands each disposable to VS Code. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const logger = new Logger();
  const config = new Config(logger);
  const notifier = new Notifier(logger);
  const auth = new Auth(context, config, logger);
  // Events, failovers and errors for the diagnostics panel and bundle (samples only while the panel is open).
  const diagnostics = new DiagnosticsModel();
  const sharing = new Sharing(config, logger, notifier, diagnostics);
  const connections = new Connections(context, config, logger, notifier, diagnostics);
  const model = new StateModel(auth, sharing, connections, logger);
  const saved = new SavedSessions(context.workspaceState, auth, sharing, connections, logger);
  const startup = new StartupShares(config, sharing, notifier, logger, saved);
  const tree = new TunnelTreeProvider(model);
  const treeView = vscode.window.createTreeView('tether.tunnels', { treeDataProvider: tree });
  const users = new SshUsers(context.globalState, config);
  const requests = new RequestNotifications(auth, notifier, logger);
  const panels = new SharingPanels(context.extensionUri, auth, notifier, logger, requests);
  const diagnosticSources = new DiagnosticsSources(diagnostics, connections, sharing);
  const diagnosticsPanel = new DiagnosticsPanel(context.extensionUri, diagnosticSources, logger);
  context.subscriptions.push(diagnosticsPanel, panels, requests, sharing, connections, model, tree, auth, config, logger);

  context.subscriptions.push(
    treeView,
    new StatusBar(model),
    auth.onDidChange((credentials) => void vscode.commands.executeCommand('setContext', 'tether.signedIn', credentials !== undefined)),
    ...registerAuthCommands(auth, sharing, connections, notifier, saved),
    ...registerShareCommands(auth, config, sharing, notifier, saved),
    ...registerConnectCommands(context, auth, config, connections, users, notifier, saved),
    ...registerBrowserCommands(auth, connections, notifier, saved),
    ...registerTerminalCommand(auth, config, connections, users, notifier, logger, diagnostics),
    ...registerRemoteCommand(auth, config, connections, users, notifier),
    ...registerSshUserCommand(auth, config, users, notifier),
    ...registerStartupShareCommand(auth, sharing, notifier),
    ...registerTunnelCommands(auth, sharing, model, notifier),
    ...registerTokenCommands(auth, notifier),
    ...registerInviteCommands(auth, model, notifier),
    ...panels.register(),
    ...diagnosticsPanel.register(),
    registerExportCommand(context, auth, diagnosticSources, notifier, logger),
    ...registerOfflineFilter(context, model),
    vscode.commands.registerCommand('tether.refresh', () => model.refreshReachable()),
    vscode.commands.registerCommand('tether.showLog', () => logger.show()),
    vscode.commands.registerCommand('tether.statusMenu', () => showStatusMenu(model)),
    vscode.commands.registerCommand('tether.tunnelActions', (node?: TunnelNode) => showTunnelActions(node, treeView)),
  );

  await vscode.commands.executeCommand('setContext', 'tether.signedIn', false);
  try {
    await auth.restore();
  } catch (err) {
    notifier.failure(err, 'Restoring the sign-in', () => auth.restore());
  }
  // The Accounts menu: the Tether identity with Sign Out, or "Sign in with Tether" while signed out.
  // Registered after restore() so VS Code's first question already finds the stored session.
  const accounts = new TetherAuthProvider(auth, logger);
  context.subscriptions.push(accounts);
  // The offer puts a badge on the Accounts icon: only for someone who uses Tether here (a relay
  // in the settings, or a sign-in before), not for everyone who merely has it installed.
  const EVER_SIGNED_IN = 'tether.everSignedIn';
  context.subscriptions.push(auth.onDidChange((signedIn) => {
    if (signedIn) void context.globalState.update(EVER_SIGNED_IN, true);
  }));
  if (config.settings.relayUrls.length > 0 || context.globalState.get<boolean>(EVER_SIGNED_IN)) void accounts.offerSignIn();
  // What this window shared and listened for before a reload or restart comes back (in the
  // background: activation does not wait for relays).
  // Then tether.shareOnStartup: what this machine shares whenever VS Code starts signed in (what
  // was restored is not shared twice), and again after each sign-in.
  const credentials = auth.credentials;
  const restoring = credentials && vscode.workspace.getConfiguration('tether').get<boolean>('restoreSessions', true) ? saved.restore(credentials, notifier) : Promise.resolve();
  void restoring.then(() => {
    if (credentials && auth.credentials === credentials) return startup.run(credentials);
  });
  context.subscriptions.push(
    auth.onDidChange((signedIn) => {
      if (!signedIn) startup.reset();
      else if (signedIn !== credentials) void restoring.then(() => startup.run(signedIn));
    }),
  );
  logger.info(`Tether ${(context.extension.packageJSON as { version?: string }).version ?? ''} activated`);
}

/** Everything is in context.subscriptions; VS Code disposes it. */
export function deactivate(): void {}
