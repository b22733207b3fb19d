import * as vscode from 'vscode';
import { buildTunnelTree, type TunnelNode } from '../core/index.js';
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
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
