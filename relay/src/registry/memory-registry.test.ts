import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../ports/clock.js';
import { MemoryTunnelRegistry } from './memory-registry.js';

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  t = 1_000_000;
  now(): number { return this.t; }
  monotonic(): number { return this.t; }
}

const claim = (linkId: number, nodeId = 'n1') => ({ tunnel: 'web', nodeId, linkId, hostId: 7 });

test('a live lease keeps others out; its holder may claim again; release frees it', async () => {
  const registry = new MemoryTunnelRegistry(new ManualClock(), 1000);
  assert.equal((await registry.claim(claim(1))).granted, true);
  const refused = await registry.claim(claim(2));
  assert.deepEqual([refused.granted, refused.lease.linkId], [false, 1]);
  assert.equal((await registry.claim(claim(1))).granted, true, 'the holder again');
  await registry.release('web', 'n1', 2);
  assert.equal((await registry.lookup('web'))?.linkId, 1, 'only the holder can release');
  await registry.release('web', 'n1', 1);
  assert.equal(await registry.lookup('web'), undefined);
  assert.equal((await registry.claim(claim(2))).granted, true);
});

test('leases lapse unless renewed; renewal reports the tunnels another link holds now', async () => {
  const clock = new ManualClock();
  const registry = new MemoryTunnelRegistry(clock, 1000);
  await registry.claim(claim(1));
  clock.t += 900;
  assert.deepEqual(await registry.renew('n1', [claim(1)]), []);
  clock.t += 900;
  assert.equal((await registry.lookup('web'))?.linkId, 1, 'renewed, so still live');
  clock.t += 1001;
  assert.equal(await registry.lookup('web'), undefined, 'lapsed');
  assert.equal((await registry.claim(claim(5, 'n2'))).granted, true, 'another node takes it');
  assert.deepEqual(await registry.renew('n1', [claim(1)]), ['web']);
  clock.t += 1001;
  assert.deepEqual(await registry.renew('n1', [claim(1)]), [], 'a lapsed lease nobody took is taken again');
  assert.equal((await registry.lookup('web'))?.nodeId, 'n1');
});

test('lookupMany returns only live leases', async () => {
  const clock = new ManualClock();
  const registry = new MemoryTunnelRegistry(clock, 1000);
  await registry.claim({ ...claim(1), tunnel: 'a' });
  clock.t += 600;
  await registry.claim({ ...claim(2), tunnel: 'b' });
  clock.t += 600;
  assert.deepEqual([...(await registry.lookupMany(['a', 'b', 'c'])).keys()], ['b']);
  await registry.close();
  assert.equal(await registry.lookup('b'), undefined);
});
