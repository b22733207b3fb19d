import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeData, encodeOpen, encodeOpenErr, encodeReset, FrameType, WireCode } from '@tether/shared';
import { bearer, createTestRelay, HANG_GUARD, hostAndConnector, openStream } from '../test-support/testing.js';

interface Row { key: string; bytesUp: number; bytesDown: number; opened: number; closed: number; peak: number; failed: Record<string, number>; protocols: Record<string, number> }

test('the router tells usage analytics of accepted, ended and refused streams: bytes each way, peak, sessions by protocol, failed opens by wire code', HANG_GUARD, async (t) => {
  // A long flush interval: what the API shows was flushed by the request itself.
  const relay = await createTestRelay(t, {}, ':memory:', { analytics: { flushMs: 3_600_000 } });
  await relay.listen();
  const pair = await hostAndConnector(relay);
  const a = await openStream(pair, 1);
  const b = await openStream(pair, 3);
  // Stream 1 speaks SSH (1000 bytes in all); stream 3's opener says nothing.
  pair.connector.send(encodeData(1, Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), Buffer.alloc(977, 1)])));
  await pair.host.nextOf(FrameType.DATA);
  pair.host.send(encodeData(b, Buffer.alloc(300, 2)));
  await pair.connector.nextOf(FrameType.DATA);
  const usage = async (): Promise<Row[]> => {
    const res = await relay.app.inject({ method: 'GET', url: '/v1/analytics?step=minute', headers: bearer(pair.token) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ rows: Row[] }>().rows;
  };
  // Live streams: their bytes so far, two open at once, no session ended yet.
  let [row] = await usage();
  assert.deepEqual([row.key, row.bytesUp, row.bytesDown, row.opened, row.closed, row.peak], ['web', 1000, 300, 2, 0, 2]);
  // Ended streams are sessions; bytes are not counted twice; a host's refusal and the relay's count by code.
  pair.connector.send(encodeData(1, Buffer.alloc(24, 1)));
  await pair.host.nextOf(FrameType.DATA);
  pair.host.send(encodeReset(a, WireCode.CANCELLED, 'bye'), encodeReset(b, WireCode.CANCELLED, 'bye'));
  await pair.connector.nextOf(FrameType.RESET, 1);
  await pair.connector.nextOf(FrameType.RESET, 3);
  pair.connector.send(encodeOpen(5, 4096, 'web'));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenErr(open.streamId, WireCode.TARGET_REFUSED, 'refused'));
  await pair.connector.nextOf(FrameType.OPEN_ERR, 5);
  // alice's own unshared tunnel: refused by the relay (offline).
  await relay.store.claimTunnel('cold', (await relay.store.findUserByName('alice'))!.id);
  pair.connector.send(encodeOpen(7, 4096, 'cold'));
  await pair.connector.nextOf(FrameType.OPEN_ERR, 7);
  const rows = await usage();
  row = rows.find((r) => r.key === 'web')!;
  assert.deepEqual([row.bytesUp, row.bytesDown, row.opened, row.closed, row.peak, row.failed], [1024, 300, 2, 2, 2, { [WireCode.TARGET_REFUSED]: 1 }]);
  assert.deepEqual(row.protocols, { ssh: 1, unknown: 1 }, 'ended streams by protocol');
  assert.deepEqual(rows.find((r) => r.key === 'cold')?.failed, { [WireCode.TUNNEL_OFFLINE]: 1 });
});
