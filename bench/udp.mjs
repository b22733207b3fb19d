// The UDP benchmark: `npm run bench:udp` (= tsc -b && node bench/udp.mjs). See docs/benchmarks.md.
// Datagrams echoed through `tether connect --udp` → relay → `tether share --udp` → echo, against a
// chain of three plain UDP forwarders (the same five processes without Tether), in one run:
// round-trip time of one datagram at a time, and a windowed load (datagrams in flight) with its
// rate and loss. Informational: the design brief sets no UDP targets.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import extension from '@tether/extension';
import { killAll, startNode, startRelayNode, startShareNode } from './procs.mjs';
import { consoleTable, insertSection, machine, markdownSection } from './report.mjs';
import { summary } from './stats.mjs';

const { RelayApi } = extension;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'extension/dist/cli/main.js');
const PEERS = join(ROOT, 'bench/udp-peers.mjs');
const DOC = join(ROOT, 'docs/benchmarks.md');
const config = { pings: 3000, warmup: 300, load: 50_000, window: 256, size: 1200, write: process.env.BENCH_WRITE !== '0' };
const log = (line) => process.stderr.write(`${line}\n`);

async function udpPeer(name, args) {
  const proc = startNode(name, [PEERS, ...args]);
  const [, port] = await proc.waitFor('stdout', /^(\d+)$/);
  return { proc, port: Number(port) };
}

/** A client socket on 127.0.0.1 with room for the load. */
async function client() {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  socket.setRecvBufferSize(4 * 1024 * 1024);
  socket.setSendBufferSize(4 * 1024 * 1024);
  return socket;
}

/** Round-trip times (ms) of `count` datagrams sent one at a time (after `warmup` not counted). */
async function pingPong(port, count, warmup) {
  const socket = await client();
  const times = [];
  let answer;
  socket.on('message', () => answer?.(true));
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    const answered = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 1000);
      answer = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
    });
    socket.send(Buffer.alloc(64), port, '127.0.0.1');
    if ((await answered) && i >= warmup) times.push(performance.now() - started);
  }
  socket.close();
  return times;
}

/**
 * `total` datagrams of `size` bytes with up to `window` in flight (one sent for each that comes
 * back; one not back within 500 ms is written off). Resolves { rate (datagrams/s each way), lost }.
 */
async function windowed(port, { total, window, size }) {
  const socket = await client();
  const seen = new Uint8Array(total);
  const sentAt = new Float64Array(total);
  let received = 0;
  let last = performance.now();
  socket.on('message', (m) => {
    const seq = m.readUInt32BE(0);
    if (seq < total && !seen[seq]) {
      seen[seq] = 1;
      received++;
      last = performance.now();
    }
  });
  // A first datagram opens the flow: the load measures an open one.
  const opener = Buffer.alloc(size);
  opener.writeUInt32BE(0xffffffff, 0);
  socket.send(opener, port, '127.0.0.1');
  await once(socket, 'message');
  const started = performance.now();
  let sent = 0;
  let writtenOff = 0;
  let oldest = 0;
  while (sent < total) {
    while (sent < total && sent - received - writtenOff < window) {
      const datagram = Buffer.alloc(size);
      sentAt[sent] = performance.now();
      datagram.writeUInt32BE(sent++, 0);
      socket.send(datagram, port, '127.0.0.1');
    }
    await new Promise((r) => setImmediate(r));
    for (const now = performance.now(); oldest < sent && (seen[oldest] || now - sentAt[oldest] > 500); oldest++) if (!seen[oldest]) writtenOff++;
  }
  while (received < total && performance.now() - last < 1000) await new Promise((r) => setTimeout(r, 20));
  socket.close();
  return { rate: received / ((last - started) / 1000), lost: total - received };
}

async function measure(name, port) {
  log(`${name}: ${config.pings} round trips, then ${config.load} datagrams with ${config.window} in flight`);
  const rtt = summary(await pingPong(port, config.pings, config.warmup));
  const load = await windowed(port, { total: config.load, window: config.window, size: config.size });
  return { rtt, load };
}

async function main() {
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0].toFixed(2);
  const tmp = mkdtempSync(join(os.tmpdir(), 'tether-bench-udp-'));
  try {
    const echo = await udpPeer('echo', ['echo']);
    // A chain of three plain forwarders: driver → fwd1 → fwd2 → fwd3 → echo.
    let upstream = echo.port;
    for (const name of ['fwd3', 'fwd2', 'fwd1']) upstream = (await udpPeer(name, ['forward', String(upstream)])).port;
    const chain = await measure('forwarding chain', upstream);

    const relay = startRelayNode('relay', [CLI, 'relay', '--port', '0', '--data', join(tmp, 'relay'), '--log-level', 'warn']);
    const [url] = await relay.waitFor('stdout', /^http:\/\/\S+$/);
    const adminToken = readFileSync(join(tmp, 'relay', 'admin-token'), 'utf8').trim();
    const { token } = await new RelayApi(url, adminToken).createUser('bench-udp');
    const host = startShareNode('host', [CLI, 'share', 'echo', '--udp', '--target', `127.0.0.1:${echo.port}`, '--relay', url, '--token', token]);
    await host.waitFor('stderr', /^Sharing udp /);
    const connector = startNode('connector', [CLI, 'connect', 'echo', '--udp', '--listen', '127.0.0.1:0', '--relay', url, '--token', token]);
    const [, port] = await connector.waitFor('stderr', /^Listening for UDP on 127\.0\.0\.1:(\d+)/);
    const tunnel = await measure('tunnel', Number(port));

    const ms = (v) => v.toFixed(3);
    const rows = [
      { metric: 'UDP round trip p50, tunnel / chain (ms)', value: `${ms(tunnel.rtt.p50)} / ${ms(chain.rtt.p50)}`, target: 'informational', verdict: '' },
      { metric: 'UDP round trip p95, tunnel / chain (ms)', value: `${ms(tunnel.rtt.p95)} / ${ms(chain.rtt.p95)}`, target: 'informational', verdict: '' },
      { metric: `UDP echo rate, ${config.size} B, ${config.window} in flight, tunnel / chain (datagrams/s each way)`, value: `${Math.round(tunnel.load.rate)} / ${Math.round(chain.load.rate)}`, target: 'informational', verdict: '' },
      { metric: `UDP lost of ${config.load}, tunnel / chain`, value: `${tunnel.load.lost} / ${chain.load.lost}`, target: 'informational', verdict: '' },
    ];
    console.log(consoleTable(rows));
    const meta = { ...machine(), loadStart, loadEnd: os.loadavg()[0].toFixed(2), durationS: Math.round((Date.now() - startedAt) / 1000) };
    meta.commit = `UDP (bench/udp.mjs), ${meta.commit}`;
    const notes = [
      'Path: driver → `tether connect --udp` → relay → `tether share --udp` → echo, against driver → three plain UDP forwarders (`bench/udp-peers.mjs`, one connected socket per client address, as the tunnel\'s flows) → echo; five processes each way, 4 MiB socket buffers everywhere.',
      `Round trips: one 64-byte datagram at a time, ${config.pings} after ${config.warmup} not counted. Load: ${config.load} datagrams of ${config.size} bytes, up to ${config.window} in flight, a new one for each echoed; rate = datagrams echoed per second.`,
    ];
    if (config.write) insertSection(DOC, markdownSection(meta, rows, notes));
  } finally {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  killAll();
  process.exit(1);
});
