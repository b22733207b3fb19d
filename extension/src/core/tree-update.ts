import type { TunnelNode } from './tunnel-list.js';

/** The ids of a tree, nested as the tree is: equal keys mean the same rows in the same places. */
function shapeKey(nodes: TunnelNode[]): string {
  return nodes.map((n) => `${n.id}${n.children ? `[${shapeKey(n.children)}]` : ''}`).join(',');
}

/** The fields of a node that VS Code shows or passes to commands (not its children). */
const FIELDS = ['label', 'description', 'tooltip', 'contextValue', 'icon', 'tunnel', 'connectionId'] as const;

function walk(nodes: TunnelNode[], visit: (node: TunnelNode) => void): void {
  for (const node of nodes) {
    visit(node);
    if (node.children) walk(node.children, visit);
  }
}

/**
 * Brings the view's tree from `previous` to `next` with as little re-rendering as possible.
 * When the rows are the same (ids, order, nesting), the previous node objects are kept — VS Code
 * knows tree elements by identity — and updated in place; `changed` lists those whose fields
 * differ (often none: the view is left alone). Otherwise the new tree replaces it ('all').
 * A full refresh rebuilds every row and drops a click that lands meanwhile, so it is kept for
 * when rows come or go.
 */
export function reconcileTree(previous: TunnelNode[] | undefined, next: TunnelNode[]): { roots: TunnelNode[]; changed: TunnelNode[] | 'all' } {
  if (!previous || shapeKey(previous) !== shapeKey(next)) return { roots: next, changed: 'all' };
  const fresh = new Map<string, TunnelNode>();
  walk(next, (node) => fresh.set(node.id, node));
  const changed: TunnelNode[] = [];
  walk(previous, (node) => {
    const update = fresh.get(node.id)!;
    if (FIELDS.every((f) => node[f] === update[f])) return;
    for (const f of FIELDS) {
      if (update[f] === undefined) delete node[f];
      else (node as unknown as Record<string, unknown>)[f] = update[f];
    }
    changed.push(node);
  });
  return { roots: previous, changed };
}
