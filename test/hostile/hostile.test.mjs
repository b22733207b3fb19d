// Hostile clients against a real relay process while another user's transfer runs through it.
// Each case is played by test/hostile/attacker.mjs in its own process (a user with a valid
// token); meanwhile this process watches the relay: its memory (VmRSS), /healthz answer time,
// and the good user's bytes arriving at his target. Run with `npm run test:hostile`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
/* global AbortSignal */
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';

const { RelayApi } = extension;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'extension/dist/cli/main.js');
const ATTACKER = path.join(ROOT, 'test/hostile/attacker.mjs');
const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Bounds every case is held to (from the issue that asked for this suite). */
const BOUNDS = { rssGrowthBytes: 150 * MiB, healthzMs: 250, goodStallMs: 1000 };

const children = new Set();

/** A child process whose output lines can be waited for; stopped by PID after the suite. */
function start(args, name) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines = [];
  const waiters = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop();
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) if (w.pattern.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
      }
    });
  }
  return {
    child,
    lines,
    waitFor(pattern, timeoutMs = 20_000) {
      const found = lines.find((l) => pattern.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      });
    },
  };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

const rssOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** The good user's transfer: paced writes through `tether connect` to a sink that notes arrivals. */
async function goodTransfer() {
  const state = { sent: 0, received: 0, lastArrival: performance.now(), maxGap: 0, broken: undefined, watching: false };
  const sink = net.createServer((socket) => {
    socket.on('data', (chunk) => {
      const now = performance.now();
      if (state.watching) state.maxGap = Math.max(state.maxGap, now - state.lastArrival);
      state.lastArrival = now;
      state.received += chunk.length;
    });
    socket.on('error', (err) => { state.broken ??= `target side: ${err.message}`; });
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  return {
    sinkPort: sink.address().port,
    state,
    async begin(connectPort) {
      const socket = net.connect(connectPort, '127.0.0.1');
      await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
      socket.on('error', (err) => { state.broken ??= `client side: ${err.message}`; });
      socket.on('close', () => { state.broken ??= 'client side: closed'; });
      // About 8 MiB/s: one 64 KiB chunk every 8 ms, waiting for drain when the path pushes back.
      let waiting = false;
      const timer = setInterval(() => {
        if (waiting) return;
        state.sent += chunk.length;
        if (!socket.write(chunk)) {
          waiting = true;
          socket.once('drain', () => { waiting = false; });
        }
      }, 8);
      this.end = async () => {
        clearInterval(timer);
        const deadline = Date.now() + 10_000;
        while (state.received < state.sent && Date.now() < deadline) await sleep(20);
        socket.destroy();
        sink.close();
      };
    },
  };
}

describe('hostile clients', { concurrency: 1 }, () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tether-hostile-'));
  let relay;
  let url = '';
  const tokens = {};
  let good;

  before(async () => {
    // The default rate limits, but with room for more connections: every attacker here comes
    // from 127.0.0.1, and the links and names attacks are about their quotas (maxLinksPerUser,
    // maxTunnelsPerUser), which the upgrade rate limits would otherwise answer first, depending
    // on how fast the suite runs (the rate limits have their own tests).
    const rateLimits = path.join(dataDir, 'rate-limits.json');
    writeFileSync(rateLimits, JSON.stringify({ upgrades: { perIdentity: { rate: 600, periodMs: 60_000, burst: 100 }, perAddress: { rate: 6000, periodMs: 60_000, burst: 1000 } } }));
    relay = start([CLI, 'relay', '--port', '0', '--data', dataDir, '--log-level', 'warn', '--rate-limits', rateLimits,
      // A smaller buffer limit than the default 64 MiB, so a flood meets it within the test's time.
      '--limit', 'maxBufferedBytesPerConnection=16777216',
      '--limit', 'drainDeadlineMs=3000', '--limit', 'openTimeoutMs=3000', '--limit', 'pingIntervalMs=1000', '--limit', 'idleTimeoutMs=4000',
      '--limit', 'maxLinksPerUser=40', '--limit', 'maxTunnelsPerUser=8'], 'relay');
    url = await relay.waitFor(/^http:\/\/127\.0\.0\.1:\d+$/);
    const admin = new RelayApi(url, readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim());
    for (const name of ['good', 'flooder', 'opener', 'slowhost', 'stuck', 'linker', 'namer']) tokens[name] = (await admin.createUser(name)).token;
    good = await goodTransfer();
    const share = start([CLI, 'share', 'good', '--target', `127.0.0.1:${good.sinkPort}`, '--relay', url, '--token', tokens.good], 'share');
    await share.waitFor(/^Sharing /);
    const listen = await new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
    const connect = start([CLI, 'connect', 'good', '--listen', `127.0.0.1:${listen}`, '--relay', url, '--token', tokens.good], 'connect');
    const [, port] = /127\.0\.0\.1:(\d+)/.exec(await connect.waitFor(/^Listening on /));
    await good.begin(Number(port));
    await sleep(1000);
  });

  after(async () => {
    await good?.end?.();
    await Promise.all([...children].map(stop));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs one attack while watching the relay and the good transfer; returns the attacker's report. */
  async function attack(kind, user) {
    const pid = relay.child.pid;
    const baseline = rssOf(pid);
    let peakRss = baseline;
    let slowest = 0;
    let failedProbes = 0;
    let watching = true;
    good.state.watching = true;
    good.state.maxGap = 0;
    good.state.lastArrival = performance.now();
    const rssWatch = (async () => {
      while (watching) {
        peakRss = Math.max(peakRss, rssOf(pid));
        await sleep(100);
      }
    })();
    const healthWatch = (async () => {
      while (watching) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          await res.arrayBuffer();
          if (res.status !== 200) failedProbes++;
        } catch {
          failedProbes++;
        }
        slowest = Math.max(slowest, performance.now() - t0);
        await sleep(100);
      }
    })();
    const attacker = start([ATTACKER, kind, url, tokens[user]], `attacker ${kind}`);
    const code = await new Promise((resolve) => attacker.child.once('exit', resolve));
    await sleep(500);
    watching = false;
    good.state.watching = false;
    await Promise.all([rssWatch, healthWatch]);
    const report = attacker.lines.find((l) => l.startsWith('{'));
    assert.equal(code, 0, `attacker ${kind} failed:\n${attacker.lines.join('\n')}`);
    const result = JSON.parse(report);
    const seen = { rssGrowthMiB: Math.round((peakRss - baseline) / MiB), slowestHealthzMs: Math.round(slowest), failedProbes, goodMaxStallMs: Math.round(good.state.maxGap), goodBroken: good.state.broken };
    return { result, seen };
  }

  /** The bounds every case is held to. */
  function assertNobodyElseHurt(kind, seen) {
    assert.equal(seen.goodBroken, undefined, `${kind}: the good user's stream broke`);
    assert.ok(seen.rssGrowthMiB * MiB < BOUNDS.rssGrowthBytes, `${kind}: relay RSS grew ${seen.rssGrowthMiB} MiB`);
    assert.equal(seen.failedProbes, 0, `${kind}: /healthz failed ${seen.failedProbes} times`);
    assert.ok(seen.slowestHealthzMs < BOUNDS.healthzMs, `${kind}: /healthz took ${seen.slowestHealthzMs} ms`);
    assert.ok(seen.goodMaxStallMs < BOUNDS.goodStallMs, `${kind}: the good user's transfer stalled ${seen.goodMaxStallMs} ms`);
  }

  test('PINGs by the megabyte, never read: the flooder is held back, then closed; nobody else notices', async (t) => {
    const { result, seen } = await attack('ping-flood', 'flooder');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('ping-flood', seen);
    assert.ok(result.close, 'the relay closed the flooder');
    assert.ok([4001, 1006].includes(result.close.code), `closed with ${result.close.code}`);
  });

  test('megabyte messages of OPENs and DATA to nowhere: coded refusals, the relay keeps answering', async (t) => {
    const { result, seen } = await attack('open-flood', 'opener');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('open-flood', seen);
    const refused = Object.keys(result.openErr);
    assert.ok(refused.includes('TUNNEL_OFFLINE') && refused.includes('TUNNEL_UNKNOWN'), `its offline tunnel, and names it may not see (${refused})`);
    // Past the pending-open limit a connection gets STREAM_LIMIT, and past the rate limits
    // (opens of its own tunnel, once access is decided) RATE_LIMITED; nothing else is answered.
    assert.ok(refused.every((code) => ['STREAM_LIMIT', 'TUNNEL_UNKNOWN', 'TUNNEL_OFFLINE', 'RATE_LIMITED'].includes(code)), `only coded refusals: ${refused}`);
    assert.ok(refused.includes('RATE_LIMITED'), `its own tunnel's opens are rate-limited too (${refused})`);
    assert.equal(Object.values(result.openErr).reduce((a, b) => a + b, 0), 6 * 58_421, 'every OPEN is answered');
    assert.ok((result.reset.UNKNOWN_STREAM ?? 0) > 0, 'DATA to no stream is reset with UNKNOWN_STREAM');
    assert.equal(result.openErr.TUNNEL_FORBIDDEN, undefined, "another user's tunnel is not even admitted to exist");
  });

  test("a host that stops reading while its own connector sends it OPENs: refused, then the host is closed", async (t) => {
    const { result, seen } = await attack('slow-host', 'slowhost');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('slow-host', seen);
    assert.ok(result.hostClose, `the host that does not read was closed (relay said:\n${relay.lines.slice(-20).join('\n')})`);
    assert.ok([4001, 4002, 1006].includes(result.hostClose.code), `closed with ${result.hostClose.code}`);
    assert.ok((result.openErr.BUFFER_LIMIT ?? 0) > 0 || (result.openErr.TUNNEL_OFFLINE ?? 0) > 0, `opens towards it refused: ${JSON.stringify(result.openErr)}`);
  });

  test('a stream whose host stops reading does not stall the other streams of its connector', async (t) => {
    const { result, seen } = await attack('stuck-stream', 'stuck');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('stuck-stream', seen);
    assert.equal(result.connectorClose, undefined, 'the connector is never closed for it');
    assert.ok(result.echoes >= 60, `the echo stream kept answering (${result.echoes} echoes in 8 s)`);
    assert.ok(result.maxGapMs < 1000, `the echo stream never stalled for a second (${result.maxGapMs} ms)`);
  });

  test('one identity cannot take every connection: QUOTA_EXCEEDED past maxLinksPerUser', async (t) => {
    const { result, seen } = await attack('links', 'linker');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('links', seen);
    assert.equal(result.accepted, 40);
    assert.deepEqual(result.refused, { status: 429, code: 'TETHER_ERR_QUOTA_EXCEEDED' });
  });

  test('one identity cannot hoard tunnel names: QUOTA_EXCEEDED past maxTunnelsPerUser', async (t) => {
    const { result, seen } = await attack('names', 'namer');
    t.diagnostic(JSON.stringify({ result, seen }));
    assertNobodyElseHurt('names', seen);
    assert.deepEqual(result.results.slice(0, 8), Array(8).fill('ok'));
    assert.ok(result.results.slice(8).every((r) => r === 'TETHER_ERR_QUOTA_EXCEEDED'), JSON.stringify(result.results));
  });
});
