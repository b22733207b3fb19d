import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildTunnelTree,
  ContextValue,
  formatBytes,
  formatRtt,
  statusSummary,
  type ActiveConnection,
  type ClientState,
  type SharedTunnel,
} from './tunnel-list.js';

const state = (over: Partial<ClientState> = {}): ClientState => ({
  relay: 'http://127.0.0.1:8080',
  user: 'alice',
  busy: false,
  shared: [],
  reachable: [],
  connections: [],
  ...over,
});
const shared = (over: Partial<SharedTunnel> = {}): SharedTunnel => ({
  name: 'laptop',
  target: { host: '127.0.0.1', port: 22 },
  state: 'online',
  activeStreams: 0,
  rttMs: 0,
  ...over,
});
const connection = (over: Partial<ActiveConnection> = {}): ActiveConnection => ({
  id: 'c1',
  tunnel: 'laptop',
  kind: 'listener',
  localPort: 40022,
  openConnections: 1,
  bytesIn: 2048,
  bytesOut: 10,
  rttMs: 3.25,
  ...over,
});

describe('formatBytes and formatRtt', () => {
  const bytes: [number, string][] = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ];
  for (const [n, text] of bytes) test(`${n} bytes → ${text}`, () => assert.equal(formatBytes(n), text));
  const rtts: [number, string | undefined][] = [
    [0, undefined],
    [Number.NaN, undefined],
    [3.25, '3.3 ms'],
    [42.4, '42 ms'],
  ];
  for (const [ms, text] of rtts) test(`${ms} ms → ${text}`, () => assert.equal(formatRtt(ms), text));
});

describe('buildTunnelTree', () => {
  test('is empty when signed out', () => {
    assert.deepEqual(buildTunnelTree(state({ relay: undefined })), []);
  });

  test('shows three groups with placeholders when there is nothing', () => {
    const tree = buildTunnelTree(state());
    assert.deepEqual(tree.map((g) => g.label), ['My shared tunnels', 'Tunnels I can reach', 'Active connections']);
    for (const group of tree) {
      assert.equal(group.children?.length, 1);
      assert.equal(group.children?.[0].contextValue, ContextValue.message);
      assert.equal(group.description, undefined);
    }
  });

  test('lists shared tunnels by name with their state and target', () => {
    const tree = buildTunnelTree(state({ shared: [shared({ name: 'zeta', state: 'reconnecting', lastError: 'relay went away' }), shared({ activeStreams: 2, rttMs: 12 })] }));
    const items = tree[0].children ?? [];
    assert.deepEqual(items.map((i) => i.label), ['laptop', 'zeta']);
    assert.equal(items[0].description, '127.0.0.1:22 · 2 open · 12 ms');
    assert.equal(items[1].description, '127.0.0.1:22 · reconnecting');
    assert.match(items[1].tooltip ?? '', /relay went away/);
    assert.equal(items[0].contextValue, ContextValue.shared);
    assert.equal(items[0].tunnel, 'laptop');
    assert.equal(tree[0].description, '2');
  });

  test('lists reachable tunnels online first and marks my own', () => {
    const tree = buildTunnelTree(
      state({
        reachable: [
          { name: 'b-off', owner: 'bob', online: false },
          { name: 'z-on', owner: 'alice', online: true },
          { name: 'a-on', owner: 'bob', online: true },
        ],
      }),
    );
    const items = tree[1].children ?? [];
    assert.deepEqual(items.map((i) => i.label), ['a-on', 'z-on', 'b-off']);
    assert.deepEqual(items.map((i) => i.contextValue), [ContextValue.reachableOnline, ContextValue.reachableOnline, ContextValue.reachableOffline]);
    assert.equal(items[1].description, 'online · yours');
    assert.equal(items[2].description, 'offline · bob');
  });

  test('shows why the reachable list is missing', () => {
    const tree = buildTunnelTree(state({ reachable: [{ name: 'x', owner: 'a', online: true }], reachableError: 'relay unreachable' }));
    assert.equal(tree[1].children?.length, 1);
    assert.match(tree[1].children?.[0].label ?? '', /relay unreachable/);
    assert.equal(tree[1].description, undefined);
  });

  test('shows connections with bytes and RTT', () => {
    const tree = buildTunnelTree(state({ connections: [connection({ id: 't1', kind: 'terminal', localPort: undefined, bytesIn: 0, rttMs: 0 }), connection()] }));
    const items = tree[2].children ?? [];
    assert.deepEqual(items.map((i) => i.connectionId), ['c1', 't1']);
    assert.equal(items[0].description, '127.0.0.1:40022 · ↓ 2.0 KiB ↑ 10 B · 3.3 ms');
    assert.equal(items[1].description, 'SSH terminal · ↓ 0 B ↑ 10 B');
    assert.deepEqual(items.map((i) => i.contextValue), [ContextValue.listener, ContextValue.terminal]);
  });
});

describe('statusSummary', () => {
  const cases: [what: string, s: ClientState, kind: string, text: RegExp][] = [
    ['signed out', state({ relay: undefined }), 'offline', /Tether: offline/],
    ['signing in', state({ relay: undefined, busy: true }), 'connecting', /Tether: connecting/],
    ['signed in, idle', state(), 'idle', /Tether: 127\.0\.0\.1:8080$/],
    ['a share connecting', state({ shared: [shared({ state: 'connecting' })] }), 'connecting', /connecting$/],
    ['a share reconnecting beside one online', state({ shared: [shared({ name: 'a', state: 'reconnecting' }), shared()] }), 'connecting', /connecting · sharing 1$/],
    ['sharing two', state({ shared: [shared({ name: 'a', rttMs: 7 }), shared({ rttMs: 4 })] }), 'active', /broadcast\) Tether: sharing 2 · 4\.0 ms$/],
    ['connected', state({ connections: [connection()] }), 'active', /plug\) Tether: connected · 3\.3 ms$/],
    ['sharing and connected', state({ shared: [shared()], connections: [connection({ rttMs: 0 })] }), 'active', /Tether: sharing 1 · connected$/],
    ['a failed share only', state({ shared: [shared({ state: 'failed' })] }), 'idle', /Tether: 127\.0\.0\.1:8080$/],
  ];
  for (const [what, s, kind, text] of cases) {
    test(what, () => {
      const summary = statusSummary(s);
      assert.equal(summary.kind, kind);
      assert.match(summary.text, text);
    });
  }

  test('the tooltip names the relay, the user and each tunnel', () => {
    const { tooltip } = statusSummary(state({ shared: [shared()], connections: [connection({ tunnel: 'server' })] }));
    assert.match(tooltip, /alice @ 127\.0\.0\.1:8080/);
    assert.match(tooltip, /Sharing laptop \(online\)/);
    assert.match(tooltip, /Connected to server on 127\.0\.0\.1:40022/);
  });
});
