import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAILBACK, NO_RELAY, PREFERRED } from './pool-reason.js';
import type { PoolState } from './pool-state.js';
import {
  buildTunnelTree,
  ContextValue,
  describeRelayUse,
  formatBytes,
  formatRtt,
  isFailedOver,
  relayChangeLine,
  relayUse,
  spokenText,
  tunnelActions,
  statusSummary,
  type ActiveConnection,
  type ClientState,
  type RelayUse,
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

  test('connections waiting for their far end to resume are counted apart from live ones', () => {
    const tree = buildTunnelTree(state({ shared: [shared({ activeStreams: 5, resumingStreams: 2, rttMs: 0 })] }));
    assert.equal(tree[0].children?.[0].description, '127.0.0.1:22 · 3 open · 2 resuming');
    const idle = buildTunnelTree(state({ shared: [shared({ activeStreams: 1, resumingStreams: 1, rttMs: 0 })] }));
    assert.equal(idle[0].children?.[0].description, '127.0.0.1:22 · 1 resuming');
  });

  test('a target where nothing listens is marked, with a warning icon and a tooltip that says what to do', () => {
    const [node] = buildTunnelTree(state({ shared: [shared({ targetDown: true, rttMs: 0 })] }))[0].children ?? [];
    assert.equal(node.description, '127.0.0.1:22 · nothing listens there');
    assert.equal(node.icon, 'warning');
    assert.match(node.tooltip ?? '', /Nothing listens on 127\.0\.0\.1:22: connections through laptop are refused until something does\./);
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
    assert.deepEqual(items.map((i) => i.contextValue), [ContextValue.reachableOnline, ContextValue.reachableOnlineManaged, ContextValue.reachableOffline]);
    assert.equal(items[1].description, 'online · yours');
    assert.equal(items[2].description, 'offline · bob');
  });

  test('marks the offline tunnels I own, so they can be deleted (an online one cannot be)', () => {
    const tree = buildTunnelTree(
      state({
        reachable: [
          { name: 'a', owner: 'alice', online: true },
          { name: 'b', owner: 'alice', online: false },
          { name: 'c', owner: 'bob', online: false },
        ],
      }),
    );
    assert.deepEqual(tree[1].children?.map((i) => i.contextValue), [ContextValue.reachableOnlineManaged, ContextValue.reachableOfflineMine, ContextValue.reachableOffline]);
    // An unknown user name (restored without one) owns nothing.
    const unknown = buildTunnelTree(state({ user: '', reachable: [{ name: 'x', owner: '', online: false }] }));
    assert.equal(unknown[1].children?.[0].contextValue, ContextValue.reachableOffline);
  });

  describe('hiding offline tunnels', () => {
    const reachable = [
      { name: 'on', owner: 'bob', online: true },
      { name: 'off1', owner: 'bob', online: false },
      { name: 'off2', owner: 'alice', online: false },
    ];
    test('leaves them out and says how many are hidden', () => {
      const [, group] = buildTunnelTree(state({ reachable, hideOffline: true }));
      assert.deepEqual(group.children?.map((i) => i.label), ['on']);
      assert.equal(group.description, '1 · 2 offline hidden');
    });
    test('when every tunnel is offline, the placeholder says where they went', () => {
      const [, group] = buildTunnelTree(state({ reachable: reachable.slice(1), hideOffline: true }));
      assert.equal(group.children?.length, 1);
      assert.equal(group.children?.[0].contextValue, ContextValue.message);
      assert.match(group.children?.[0].label ?? '', /No online tunnels \(Show Offline Tunnels lists the others\)/);
      assert.equal(group.description, '2 offline hidden');
    });
    test('shows everything, with no note, when off or when nothing is offline', () => {
      assert.equal(buildTunnelTree(state({ reachable, hideOffline: false }))[1].description, '3');
      assert.equal(buildTunnelTree(state({ reachable: reachable.slice(0, 1), hideOffline: true }))[1].description, '1');
      assert.equal(buildTunnelTree(state({ hideOffline: true }))[1].children?.[0].label, 'No tunnels on this relay yet');
    });
    test('a listing error is shown as is, with no count', () => {
      const [, group] = buildTunnelTree(state({ reachable, hideOffline: true, reachableError: 'relay unreachable' }));
      assert.equal(group.description, undefined);
      assert.match(group.children?.[0].label ?? '', /relay unreachable/);
    });
  });

  test('shows why the reachable list is missing', () => {
    const tree = buildTunnelTree(state({ reachable: [{ name: 'x', owner: 'a', online: true }], reachableError: 'relay unreachable' }));
    assert.equal(tree[1].children?.length, 1);
    assert.match(tree[1].children?.[0].label ?? '', /relay unreachable/);
    assert.equal(tree[1].description, undefined);
  });

  test('marks connections whose relay link is lost', () => {
    const tree = buildTunnelTree(state({ connections: [connection({ rttMs: 0 })], link: { state: 'reconnecting', lastError: 'relay went away' } }));
    const [item] = tree[2].children ?? [];
    assert.equal(item.description, '127.0.0.1:40022 · relay unreachable · ↓ 2.0 KiB ↑ 10 B');
    assert.equal(item.icon, 'warning');
    assert.match(item.tooltip ?? '', /relay went away/);
    const up = buildTunnelTree(state({ connections: [connection({ rttMs: 0 })], link: { state: 'up' } }));
    assert.equal(up[2].children?.[0].icon, 'plug');
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
  const lost = { state: 'reconnecting' as const, lastError: 'cannot reach relay at http://127.0.0.1:8080' };
  const cases: [what: string, s: ClientState, kind: string, text: RegExp, warning: boolean][] = [
    ['signed out', state({ relay: undefined }), 'offline', /^\$\(account\) Tether: not signed in$/, false],
    ['signing in', state({ relay: undefined, busy: true }), 'connecting', /Tether: signing in$/, false],
    ['signed in, idle', state(), 'idle', /Tether: 127\.0\.0\.1:8080$/, false],
    ['a share connecting', state({ shared: [shared({ state: 'connecting' })] }), 'connecting', /connecting$/, false],
    ['a share starting beside one online', state({ shared: [shared({ name: 'a', state: 'connecting' }), shared()] }), 'connecting', /connecting · sharing 1$/, false],
    ['sharing two', state({ shared: [shared({ name: 'a', rttMs: 7 }), shared({ rttMs: 4 })] }), 'active', /broadcast\) Tether: sharing 2 · 4\.0 ms$/, false],
    ['connected, link up', state({ connections: [connection()], link: { state: 'up' } }), 'active', /plug\) Tether: connected · 3\.3 ms$/, false],
    ['sharing and connected', state({ shared: [shared()], connections: [connection({ rttMs: 0 })] }), 'active', /Tether: sharing 1 · connected$/, false],
    // The relay links, not the local listeners, decide: a listener alone is not "connected".
    ['a share lost its relay', state({ shared: [shared({ state: 'reconnecting', rttMs: 5 })] }), 'degraded', /warning\) Tether: relay unreachable · reconnecting$/, true],
    ['one of two shares lost its relay', state({ shared: [shared({ name: 'a', state: 'reconnecting' }), shared()] }), 'degraded', /Tether: relay unreachable · reconnecting$/, true],
    ['a listener whose link is lost (never "connected" then)', state({ connections: [connection()], link: lost }), 'degraded', /warning\) Tether: relay unreachable · reconnecting$/, true],
    ['sharing online, the connector lost its link', state({ shared: [shared()], connections: [connection()], link: lost }), 'degraded', /Tether: relay unreachable · reconnecting$/, true],
    ['signed in, the relay does not answer (down at start)', state({ relayDown: true, reachableError: 'nothing listens at http://127.0.0.1:8080' }), 'degraded', /^\$\(warning\) Tether: relay unreachable$/, true],
    ['a lost link with nothing using it', state({ link: lost }), 'idle', /Tether: 127\.0\.0\.1:8080$/, false],
    ['relay down while a share is starting', state({ busy: true, connections: [connection()], link: lost }), 'degraded', /Tether: relay unreachable · reconnecting$/, true],
    ['a failed share only', state({ shared: [shared({ state: 'failed' })] }), 'degraded', /warning\) Tether: laptop failed$/, true],
    ['two failed shares beside one online', state({ shared: [shared({ name: 'a', state: 'failed' }), shared({ name: 'b', state: 'failed' }), shared()] }), 'degraded', /Tether: sharing 1 · 2 shares failed$/, true],
  ];
  for (const [what, s, kind, text, warning] of cases) {
    test(what, () => {
      const summary = statusSummary(s);
      assert.equal(summary.kind, kind);
      assert.match(summary.text, text);
      assert.equal(summary.warning, warning);
    });
  }

  test('the screen-reader label is the text without icon names', () => {
    assert.equal(statusSummary(state({ relay: undefined })).ariaLabel, 'Tether: not signed in');
    assert.equal(statusSummary(state({ shared: [shared({ name: 'a', rttMs: 7 }), shared({ rttMs: 4 })] })).ariaLabel, 'Tether: sharing 2, 4.0 ms');
    assert.equal(statusSummary(state({ connections: [connection()], link: lost })).ariaLabel, 'Tether: relay unreachable, reconnecting');
    assert.equal(spokenText('$(sync~spin) Tether: connecting · sharing 1'), 'Tether: connecting, sharing 1');
  });

  test('the tooltip says the relay does not answer, and why', () => {
    const { tooltip } = statusSummary(state({ relayDown: true, reachableError: 'nothing listens at http://127.0.0.1:8080 (connection refused)' }));
    assert.match(tooltip, /^The relay does not answer: nothing listens at http:\/\/127\.0\.0\.1:8080 \(connection refused\)$/m);
  });

  test('back to normal once the link is up again', () => {
    const down = statusSummary(state({ connections: [connection()], link: lost }));
    const up = statusSummary(state({ connections: [connection()], link: { state: 'up' } }));
    assert.equal(down.kind, 'degraded');
    assert.equal(up.kind, 'active');
    assert.equal(up.warning, false);
    assert.doesNotMatch(up.text, /unreachable/);
  });

  test('the tooltip names the relay, the user, each tunnel and why a link is down', () => {
    const { tooltip } = statusSummary(state({ shared: [shared(), shared({ name: 'b', state: 'reconnecting', lastError: 'relay went away' })], connections: [connection({ tunnel: 'server' })], link: lost }));
    assert.match(tooltip, /alice @ 127\.0\.0\.1:8080/);
    assert.match(tooltip, /Sharing laptop \(online\)/);
    assert.match(tooltip, /Sharing b \(reconnecting: relay went away\)/);
    assert.match(tooltip, /Connected to server on 127\.0\.0\.1:40022/);
    assert.match(tooltip, /Relay link lost, reconnecting: cannot reach relay/);
  });
});

const A = 'http://127.0.0.1:8080';
const B = 'https://b.example';
const use = (over: Partial<RelayUse> = {}): RelayUse => ({ active: A, reason: PREFERRED, up: 2, total: 2, ...over });
const failedOver = use({ active: B, reason: { kind: 'failover', from: A, how: 'lost', code: 'TETHER_ERR_CONNECTION_LOST' }, up: 1 });

describe('relay use', () => {
  test('relayUse takes the active relay, the reason and the counts from a pool state', () => {
    const pool: PoolState = {
      active: B,
      reason: FAILBACK,
      since: 0,
      queued: 0,
      live: 1,
      size: 2,
      endpoints: [
        { url: A, priority: 0, weight: 1, state: 'down', rttMs: 0, since: 0, streams: 0 },
        { url: B, priority: 1, weight: 1, state: 'up', rttMs: 3, since: 0, streams: 2 },
        { url: 'http://c', priority: 2, weight: 1, state: 'idle', rttMs: 0, since: 0, streams: 0 },
      ],
    };
    assert.deepEqual(relayUse(pool), { active: B, reason: FAILBACK, up: 1, total: 3 });
  });

  const described: [what: string, u: RelayUse, text: string][] = [
    ['the preferred relay of one', use({ up: 1, total: 1 }), '127.0.0.1:8080'],
    ['the preferred relay of two', use(), '127.0.0.1:8080, connected to 2 of 2 relays'],
    ['after a failover', failedOver, 'b.example (failover: 127.0.0.1:8080 lost (TETHER_ERR_CONNECTION_LOST)), connected to 1 of 2 relays'],
    ['after a failback', use({ reason: FAILBACK }), '127.0.0.1:8080 (failback), connected to 2 of 2 relays'],
    ['none of two', use({ active: undefined, reason: NO_RELAY, up: 0 }), 'no relay reachable (2 configured)'],
    ['none of one', use({ active: undefined, reason: NO_RELAY, up: 0, total: 1 }), 'no relay reachable'],
  ];
  for (const [what, u, text] of described) test(`describeRelayUse: ${what}`, () => assert.equal(describeRelayUse(u), text));

  const changes: [what: string, previous: RelayUse | undefined, next: RelayUse, line: string | undefined][] = [
    ['the first relay', undefined, use(), `relay: now using ${A} (preferred)`],
    ['no change', use(), use({ up: 1 }), undefined],
    ['a failover', use(), failedOver, `relay: now using ${B} (failover: ${A} lost (TETHER_ERR_CONNECTION_LOST))`],
    ['a failback', failedOver, use({ reason: FAILBACK }), `relay: now using ${A} (failback)`],
    ['every relay lost', failedOver, use({ active: undefined, reason: NO_RELAY, up: 0 }), `relay: none reachable (${B} lost; 2 configured)`],
    ['still none', use({ active: undefined }), use({ active: undefined }), undefined],
  ];
  for (const [what, previous, next, line] of changes) test(`relayChangeLine: ${what}`, () => assert.equal(relayChangeLine(previous, next), line));

  test('isFailedOver only while a backup relay carries new streams', () => {
    assert.equal(isFailedOver(failedOver), true);
    assert.equal(isFailedOver(use()), false);
    assert.equal(isFailedOver(use({ reason: FAILBACK })), false);
    assert.equal(isFailedOver(use({ active: undefined, reason: { kind: 'failover', from: 'x', how: 'lost', code: 'y' } })), false);
    assert.equal(isFailedOver(undefined), false);
  });

  test('the status bar names the backup relay while failed over, the tooltip says why', () => {
    const summary = statusSummary(state({ shared: [shared({ relays: failedOver })], connections: [connection({ rttMs: 0 })], link: { state: 'up', relays: failedOver } }));
    assert.equal(summary.kind, 'active');
    assert.equal(summary.warning, false);
    assert.match(summary.text, /Tether: sharing 1 · connected · via b\.example$/);
    assert.match(summary.tooltip, /^Sharing laptop \(online\) via b\.example \(failover: 127\.0\.0\.1:8080 lost/m);
    assert.match(summary.tooltip, /^Relay link: up via b\.example \(failover: .*\), connected to 1 of 2 relays$/m);
  });

  test('on the preferred relay the text stays as it was; the tooltip still names the relay', () => {
    const summary = statusSummary(state({ connections: [connection()], link: { state: 'up', relays: use() } }));
    assert.match(summary.text, /plug\) Tether: connected · 3\.3 ms$/);
    assert.match(summary.tooltip, /^Relay link: up via 127\.0\.0\.1:8080, connected to 2 of 2 relays$/m);
  });

  test('a share that fails over alone names its relay too', () => {
    const summary = statusSummary(state({ shared: [shared({ relays: failedOver })] }));
    assert.match(summary.text, /broadcast\) Tether: sharing 1 · via b\.example$/);
  });
});

describe('tunnels shared with me: role in the description, actions by role', () => {
  const tree = (reachable: ClientState['reachable']) => buildTunnelTree(state({ reachable }))[1].children ?? [];

  test('another owner\'s tunnel shows the owner and my role; mine says yours', () => {
    const [a, b, c] = tree([
      { name: 'web', owner: 'bob', online: true, role: 'connect' },
      { name: 'db', owner: 'bob', online: true, role: 'admin' },
      { name: 'own', owner: 'alice', online: true, role: 'owner' },
    ]);
    assert.deepEqual([a.label, a.description], ['db', 'online · bob · admin']);
    assert.deepEqual([b.label, b.description], ['own', 'online · yours']);
    assert.deepEqual([c.label, c.description], ['web', 'online · bob · connect']);
    assert.equal(a.contextValue, ContextValue.reachableOnlineManaged);
    assert.equal(b.contextValue, ContextValue.reachableOnlineManaged);
    assert.equal(c.contextValue, ContextValue.reachableOnline);
  });

  test('a view-only tunnel has no connect actions, online or not, and says why in its tooltip', () => {
    for (const online of [true, false]) {
      const [node] = tree([{ name: 'web', owner: 'bob', online, role: 'view' }]);
      assert.equal(node.description, `${online ? 'online' : 'offline'} · bob · view`);
      assert.equal(node.contextValue, ContextValue.viewOnly);
      assert.match(node.tooltip ?? '', /cannot connect/);
      assert.ok(!tunnelActions(node.contextValue).some((a) => /openSshTerminal|connect$|openRemoteSsh|copySshCommand/.test(a.command)));
    }
  });

  test('an admin of someone else\'s offline tunnel manages it but cannot delete it', () => {
    const [node] = tree([{ name: 'web', owner: 'bob', online: false, role: 'admin' }]);
    assert.equal(node.contextValue, ContextValue.reachableOfflineManaged);
    assert.ok(!tunnelActions(node.contextValue).some((a) => a.command === 'tether.deleteTunnel'));
  });

  test('a relay without roles: as before (connectable; mine by owner name)', () => {
    const [other, mine] = tree([
      { name: 'a', owner: 'alice', online: false },
      { name: 'b', owner: 'bob', online: true },
    ]);
    assert.equal(mine.contextValue, ContextValue.reachableOfflineMine);
    assert.equal(other.contextValue, ContextValue.reachableOnline);
    assert.equal(other.description, 'online · bob');
  });
});

describe('tunnelActions', () => {
  // The manifest's context menus, which Enter on a view item must offer too.
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { menus: { 'view/item/context': { command: string; when: string }[] } };
  };
  /** Commands whose `when` clause matches `viewItem == value` (the forms the manifest uses). */
  function menuCommands(value: string): string[] {
    const out = new Set<string>();
    for (const entry of manifest.contributes.menus['view/item/context']) {
      const eq = /viewItem == ([\w.]+)/.exec(entry.when);
      const re = /viewItem =~ \/(.+)\//.exec(entry.when);
      if ((eq && eq[1] === value) || (re && new RegExp(re[1].replace(/\\\\/g, '\\')).test(value))) out.add(entry.command);
    }
    return [...out].sort();
  }

  for (const value of Object.values(ContextValue)) {
    test(`${value}: the same commands as its context menu`, () => {
      assert.deepEqual(tunnelActions(value).map((a) => a.command).sort(), menuCommands(value));
    });
  }

  test('only offline tunnels I own offer Delete Tunnel…, last', () => {
    for (const value of Object.values(ContextValue)) {
      const deletable = value === ContextValue.reachableOfflineMine;
      assert.equal(tunnelActions(value).some((a) => a.command === 'tether.deleteTunnel'), deletable, value);
    }
    assert.equal(tunnelActions(ContextValue.reachableOfflineMine).at(-1)?.command, 'tether.deleteTunnel');
  });

  test('an offline tunnel of mine keeps every item of one I administer, and that one every item of one I may only connect to', () => {
    const commands = (v: string): string[] => tunnelActions(v).map((a) => a.command);
    assert.deepEqual(commands(ContextValue.reachableOfflineMine).slice(0, -1), commands(ContextValue.reachableOfflineManaged));
    assert.deepEqual(commands(ContextValue.reachableOfflineManaged).slice(0, -1), commands(ContextValue.reachableOffline));
    assert.deepEqual(commands(ContextValue.reachableOnlineManaged).slice(0, -1), commands(ContextValue.reachableOnline));
  });

  test('Manage Sharing… on what I own or administer, never on what I may only connect to or view', () => {
    const managed = [ContextValue.shared, ContextValue.reachableOnlineManaged, ContextValue.reachableOfflineManaged, ContextValue.reachableOfflineMine];
    for (const value of Object.values(ContextValue)) {
      assert.equal(tunnelActions(value).some((a) => a.command === 'tether.manageSharing'), (managed as string[]).includes(value), value);
    }
  });

  test('a view-only tunnel offers no way to connect, only Request Access…', () => {
    assert.deepEqual(tunnelActions(ContextValue.viewOnly).map((a) => a.command), ['tether.requestAccess']);
  });

  test('an online tunnel offers the SSH terminal first', () => {
    assert.equal(tunnelActions(ContextValue.reachableOnline)[0].command, 'tether.openSshTerminal');
  });

  test('a local listener offers Open in Browser and Copy Address; an online tunnel Open in Browser (it connects first)', () => {
    const commands = (value: string) => tunnelActions(value).map((a) => a.command);
    assert.ok(commands(ContextValue.listener).includes('tether.openInBrowser'));
    assert.ok(commands(ContextValue.listener).includes('tether.copyAddress'));
    assert.ok(commands(ContextValue.reachableOnline).includes('tether.openInBrowser'));
    // Nothing to open on an offline tunnel, a terminal's stream or a tunnel this window shares.
    for (const value of [ContextValue.reachableOffline, ContextValue.terminal, ContextValue.shared]) {
      assert.ok(!commands(value).includes('tether.openInBrowser'), value);
      assert.ok(!commands(value).includes('tether.copyAddress'), value);
    }
  });

  test('Change SSH User… is offered on every tunnel one can SSH to, not on one this window shares', () => {
    for (const value of [ContextValue.reachableOnline, ContextValue.reachableOffline, ContextValue.listener, ContextValue.terminal]) {
      assert.ok(tunnelActions(value).some((a) => a.command === 'tether.changeSshUser'), value);
    }
    assert.ok(!tunnelActions(ContextValue.shared).some((a) => a.command === 'tether.changeSshUser'));
  });
});
