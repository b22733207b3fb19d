import * as vscode from 'vscode';
import { statusSummary } from '../core/index.js';
import type { StateModel } from './state.js';

/** The status bar item: state, RTT and relay; a click opens `tether.statusMenu`. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tether.status', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: StateModel) {
    this.item.name = 'Tether';
    this.item.command = 'tether.statusMenu';
    this.subscription = model.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  private render(): void {
    const summary = statusSummary(this.model.state);
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
    // Read aloud instead of the text, whose icons would be spoken as their names.
    this.item.accessibilityInformation = { label: summary.ariaLabel, role: 'button' };
    this.item.backgroundColor = summary.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** What a click on the status bar offers, given the state. */
export async function showStatusMenu(model: StateModel): Promise<void> {
  const state = model.state;
  const items: (vscode.QuickPickItem & { command: string })[] = [];
  if (!state.relay) {
    items.push({ label: '$(sign-in) Sign In to Relay', command: 'tether.signIn' });
  } else {
    items.push({ label: '$(broadcast) Share Local SSH Server', command: 'tether.shareSsh' });
    items.push({ label: '$(broadcast) Share Local Port…', command: 'tether.sharePort' });
    if (state.shared.length) items.push({ label: '$(debug-stop) Stop Sharing', command: 'tether.stopSharing' });
    items.push({ label: '$(plug) Connect to Tunnel…', command: 'tether.connect' });
    items.push({ label: '$(terminal) Open SSH Terminal', command: 'tether.openSshTerminal' });
    items.push({ label: '$(copy) Copy SSH Command', command: 'tether.copySshCommand' });
    items.push({ label: '$(remote-explorer) Open in Remote-SSH Window', command: 'tether.openRemoteSsh' });
    items.push({ label: '$(sign-out) Sign Out', description: state.relay, command: 'tether.signOut' });
  }
  items.push({ label: '$(output) Show Log', command: 'tether.showLog' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Tether', placeHolder: state.relay ? `Signed in to ${state.relay}` : 'Not signed in' });
  if (pick) await vscode.commands.executeCommand(pick.command);
}
