import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../ports/clock.js';
import type { TunnelRegistry } from '../ports/tunnel-registry.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  t = 1_000_000;
  now(): number { return this.t; }
  monotonic(): number { return this.t; }
}

/** Opens a fresh, empty registry on `clock` with leases of `leaseMs`. */
export type RegistryFactory = (clock: Clock, leaseMs: number) => Promise<TunnelRegistry>;

const claim = (linkId: number, nodeId = 'n1', hostId = 7, tunnel = 'web') => ({ tunnel, nodeId, linkId, hostId });
const nodesOf = async (registry: TunnelRegistry, tunnel = 'web') => (await registry.lookup(tunnel)).map((l) => `${l.nodeId}/${l.linkId}`);

/**
 * What every TunnelRegistry does, run against each implementation (memory, Redis, Redis
 * Cluster) so they cannot drift apart.
 */
export function registryContract(name: string, open: RegistryFactory): void {
  const fresh = async (t: { after: (fn: () => Promise<void>) => void }, leaseMs = 1000) => {
    const clock = new ManualClock();
    const registry = await open(clock, leaseMs);
    t.after(() => registry.close());
    return { clock, registry };
  };

  test(`${name}: a live lease keeps other links of its node out; its holder may claim again; release frees it`, async (t) => {
    const { registry } = await fresh(t);
    const first = await registry.claim(claim(1));
    assert.deepEqual([first.granted, first.lease.nodeId, first.lease.linkId, first.lease.hostId, first.lease.expiresAt], [true, 'n1', 1, 7, 1_001_000]);
    const refused = await registry.claim(claim(2));
    assert.deepEqual([refused.granted, refused.lease.linkId], [false, 1]);
    assert.equal((await registry.claim(claim(1))).granted, true, 'the holder again');
    await registry.release('web', 'n1', 2);
    assert.deepEqual(await nodesOf(registry), ['n1/1'], 'only the holder can release');
    await registry.release('web', 'n2', 1);
    assert.deepEqual(await nodesOf(registry), ['n1/1'], 'nor the same link id on another node');
    await registry.release('web', 'n1', 1);
    assert.deepEqual(await registry.lookup('web'), []);
    assert.equal((await registry.claim(claim(2))).granted, true);
  });

  test(`${name}: one host on several nodes holds a lease on each; another identity is kept out everywhere`, async (t) => {
    const { registry } = await fresh(t);
    assert.equal((await registry.claim(claim(1, 'n1'))).granted, true);
    assert.equal((await registry.claim(claim(4, 'n3'))).granted, true, 'same host, another node');
    assert.deepEqual(await nodesOf(registry), ['n1/1', 'n3/4'], 'oldest claim first');
    const other = await registry.claim(claim(9, 'n2', 8));
    assert.deepEqual([other.granted, other.lease.hostId], [false, 7], 'another identity, a node with no lease yet');
    await registry.release('web', 'n1', 1);
    assert.deepEqual(await nodesOf(registry), ['n3/4']);
    assert.equal((await registry.claim(claim(9, 'n2', 8))).granted, false, 'while any node holds it');
    await registry.release('web', 'n3', 4);
    assert.equal((await registry.claim(claim(9, 'n2', 8))).granted, true, 'once nobody does');
  });

  test(`${name}: a lease carries its host's tunnel settings, and a renewal carries them on`, async (t) => {
    const { registry } = await fresh(t);
    const settings = { http: 'h2c' as const, access: 'public' as const, allow: ['http' as const] };
    const granted = await registry.claim({ ...claim(1), settings });
    assert.deepEqual(granted.lease.settings, settings);
    assert.deepEqual((await registry.lookup('web'))[0].settings, settings);
    await registry.renew('n1', [{ ...claim(1), settings: { udp: true } }]);
    assert.deepEqual((await registry.lookupMany(['web'])).get('web')?.[0].settings, { udp: true });
    await registry.renew('n1', [claim(1)]);
    assert.equal((await registry.lookup('web'))[0].settings, undefined, 'a plain tunnel has none');
  });

  test(`${name}: leases lapse unless renewed; renewal reports the tunnels another link holds now`, async (t) => {
    const { clock, registry } = await fresh(t);
    await registry.claim(claim(1));
    clock.t += 900;
    assert.deepEqual(await registry.renew('n1', [claim(1)]), []);
    clock.t += 900;
    assert.deepEqual(await nodesOf(registry), ['n1/1'], 'renewed, so still live');
    assert.equal((await registry.lookup('web'))[0].expiresAt, clock.t + 100);
    clock.t += 101;
    assert.deepEqual(await registry.lookup('web'), [], 'lapsed');
    assert.equal((await registry.claim(claim(5, 'n1'))).granted, true, 'another link of the node takes it');
    assert.deepEqual(await registry.renew('n1', [claim(1)]), ['web']);
    clock.t += 1001;
    assert.deepEqual(await registry.renew('n1', [claim(1)]), [], 'a lapsed lease nobody took is taken again');
    assert.deepEqual(await nodesOf(registry), ['n1/1']);
  });

  test(`${name}: renewal on one node leaves other nodes' leases alone, and loses to another identity`, async (t) => {
    const { clock, registry } = await fresh(t);
    await registry.claim(claim(1, 'n1'));
    await registry.claim(claim(2, 'n2'));
    clock.t += 600;
    assert.deepEqual(await registry.renew('n1', [claim(1, 'n1'), claim(3, 'n1', 7, 'api')]), [], 'a lapsed or new lease is taken');
    clock.t += 600;
    assert.deepEqual(await nodesOf(registry), ['n1/1'], "n2's lease lapsed, n1's was renewed");
    assert.deepEqual(await nodesOf(registry, 'api'), ['n1/3']);
    await registry.release('web', 'n1', 1);
    assert.equal((await registry.claim(claim(8, 'n2', 99))).granted, true);
    assert.deepEqual(await registry.renew('n1', [claim(1, 'n1')]), ['web'], 'another identity holds it now');
    assert.deepEqual(await nodesOf(registry), ['n2/8']);
  });

  test(`${name}: lookupMany returns only live leases, per tunnel`, async (t) => {
    const { clock, registry } = await fresh(t);
    await registry.claim(claim(1, 'n1', 7, 'a'));
    clock.t += 600;
    await registry.claim(claim(2, 'n1', 7, 'b'));
    await registry.claim(claim(3, 'n2', 7, 'b'));
    clock.t += 600;
    const found = await registry.lookupMany(['a', 'b', 'c']);
    assert.deepEqual([...found.keys()], ['b']);
    assert.deepEqual(found.get('b')!.map((l) => l.nodeId), ['n1', 'n2']);
    assert.deepEqual(await registry.lookupMany([]), new Map());
  });

  test(`${name}: names are kept apart exactly (no prefix or pattern confusion)`, async (t) => {
    const { registry } = await fresh(t);
    await registry.claim(claim(1, 'n1', 7, 'web'));
    await registry.claim(claim(2, 'n1', 8, 'web-2'));
    await registry.claim(claim(3, 'n:1', 9, 'w*b'));
    assert.deepEqual(await nodesOf(registry, 'web'), ['n1/1']);
    assert.deepEqual(await nodesOf(registry, 'web-2'), ['n1/2']);
    assert.deepEqual(await nodesOf(registry, 'w*b'), ['n:1/3']);
  });
}
