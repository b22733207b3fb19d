import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryTunnelRegistry } from './memory-registry.js';
import { ManualClock, registryContract } from './registry-contract.js';

registryContract('memory', async (clock, leaseMs) => new MemoryTunnelRegistry(clock, leaseMs));

test('memory: close forgets every lease', async () => {
  const registry = new MemoryTunnelRegistry(new ManualClock(), 1000);
  await registry.claim({ tunnel: 'b', nodeId: 'n1', linkId: 1, hostId: 1 });
  await registry.close();
  assert.deepEqual(await registry.lookup('b'), []);
});
