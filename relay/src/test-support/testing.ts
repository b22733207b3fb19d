/**
 * Builders and harnesses for the relay's unit tests. Not exported from the package index.
 * (Named `testing.ts`, not `test-helpers.ts`: `node --test` runs every `test-*.js` it finds.)
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { decodeFrames, encodeOpen, encodeOpenOk, encodePing, encodePong, FrameType, SUBPROTOCOL, type Frame } from '@tether/shared';
import { buildApp, type RelayApp } from '../app.js';
import type { RelayLimits, RelayOptions } from '../config.js';

export const ADMIN_TOKEN = 'admin-token-for-tests-0001';

/** Guards each socket test against hanging forever; not a timing assertion. */
export const HANG_GUARD = { timeout: 20_000 };

export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;

export interface TestRelay extends RelayApp {
  /** ws://127.0.0.1:PORT once `listen()` has run. */
  wsUrl: string;
  listen(): Promise<string>;
  /** Every client socket opened through the helpers below; terminated after the test. */
  clients: Set<WebSocket>;
}

/** A relay on an in-memory (or given) database, closed after the test. */
export async function createTestRelay(t: TestContext, limits: Partial<RelayLimits> = {}, databaseFile = ':memory:', more: Partial<RelayOptions> = {}): Promise<TestRelay> {
  const relay = await buildApp({ databaseFile, adminToken: ADMIN_TOKEN, logger: false, limits, ...more });
  const clients = new Set<WebSocket>();
  const testRelay: TestRelay = {
    ...relay,
    wsUrl: '',
    clients,
    async listen() {
      const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
      testRelay.wsUrl = address.replace(/^http/, 'ws');
      return testRelay.wsUrl;
    },
  };
  t.after(async () => {
    for (const ws of clients) ws.terminate();
    // Closing twice is harmless, so tests may close (or shut down) the app themselves.
    await relay.app.close();
  });
  return testRelay;
}

/** Creates a user through the admin API and returns its token. */
export async function createUser(relay: RelayApp, name: string): Promise<string> {
  const res = await relay.app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { name },
  });
  if (res.statusCode !== 201) throw new Error(`creating user ${name}: ${res.statusCode} ${res.body}`);
  return (res.json<{ token: string }>()).token;
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

/** A raw tether.v1 WebSocket client: sends encoded frames and queues decoded ones. */
export class FrameClient {
  readonly ws: WebSocket;
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly queue: Frame[] = [];
  private readonly waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  private isClosed = false;
  /** Answer the relay's PINGs (a real client would). */
  autoPong = false;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      decodeFrames(data, { maxFrameSize: 0xffffffff }, (frame) => this.push(frame));
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting for a frame`));
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  private push(frame: Frame): void {
    if (this.autoPong && frame.type === FrameType.PING) {
      this.ws.send(encodePong(frame.data));
      return;
    }
    const i = this.waiters.findIndex((w) => w.match(frame));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
    else this.queue.push(frame);
  }

  /** Sends one WebSocket message holding the given frames (or raw bytes). */
  send(...parts: Buffer[]): void {
    this.ws.send(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }

  /** The next received frame that matches, in arrival order. */
  next(match: (f: Frame) => boolean = () => true): Promise<Frame> {
    const i = this.queue.findIndex(match);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.isClosed) return Promise.reject(new Error('socket closed while waiting for a frame'));
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }));
  }

  /** The next frame of `type` (on `streamId`, when given). */
  async nextOf<T extends Frame['type']>(type: T, streamId?: number): Promise<FrameOf<T>> {
    return (await this.next((f) => f.type === type && (streamId === undefined || f.streamId === streamId))) as FrameOf<T>;
  }

  /** Frames received and not yet taken, except the relay's keep-alive PINGs. */
  pending(): Frame[] {
    return this.queue.filter((f) => f.type !== FrameType.PING);
  }

  /**
   * Round trip through the relay: once the PONG is back, the relay has handled everything this
   * client sent before (it processes a link's messages in order).
   */
  async sync(): Promise<void> {
    const data = randomBytes(8);
    this.send(encodePing(data));
    await this.next((f) => f.type === FrameType.PONG && f.data.equals(data));
  }

  close(): void {
    this.ws.close();
  }
}

/** Opens a WebSocket to `path` and waits for the upgrade. */
export function openLink(relay: TestRelay, path: string, token: string, protocols: string[] = [SUBPROTOCOL]): Promise<FrameClient> {
  const ws = new WebSocket(`${relay.wsUrl}${path}`, protocols, { headers: bearer(token) });
  relay.clients.add(ws);
  const client = new FrameClient(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade to ${path} refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export interface Refusal {
  status: number;
  body: { code: string; message: string };
  headers: Record<string, string | string[] | undefined>;
}

/** Attempts an upgrade that must be refused; resolves with the HTTP status and JSON body. */
export function upgradeRefusal(relay: TestRelay, path: string, headers: Record<string, string>, protocols?: string[]): Promise<Refusal> {
  const ws = new WebSocket(`${relay.wsUrl}${path}`, protocols, { headers });
  relay.clients.add(ws);
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.once('open', () => reject(new Error(`upgrade to ${path} was accepted`)));
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Refusal['body'], headers: res.headers });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  });
}

export interface Pair {
  host: FrameClient;
  connector: FrameClient;
  token: string;
}

/** A listening relay's user `alice` hosting `tunnel` and connected as a connector too. */
export async function hostAndConnector(relay: TestRelay, tunnel = 'web', user = 'alice'): Promise<Pair> {
  const token = await createUser(relay, user);
  const host = await openLink(relay, `/v1/host?tunnel=${tunnel}`, token);
  const connector = await openLink(relay, '/v1/connect', token);
  return { host, connector, token };
}

/**
 * Opens stream `connectorId` from `connector` to `tunnel` and accepts it on `host`.
 * Returns the id the relay gave the stream on the host link.
 */
export async function openStream(pair: { host: FrameClient; connector: FrameClient }, connectorId: number, tunnel = 'web', window = 65_536, hostWindow = 65_536): Promise<number> {
  pair.connector.send(encodeOpen(connectorId, window, tunnel));
  const open = await pair.host.nextOf(FrameType.OPEN);
  pair.host.send(encodeOpenOk(open.streamId, hostWindow));
  await pair.connector.nextOf(FrameType.OPEN_OK, connectorId);
  return open.streamId;
}

/** Polls `condition` until it holds (the relay handles socket closes asynchronously). */
export async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
