// Shared pieces of the integration suite: a real relay on 127.0.0.1:0, users created through
// its HTTP API, a HostAgent sharing a real TCP target, a Connector, all over real WebSockets.
// Not a test file itself (node --test only picks up *.test.mjs here).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { setTimeout as delay } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { startRelay } from '@tether/relay';
import { Connector, HostAgent, RelayApi, webSocketFactory } from '@tether/extension';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** mulberry32: a small seeded PRNG, so every run draws the same sizes. Returns floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const zeros = Buffer.alloc(256 * KiB);

/**
 * A deterministic byte source: AES-128-CTR keystream keyed by `label`. Both ends of a transfer
 * can regenerate the same bytes, and it runs at memory speed.
 */
export function keystream(label) {
  const key = createHash('sha256').update(String(label)).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (n) => cipher.update(zeros.subarray(0, n));
}

export const sha256 = () => createHash('sha256');

/** The hash of `size` bytes of `keystream(label)`, computed without keeping them. */
export function expectedDigest(label, size) {
  const next = keystream(label);
  const hash = sha256();
  for (let left = size; left > 0;) {
    const n = Math.min(left, zeros.length);
    hash.update(next(n));
    left -= n;
  }
  return hash.digest('hex');
}

/** Resolves on 'drain'; rejects if the writable closes or fails first (so nothing hangs silently). */
export function waitDrain(writable, what = 'writable') {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      writable.off('drain', onDrain);
      writable.off('close', onClose);
      writable.off('error', onError);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = (err) => {
      cleanup();
      reject(err instanceof Error ? err : new Error(`${what} closed while waiting for drain`));
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    writable.on('drain', onDrain);
    writable.on('close', onClose);
    writable.on('error', onError);
  });
}

/**
 * Writes `size` bytes from `next(n)` in chunks of `chunkSize`, honouring backpressure.
 * Works for net.Socket, Duplex and MuxStream alike (all have write()/'drain'/'close').
 * Returns the SHA-256 of what was written.
 */
export async function writeBytes(writable, next, size, { chunkSize = 64 * KiB, end = true, what } = {}) {
  const hash = sha256();
  for (let left = size; left > 0;) {
    const chunk = next(Math.min(left, chunkSize));
    hash.update(chunk);
    left -= chunk.length;
    if (!writable.write(chunk)) await waitDrain(writable, what);
  }
  if (end) writable.end();
  return hash.digest('hex');
}

/** Hashes everything `readable` emits until 'end'; rejects if it closes or fails first. */
export function hashUntilEnd(readable, what = 'readable', initial = Buffer.alloc(0)) {
  return new Promise((resolve, reject) => {
    const hash = sha256().update(initial);
    let bytes = initial.length;
    let ended = false;
    readable.on('data', (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    readable.once('end', () => {
      ended = true;
      resolve({ bytes, sha256: hash.digest('hex') });
    });
    readable.once('error', (err) => reject(err));
    readable.once('close', (err) => {
      if (!ended) reject(err instanceof Error ? err : new Error(`${what} closed before its end after ${bytes} bytes`));
    });
  });
}

/**
 * A TCP server on 127.0.0.1:0 with half-open connections allowed, every socket tracked and
 * given an 'error' listener, and a close() that ends them all.
 */
export async function startTarget(onConnection) {
  const sockets = new Set();
  const errors = [];
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', (err) => errors.push(err));
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    server,
    port: server.address().port,
    sockets,
    errors,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects to 127.0.0.1:port with half-close allowed; resolves once connected. */
export function connectTcp(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Starts the whole path: relay, users (through the admin HTTP API), a HostAgent for the first
 * user sharing `targetPort` as `tunnel`, and a Connector for the first user. `session` holds
 * MuxSession options (windows, high-water mark) for every client session.
 */
export async function startStack({ targetPort, tunnel = 'it-tunnel', users = ['alice'], limits, session, reconnect = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-it-'));
  const adminToken = randomBytes(24).toString('hex');
  const relay = await startRelay({ host: '127.0.0.1', port: 0, dataDir, adminToken, limits, logger: false });
  const admin = new RelayApi(relay.url, adminToken);
  const tokens = {};
  for (const name of users) tokens[name] = (await admin.createUser(name)).token;
  const owner = users[0];
  const factoryFor = (name) => webSocketFactory({ relay: relay.url, token: tokens[name], session });
  const agent = new HostAgent({ tunnel, target: { host: '127.0.0.1', port: targetPort }, factory: factoryFor(owner), reconnect });
  await agent.start();
  const connectors = [];
  const newConnector = (name = owner) => {
    const connector = new Connector(factoryFor(name));
    connectors.push(connector);
    return connector;
  };
  const connector = newConnector();
  let closed = false;
  return {
    relay,
    url: relay.url,
    wsUrl: relay.url.replace(/^http/, 'ws'),
    adminToken,
    tokens,
    tunnel,
    agent,
    connector,
    newConnector,
    factoryFor,
    async close() {
      if (closed) return;
      closed = true;
      for (const c of connectors) c.close();
      await agent.stop(0);
      await relay.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a local listener through the connector and returns its port. */
export async function listenThrough(stack, connector = stack.connector) {
  const server = await connector.listen(stack.tunnel, '127.0.0.1', 0);
  return server.address().port;
}

// A collection before each reading makes the numbers mean "held", not "not yet collected".
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/**
 * Process memory in MiB after full collections, for diagnostics. V8 frees ArrayBuffer backing
 * stores on a background sweeper, so the figure settles only a moment after a collection.
 */
export async function memory() {
  gc();
  await delay(100);
  gc();
  await delay(20);
  const m = process.memoryUsage();
  return { rssMiB: +(m.rss / MiB).toFixed(1), arrayBuffersMiB: +(m.arrayBuffers / MiB).toFixed(1) };
}

/** A map whose get() waits for the key to be set: the target learns of a connection later than the client. */
export function rendezvous() {
  const entries = new Map();
  const entry = (key) => {
    let e = entries.get(key);
    if (!e) {
      e = {};
      e.promise = new Promise((resolve) => (e.resolve = resolve));
      entries.set(key, e);
    }
    return e;
  };
  return {
    set: (key, value) => entry(key).resolve(value),
    get: (key) => entry(key).promise,
    get size() {
      return entries.size;
    },
  };
}
