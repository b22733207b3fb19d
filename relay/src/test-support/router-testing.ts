/**
 * Test support for the router without sockets: a transport the test drives by hand and a router
 * wired to real ports (in-memory SQLite and registry unless a test injects its own).
 */
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { decodeFrames, type Frame } from '@tether/shared';
import { Auditor } from '../audit/auditor.js';
import { resolveLimits, type RelayLimits } from '../config.js';
import type { Identity } from '../identity.js';
import { Policy } from '../policy/policy.js';
import type { RelayPorts } from '../ports/index.js';
import { resolvePorts } from '../single-node.js';
import type { LinkTransport, LinkTransportHandlers } from '../routing/link-transport.js';
import { Router } from '../routing/router.js';

/** A transport whose writes complete only when the test says so, so a slow peer is exact. */
export class FakeTransport implements LinkTransport {
  readonly frames: Frame[] = [];
  private readonly callbacks: (() => void)[] = [];
  private handlers: LinkTransportHandlers | undefined;
  paused = false;
  closedWith: [number, string] | undefined;
  terminated = false;

  start(handlers: LinkTransportHandlers): void {
    this.handlers = handlers;
  }

  send(message: Buffer, done: () => void): void {
    decodeFrames(Buffer.from(message), { maxFrameSize: 0xffffffff }, (frame) => this.frames.push(frame));
    this.callbacks.push(done);
    if (this.corked) this.writes[this.writes.length - 1] += 1;
    else this.writes.push(1);
  }

  /** With `corkable` set: how many messages each write to the peer carried (a socket's writes). */
  readonly writes: number[] = [];
  corkable = false;
  private corked = false;

  cork(): boolean {
    if (!this.corkable) return false;
    if (this.corked) throw new Error('corked twice');
    this.corked = true;
    this.writes.push(0);
    return true;
  }

  uncork(): void {
    if (!this.corked) throw new Error('uncorked without a cork');
    this.corked = false;
  }

  /** The peer read everything: every queued write completes. */
  flush(): void {
    for (const callback of this.callbacks.splice(0)) callback();
  }

  /** The peer sends one binary message. */
  receive(message: Buffer): void {
    this.handlers?.message(message, true);
  }

  /** The connection drops. */
  drop(code = 1006, reason = ''): void {
    this.handlers?.close(code, reason);
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

  terminate(): void {
    this.terminated = true;
  }
}

export interface TestRouter {
  router: Router;
  ports: RelayPorts;
  policy: Policy;
}

/** A router on real ports (defaults unless injected), closed after the test. */
export function createTestRouter(t: TestContext, limits: Partial<RelayLimits> = {}, ports: Partial<RelayPorts> = {}): TestRouter {
  const resolved = resolveLimits(limits);
  const { ports: wired, closeOwned } = resolvePorts({ adminToken: 'unused-admin-token-000', ...ports }, resolved);
  const auditor = new Auditor(wired.audit, wired.clock);
  // No tunnel cache: these tests hold and reorder the store's answers one OPEN at a time.
  const policy = new Policy(wired.store, auditor, { cacheMs: 0 });
  const router = new Router({
    policy,
    store: wired.store,
    registry: wired.registry,
    auditor,
    metrics: wired.metrics,
    clock: wired.clock,
    limits: resolved,
    log: pino({ level: 'silent' }),
    nodeId: 'test-node',
  });
  t.after(async () => {
    router.close();
    await closeOwned();
  });
  return { router, ports: wired, policy };
}

export interface AttachedPair extends TestRouter {
  host: FakeTransport;
  connector: FakeTransport;
}

/** A router with alice's tunnel `web` claimed, a host link serving it and a connector link. */
export async function attachedPair(t: TestContext, limits: Partial<RelayLimits> = {}, ports: Partial<RelayPorts> = {}): Promise<AttachedPair> {
  const wired = createTestRouter(t, limits, ports);
  await wired.ports.store.claimTunnel('web', ALICE.id);
  const host = new FakeTransport();
  const connector = new FakeTransport();
  wired.router.attach(host, 'host', ALICE, 'web');
  wired.router.attach(connector, 'connector', ALICE);
  await settle();
  return { ...wired, host, connector };
}

export const ALICE: Identity = Object.freeze({ name: 'alice', id: 1, admin: false });

/** Lets pending promise callbacks (store and registry answers) run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
