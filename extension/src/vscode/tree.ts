import * as vscode from 'vscode';
import { buildTunnelTree, reconcileTree, tunnelActions, type TunnelNode } from '../core/index.js';
import type { StateModel } from './state.js';

/** The Tether view: my shared tunnels, tunnels I can reach, active connections. */
export class TunnelTreeProvider implements vscode.TreeDataProvider<TunnelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TunnelNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** The rows VS Code shows: kept, and updated in place, while only their texts change. */
  private roots: TunnelNode[] | undefined;

  constructor(private readonly model: StateModel) {
    this.subscription = model.onDidChange(() => {
      // The model ticks every 2 s while anything is active: only rows whose text changed are
      // re-rendered, so a click on another row is never lost to a refresh of the whole view.
      const { roots, changed } = reconcileTree(this.roots, buildTunnelTree(this.model.state));
      this.roots = roots;
      if (changed === 'all') this.changed.fire(undefined);
      else if (changed.length > 0) this.changed.fire(changed);
    });
  }

  getChildren(element?: TunnelNode): TunnelNode[] {
    if (element) return element.children ?? [];
    this.roots ??= buildTunnelTree(this.model.state);
    return this.roots;
  }

  getTreeItem(node: TunnelNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, node.children ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    // Enter (or a click) on a tunnel or connection offers what its context menu offers. The
    // command carries no arguments on purpose: VS Code wraps a command with arguments in a
    // handle that dies when the row is re-rendered, and rows with traffic and round-trip time
    // re-render every 2 s, so a click landing at that moment did nothing. The handler reads
    // the row from the view's selection instead, which the click sets first.
    if (tunnelActions(node.contextValue).length > 0) {
      item.command = { command: 'tether.tunnelActions', title: 'Actions' };
      item.accessibilityInformation = { label: [node.label, node.description].filter(Boolean).join(', '), role: 'treeitem' };
    }
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/**
 * tether.tunnelActions: the actions of a view item in a quick pick (its default action): the
 * node given, or else the row selected in the view (a click or Enter on a row).
 */
export async function showTunnelActions(given: TunnelNode | undefined, view: vscode.TreeView<TunnelNode>): Promise<void> {
  const node = given ?? view.selection[0];
  if (!node) return;
  const actions = tunnelActions(node.contextValue);
  if (actions.length === 0) return;
  const pick = await vscode.window.showQuickPick(actions, { title: `Tether: ${node.label}`, placeHolder: 'Action' });
  if (pick) await vscode.commands.executeCommand(pick.command, node);
}
