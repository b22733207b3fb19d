import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tunnelPickItems, type ListedTunnel } from './tunnel-pick-items.js';

const listed: ListedTunnel[] = [
  { name: 'b-off', owner: 'bob', online: false },
  { name: 'z-on', owner: 'alice', online: true },
  { name: 'a-on', owner: 'bob', online: true },
];

describe('tunnelPickItems', () => {
  test('lists online tunnels first, then by name, and marks my own', () => {
    assert.deepEqual(tunnelPickItems(listed, 'alice', ''), [
      { label: 'a-on', description: 'online · bob' },
      { label: 'z-on', description: 'online · yours' },
      { label: 'b-off', description: 'offline · bob' },
    ]);
  });

  test('offers a typed name that is not listed, first and whatever the filter', () => {
    const items = tunnelPickItems(listed, 'alice', ' bobs-box ');
    assert.deepEqual(items[0], { label: 'bobs-box', description: 'not in your list · use this name', alwaysShow: true });
    assert.equal(items.length, 4);
  });

  const noExtraRow: [what: string, typed: string][] = [
    ['nothing typed', ''],
    ['a listed name', 'z-on'],
    ['a filter that is not a valid name', 'Z_ON'],
    ['a name ending in a dash', 'half-'],
  ];
  for (const [what, typed] of noExtraRow) {
    test(`no extra row for ${what}`, () => assert.equal(tunnelPickItems(listed, 'alice', typed).length, 3));
  }

  test('a typed name works with an empty list', () => {
    assert.deepEqual(tunnelPickItems([], undefined, 'x').map((i) => i.label), ['x']);
  });
});
