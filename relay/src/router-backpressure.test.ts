import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { WebSocket } from 'ws';
import { CloseCode, decodeFrames, encodeData, encodeOpen, encodeOpenOk, encodePing, ErrorCode, FrameType, WireCode, type Frame } from '@tether/shared';
import { resolveLimits, type RelayLimits } from './config.js';
import type { Identity } from './identity.js';
import { Router } from './router.js';
import { SqliteStore } from './sqlite-store.js';

/**
 * A stand-in for a server-side ws socket whose write callbacks run only when the test says so,
 * so a slow peer can be simulated exactly.
 */
class SlowSocket extends EventEmitter {
  readonly frames: Frame[] = [];
  private readonly callbacks: (() => void)[] = [];
  paused = false;
  closedWith: [number, string] | undefined;

  send(data: Buffer, _options: unknown, callback: () => void): void {
    decodeFrames(Buffer.from(data), { maxFrameSize: 0xffffffff }, (frame) => this.frames.push(frame));
    this.callbacks.push(callback);
  }

  /** The socket wrote everything out. */
  flush(): void {
    for (const callback of this.callbacks.splice(0)) callback();
  }

  receive(message: Buffer): void {
    this.emit('message', message, true);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }

  terminate(): void {}

  get asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}

const alice: Identity = { name: 'alice', id: 1, admin: false };

function setup(t: TestContext, limits: Partial<RelayLimits>): { router: Router; host: SlowSocket; connector: SlowSocket } {
  const store = new SqliteStore(':memory:');
  store.claimTunnel('web', alice.id);
  const router = new Router(store, resolveLimits(limits), pino({ level: 'silent' }));
  t.after(() => {
    router.close();
    store.close();
  });
  const host = new SlowSocket();
  const connector = new SlowSocket();
  router.attach(host.asWebSocket, 'host', alice, 'web');
  router.attach(connector.asWebSocket, 'connector', alice);
  return { router, host, connector };
}

test('a connector feeding a host that cannot keep up is paused until the host drains', (t) => {
  const { host, connector } = setup(t, { maxBufferedBytesPerConnection: 1000 });
  connector.receive(encodeOpen(1, 65_536, 'web'));
  host.receive(encodeOpenOk(2, 65_536));
  host.flush();
  assert.deepEqual(connector.frames.map((f) => f.type), [FrameType.OPEN_OK]);

  connector.receive(encodeData(1, Buffer.alloc(600)));
  assert.equal(connector.paused, false, 'under the limit');
  connector.receive(encodeData(1, Buffer.alloc(600)));
  assert.equal(connector.paused, true, 'over the limit: stop reading from the source');
  assert.equal(host.frames.filter((f) => f.type === FrameType.DATA).length, 2, 'nothing is dropped');

  host.flush();
  assert.equal(connector.paused, false, 'resumed once the host drained');
});

test('a paused source is resumed when the congested link goes away', (t) => {
  const { host, connector } = setup(t, { maxBufferedBytesPerConnection: 1000 });
  connector.receive(encodeOpen(1, 65_536, 'web'));
  host.receive(encodeOpenOk(2, 65_536));
  connector.receive(encodeData(1, Buffer.alloc(1200)));
  assert.equal(connector.paused, true);
  host.emit('close', 1006, Buffer.alloc(0));
  assert.equal(connector.paused, false);
  const reset = connector.frames.find((f) => f.type === FrameType.RESET);
  assert.equal(reset?.type === FrameType.RESET && reset.code, WireCode.PEER_GONE);
});

test('a second host attached for the same tunnel is closed with TUNNEL_IN_USE', (t) => {
  const { router, host } = setup(t, {});
  const late = new SlowSocket();
  router.attach(late.asWebSocket, 'host', alice, 'web');
  assert.deepEqual(late.closedWith, [CloseCode.POLICY_VIOLATION, ErrorCode.TUNNEL_IN_USE]);
  assert.equal(host.closedWith, undefined);
  assert.equal(router.stats().hosts, 1);
});

test('a peer that sends PINGs or bad DATA but never reads the answers is closed with BUFFER_LIMIT', (t) => {
  for (const flood of [
    () => encodePing(Buffer.alloc(8)),
    () => encodeData(99, Buffer.alloc(16)),
  ]) {
    const { connector, host } = setup(t, { maxBufferedBytesPerConnection: 1000 });
    // The connector never lets its writes complete (it does not read).
    for (let i = 0; i < 200 && !connector.closedWith; i++) connector.receive(flood());
    assert.deepEqual(connector.closedWith, [CloseCode.BUFFER_LIMIT, ErrorCode.BUFFER_LIMIT]);
    assert.equal(host.closedWith, undefined, 'nobody else is affected');
  }
});
