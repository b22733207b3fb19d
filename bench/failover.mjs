// Failover benchmark: two relays over one user store, a host registered with both, and a
// driver-side Connector with both as endpoints. A stream carries a steady, verifiable flow
// through the echo target; the relay carrying it is killed (SIGKILL) and the gap until echoed
// bytes flow again is the failover time. Every echoed byte is checked against what was sent, so
// a lost, repeated or reordered byte fails the trial. Also: first-byte latency of a new stream
// with a warm pool against a cold connection.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import extension from '@tether/extension';
import { startRelayNode, startShareNode } from './procs.mjs';
import { summary } from './stats.mjs';

const { Connector, RelayApi, parseEndpoints, webSocketFactory } = extension;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The bytes of the flow: SHA-256 of the block number, block after block. */
function block(n) {
  return createHash('sha256').update(String(n)).digest();
}

async function until(condition, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`failover bench: timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** /readyz with the admin token: the counts are the admin's. */
async function readyz(url, adminToken) {
  try {
    return await (await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } })).json();
  } catch {
    return undefined;
  }
}

/** Two relays over one store, a host registered with both, and a connector over both. */
async function startPair(cli, dir, targetPort, n) {
  const dataDir = join(dir, `failover-${n}`);
  const relays = [];
  for (let i = 0; i < 2; i++) {
    const proc = startRelayNode('relay', [cli, 'relay', '--port', '0', '--data', dataDir, '--log-level', 'warn']);
    const [url] = await proc.waitFor('stdout', /^http:\/\/\S+$/);
    relays.push({ proc, url });
  }
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const { token } = await new RelayApi(relays[0].url, adminToken).createUser('bench-failover');
  const host = startShareNode('host', [cli, 'share', TUNNEL, '--target', `127.0.0.1:${targetPort}`, '--relay', relays[0].url, '--relay', relays[1].url, '--token', token]);
  await host.waitFor('stderr', /^Sharing /);
  await until(async () => (await Promise.all(relays.map((r) => readyz(r.url, adminToken)))).every((z) => z?.hosts === 1), 'the host on both relays');
  const endpoints = parseEndpoints(relays.map((r) => r.url));
  const factory = webSocketFactory({ relay: relays[0].url, token });
  const connector = new Connector(factory, { endpoints });
  await connector.session();
  await until(() => (connector.state()?.live ?? 0) === 2, 'the warm pool');
  return {
    relays,
    adminToken,
    connector,
    fresh: () => new Connector(factory, { endpoints }),
    async stop() {
      connector.close();
      await host.stop();
      for (const relay of relays) await relay.proc.stop();
    },
  };
}

const TUNNEL = 'benchfail';

/**
 * One trial: a steady flow (one 32-byte block per millisecond through the echo target), the
 * relay carrying it killed (SIGKILL) or frozen (SIGSTOP: a black hole, found by missed pings), and the time until the first block written after the kill comes
 * back. Returns { ms, intact }.
 */
async function trial(pair, signal) {
  const stream = await pair.connector.open(TUNNEL);
  let sent = 0;
  let received = 0;
  let pending = Buffer.alloc(0);
  let intact = true;
  const arrivedAt = new Map();
  stream.on('data', (chunk) => {
    stream.consume(chunk.length);
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 32) {
      if (!pending.subarray(0, 32).equals(block(received))) intact = false;
      pending = pending.subarray(32);
      arrivedAt.set(received, performance.now());
      received++;
    }
  });
  stream.write(Buffer.from('E'));
  const pump = setInterval(() => stream.write(block(sent++)), 1);
  try {
    await until(() => received > 200, 'the flow to start');
    const stats = await Promise.all(pair.relays.map((r) => readyz(r.url, pair.adminToken)));
    const victim = pair.relays[stats.findIndex((z) => (z?.streams ?? 0) > 0)];
    if (!victim) throw new Error('failover bench: no relay carries the stream');
    const firstAfter = sent;
    const killedAt = performance.now();
    process.kill(-victim.proc.pid, signal);
    await until(() => arrivedAt.has(firstAfter), 'bytes to flow again');
    // A frozen relay is a black hole until it is killed for good.
    if (signal === 'SIGSTOP') process.kill(-victim.proc.pid, 'SIGKILL');
    const ms = arrivedAt.get(firstAfter) - killedAt;
    await sleep(100);
    clearInterval(pump);
    await until(() => received === sent, 'the echo to catch up');
    stream.reset();
    return { ms, intact: intact && received === sent, blocks: sent };
  } finally {
    clearInterval(pump);
  }
}

/**
 * Runs `trials` failovers, each on fresh relays, host and connector (so no trial inherits the
 * backoff of an earlier one). `cli` is the tether CLI, `targetPort` the bench target (echo on
 * 'E'), `dir` a scratch folder. Returns { failover: {p50,p95,p99,max}, trials, lost, firstByte }.
 */
export async function failoverBench({ cli, targetPort, dir, trials = 20, blackholeTrials = 5, log }) {
  const times = [];
  const blackhole = [];
  let lost = 0;
  for (let n = 0; n < trials + blackholeTrials; n++) {
    const signal = n < trials ? 'SIGKILL' : 'SIGSTOP';
    const pair = await startPair(cli, dir, targetPort, n);
    try {
      const r = await trial(pair, signal);
      (signal === 'SIGKILL' ? times : blackhole).push(r.ms);
      if (!r.intact) lost++;
      log?.(`  trial ${n + 1} (${signal}): the first block written after it came back ${r.ms.toFixed(1)} ms later; ${r.blocks} blocks checked${r.intact ? '' : ' — LOST OR REPEATED BYTES'}`);
    } finally {
      await pair.stop();
    }
  }

  // First byte of a new stream: warm pool (sessions up) against a cold connector each time.
  const pair = await startPair(cli, dir, targetPort, 'first-byte');
  try {
    const firstByte = async (c) => {
      const t0 = performance.now();
      const stream = await c.open(TUNNEL);
      const got = new Promise((resolve) => stream.once('data', resolve));
      stream.write(Buffer.from('Ex'));
      await got;
      const ms = performance.now() - t0;
      stream.reset();
      return ms;
    };
    const warm = [];
    for (let i = 0; i < 220; i++) {
      const ms = await firstByte(pair.connector);
      if (i >= 20) warm.push(ms);
    }
    const cold = [];
    for (let i = 0; i < 55; i++) {
      const fresh = pair.fresh();
      const ms = await firstByte(fresh);
      fresh.close();
      if (i >= 5) cold.push(ms);
    }
    return {
      failover: { ...summary(times), max: Math.max(...times) },
      blackhole: { ...summary(blackhole), n: blackhole.length },
      trials: times.length + blackhole.length,
      lost,
      firstByte: { warm: summary(warm), cold: summary(cold), warmN: warm.length, coldN: cold.length },
    };
  } finally {
    await pair.stop();
  }
}
