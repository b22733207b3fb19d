import * as vscode from 'vscode';
import type { StateModel } from './state.js';

const KEY = 'tether.hideOffline';
/** The context key that swaps Hide Offline Tunnels for Show Offline Tunnels in the view's title. */
const CONTEXT_KEY = 'tether.offlineHidden';

/** Tether: Hide / Show Offline Tunnels, remembered across windows and restarts (globalState). */
export function registerOfflineFilter(context: vscode.ExtensionContext, model: StateModel): vscode.Disposable[] {
  const apply = async (hide: boolean): Promise<void> => {
    model.setHideOffline(hide);
    await vscode.commands.executeCommand('setContext', CONTEXT_KEY, hide);
  };
  const set = async (hide: boolean): Promise<void> => {
    await context.globalState.update(KEY, hide);
    await apply(hide);
  };
  void apply(context.globalState.get<boolean>(KEY, false));
  return [
    vscode.commands.registerCommand('tether.hideOffline', () => set(true)),
    vscode.commands.registerCommand('tether.showOffline', () => set(false)),
  ];
}
