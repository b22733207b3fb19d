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
import { freePort, startNode } from './procs.mjs';
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

async function readyz(url) {
  try {
    return await (await fetch(`${url}/readyz`)).json();
  } catch {
    return undefined;
  }
}

/**
 * Runs `trials` failovers. `cli` is the tether CLI, `targetPort` the bench target (echo on 'E'),
 * `dir` a scratch folder. Returns { failover: {p50,p95,p99,max}, trials, lost, firstByte: {warm, cold} }.
 */
export async function failoverBench({ cli, targetPort, dir, trials = 20, log }) {
  const dataDir = join(dir, 'failover-relays');
  const relays = [];
  const startRelay = async (port) => {
    const proc = startNode('relay', [cli, 'relay', '--port', String(port), '--data', dataDir, '--log-level', 'warn']);
    const [url] = await proc.waitFor('stdout', /^http:\/\/\S+$/);
    return { proc, url };
  };
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    relays.push({ port, ...(await startRelay(port)) });
  }
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const { token } = await new RelayApi(relays[0].url, adminToken).createUser('bench-failover');
  const tunnel = 'benchfail';
  const host = startNode('host', [cli, 'share', tunnel, '--target', `127.0.0.1:${targetPort}`, '--relay', relays[0].url, '--relay', relays[1].url, '--token', token]);
  await host.waitFor('stderr', /^Sharing /);
  const endpoints = parseEndpoints(relays.map((r) => r.url));
  const factory = webSocketFactory({ relay: relays[0].url, token });
  const bothHosted = () => until(async () => (await Promise.all(relays.map((r) => readyz(r.url)))).every((z) => z?.hosts === 1), 'the host on both relays');
  await bothHosted();

  const connector = new Connector(factory, { endpoints });
  const times = [];
  let lost = 0;
  try {
    for (let trial = 0; trial < trials; trial++) {
      const stream = await connector.open(tunnel);
      // The flow: 'E' (echo), then one 32-byte block every millisecond.
      let sent = 0;
      let receivedBlocks = 0;
      let pending = Buffer.alloc(0);
      let lastArrival = performance.now();
      let bad = false;
      const arrivals = [];
      stream.on('data', (chunk) => {
        stream.consume(chunk.length);
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 32) {
          if (!pending.subarray(0, 32).equals(block(receivedBlocks))) bad = true;
          pending = pending.subarray(32);
          receivedBlocks++;
        }
        lastArrival = performance.now();
        arrivals.push(lastArrival);
      });
      stream.write(Buffer.from('E'));
      const pump = setInterval(() => stream.write(block(sent++)), 1);
      await until(() => receivedBlocks > 200, 'the flow to start');
      // Kill the relay that carries the stream.
      const stats = await Promise.all(relays.map((r) => readyz(r.url)));
      const victim = relays[stats.findIndex((z) => (z?.streams ?? 0) > 0)];
      if (!victim) throw new Error('failover bench: no relay carries the stream');
      const killedAt = performance.now();
      process.kill(-victim.proc.pid, 'SIGKILL');
      await until(() => arrivals.some((t) => t > killedAt), 'bytes to flow again');
      const resumedAt = arrivals.find((t) => t > killedAt);
      times.push(resumedAt - killedAt);
      // Let it run a little on the new relay, then stop sending and check every byte came back once.
      await sleep(200);
      clearInterval(pump);
      await until(() => receivedBlocks === sent, 'the echo to catch up');
      if (bad || receivedBlocks !== sent) lost++;
      stream.reset();
      await victim.proc.exited;
      Object.assign(victim, await startRelay(victim.port));
      await bothHosted();
      // Both relays warm in the pool again before the next trial.
      await until(() => (connector.state()?.live ?? 0) === 2, 'the pool to reconnect');
      log?.(`  trial ${trial + 1}: bytes flowing again ${(resumedAt - killedAt).toFixed(0)} ms after the kill; ${sent} blocks checked`);
    }

    // First byte of a new stream: warm pool (sessions up) against a cold connector each time.
    const firstByte = async (c) => {
      const t0 = performance.now();
      const stream = await c.open(tunnel);
      const got = new Promise((resolve) => stream.once('data', resolve));
      stream.write(Buffer.from('Ex'));
      await got;
      const ms = performance.now() - t0;
      stream.reset();
      return ms;
    };
    const warm = [];
    for (let i = 0; i < 220; i++) {
      const ms = await firstByte(connector);
      if (i >= 20) warm.push(ms);
    }
    const cold = [];
    for (let i = 0; i < 55; i++) {
      const fresh = new Connector(factory, { endpoints });
      const ms = await firstByte(fresh);
      fresh.close();
      if (i >= 5) cold.push(ms);
    }
    return {
      failover: { ...summary(times), max: Math.max(...times) },
      trials: times.length,
      lost,
      firstByte: { warm: summary(warm), cold: summary(cold), warmN: warm.length, coldN: cold.length },
    };
  } finally {
    connector.close();
    await host.stop();
    for (const relay of relays) await relay.proc.stop();
  }
}
