import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reconcileTree } from './tree-update.js';
import type { TunnelNode } from './tunnel-list.js';

const tree = (bytes: string, extra: TunnelNode[] = []): TunnelNode[] => [
  { id: 'g:shared', label: 'My shared tunnels', contextValue: 'tether.group', icon: '', children: [{ id: 's:laptop', label: 'laptop', description: '127.0.0.1:22', contextValue: 'tether.shared', icon: 'broadcast', tunnel: 'laptop' }] },
  { id: 'g:conn', label: 'Active connections', contextValue: 'tether.group', icon: '', children: [{ id: 'c:1', label: 'laptop', description: bytes, contextValue: 'tether.connection.listener', icon: 'plug', connectionId: '1' }, ...extra] },
];

describe('reconcileTree', () => {
  test('the first tree, or rows that come or go: a full refresh with the new nodes', () => {
    const first = tree('1 KiB');
    assert.deepEqual(reconcileTree(undefined, first), { roots: first, changed: 'all' });
    const more = tree('1 KiB', [{ id: 'c:2', label: 'web', contextValue: 'tether.connection.terminal', icon: 'terminal' }]);
    assert.deepEqual(reconcileTree(first, more), { roots: more, changed: 'all' });
  });

  test('nothing changed: the previous nodes, nothing to re-render', () => {
    const previous = tree('1 KiB');
    const { roots, changed } = reconcileTree(previous, tree('1 KiB'));
    assert.equal(roots, previous);
    assert.deepEqual(changed, []);
  });

  test('a description changed: that node only, updated in place (the same object VS Code knows)', () => {
    const previous = tree('1 KiB');
    const row = previous[1].children![0];
    const { roots, changed } = reconcileTree(previous, tree('2 KiB'));
    assert.equal(roots, previous);
    assert.deepEqual(changed, [row]);
    assert.equal(row.description, '2 KiB');
  });

  test('a field that went away is removed, not left stale', () => {
    const previous = tree('1 KiB');
    const next = tree('1 KiB');
    delete next[0].children![0].description;
    const { changed } = reconcileTree(previous, next);
    assert.equal(changed.length, 1);
    assert.ok(!('description' in previous[0].children![0]));
  });
});
