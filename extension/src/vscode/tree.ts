import * as vscode from 'vscode';
import { buildTunnelTree, tunnelActions, type TunnelNode } from '../core/index.js';
import type { StateModel } from './state.js';

/** The Tether view: my shared tunnels, tunnels I can reach, active connections. */
export class TunnelTreeProvider implements vscode.TreeDataProvider<TunnelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: StateModel) {
    this.subscription = model.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: TunnelNode): TunnelNode[] {
    return element ? (element.children ?? []) : buildTunnelTree(this.model.state);
  }

  getTreeItem(node: TunnelNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.children ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    // Enter (or a click) on a tunnel or connection offers what its context menu offers.
    if (tunnelActions(node.contextValue).length > 0) {
      item.command = { command: 'tether.tunnelActions', title: 'Actions', arguments: [node] };
      item.accessibilityInformation = { label: [node.label, node.description].filter(Boolean).join(', '), role: 'treeitem' };
    }
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** tether.tunnelActions: the actions of a view item in a quick pick (its default action). */
export async function showTunnelActions(node: TunnelNode): Promise<void> {
  const actions = tunnelActions(node.contextValue);
  if (actions.length === 0) return;
  const pick = await vscode.window.showQuickPick(actions, { title: `Tether: ${node.label}`, placeHolder: 'Action' });
  if (pick) await vscode.commands.executeCommand(pick.command, node);
}
