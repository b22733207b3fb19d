// UDP through a tunnel, every party a real process: dnsmasq answers dig and thousands of queries
// through `tether share dns --udp` and `tether connect dns --udp`; ngtcp2's gtlsserver and
// gtlsclient do a QUIC handshake and an HTTP/3 fetch; a stream of numbered datagrams under load
// shows loss and reordering. Loss is measured and reported; only "most arrive" is asserted.
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, cleanEnv, createUser, freePort, HANG_GUARD, Processes, run, startRelay, startShare, tempDir } from './fixtures.mjs';

const PROGRAMS = [['/usr/sbin/dnsmasq', 'dnsmasq-base'], ['/usr/bin/dig', 'dnsutils'], ['/usr/sbin/gtlsserver', 'ngtcp2-server'], ['/usr/bin/gtlsclient', 'ngtcp2-client'], ['/usr/bin/openssl', 'openssl']];

/** Fails loudly (never skips) when a program the suite needs is missing. */
function requireUdpPrograms() {
  const missing = PROGRAMS.filter(([program]) => {
    try {
      accessSync(program, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  try {
    accessSync(CLI, constants.R_OK);
  } catch {
    missing.push([CLI, "run 'npx tsc -b' first"]);
  }
  if (missing.length > 0) throw new Error(`the UDP suite needs ${missing.map(([p, pkg]) => `${p} (${pkg})`).join(', ')}; .ci/run installs them with apt-get`);
}

/** Resolves once something holds UDP `port` on 127.0.0.1 (binding it fails). */
async function udpBound(port) {
  for (;;) {
    const probe = dgram.createSocket('udp4');
    const taken = await new Promise((resolve) => {
      probe.once('error', () => resolve(true));
      probe.bind(port, '127.0.0.1', () => resolve(false));
    });
    probe.close();
    if (taken) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `tether connect NAME --udp --listen 127.0.0.1:0`, ready once it says where it listens; resolves `{ proc, port }`. */
async function startUdpConnect(procs, { url, token, tunnel }) {
  const proc = procs.start(process.execPath, [CLI, 'connect', tunnel, '--udp', '--listen', '127.0.0.1:0'], { env: cleanEnv({ TETHER_RELAY: url, TETHER_TOKEN: token }) });
  const line = await proc.waitFor('stderr', /^Listening for UDP on /);
  return { proc, port: Number(/^Listening for UDP on 127\.0\.0\.1:(\d+): datagrams go to tunnel /.exec(line)[1]) };
}

/** A DNS query for `name`, type A, class IN, with id `id`. */
function dnsQuery(id, name) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/**
 * Sends `count` queries from each of `sockets` client sockets, at most `window` unanswered per
 * socket; a query unanswered after `lostAfterMs` is counted lost (and frees its place). Resolves
 * `{ sent, answered, lost, wrong }`.
 */
async function queryLoad(port, { sockets = 4, count = 500, window = 32, lostAfterMs = 2000 } = {}) {
  const totals = { sent: 0, answered: 0, lost: 0, wrong: 0 };
  await Promise.all(Array.from({ length: sockets }, async () => {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const waiting = new Map();
    let next = 0;
    await new Promise((done) => {
      const settle = () => {
        if (next === count && waiting.size === 0) done();
        while (next < count && waiting.size < window) {
          const id = next++;
          waiting.set(id, setTimeout(() => {
            waiting.delete(id);
            totals.lost++;
            settle();
          }, lostAfterMs));
          totals.sent++;
          socket.send(dnsQuery(id, 'name.test'), port, '127.0.0.1');
        }
      };
      socket.on('message', (m) => {
        const id = m.readUInt16BE(0);
        const timer = waiting.get(id);
        if (timer === undefined) return; // late: already counted lost
        clearTimeout(timer);
        waiting.delete(id);
        const ok = m.readUInt16BE(6) === 1 && m.subarray(-4).join('.') === '10.0.0.1';
        if (ok) totals.answered++;
        else totals.wrong++;
        settle();
      });
      settle();
    });
    socket.close();
  }));
  return totals;
}

describe('UDP through a tunnel', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-e2e-udp-');
  let relay;
  let token;
  before(async () => {
    requireUdpPrograms();
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'uma');
  });
  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('dnsmasq through the tunnel: dig gets its answer, and 2,000 queries are answered with the loss measured', async (t) => {
    const dnsPort = await freePort();
    const dnsmasq = procs.start('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', `--port=${dnsPort}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--address=/name.test/10.0.0.1', '--log-facility=-', `--pid-file=${join(tmp.path, 'dnsmasq.pid')}`]);
    await dnsmasq.waitFor('stderr', /started, version/);
    const share = await startShare(procs, { url: relay.url, token, tunnel: 'dns', targetPort: dnsPort, args: ['--udp'] });
    assert.match(share.stderr.text, new RegExp(`^Sharing udp 127\\.0\\.0\\.1:${dnsPort} as tunnel dns via `, 'm'));
    const connect = await startUdpConnect(procs, { url: relay.url, token, tunnel: 'dns' });

    const dig = await run('/usr/bin/dig', ['@127.0.0.1', '-p', String(connect.port), 'name.test', '+short', '+tries=3']);
    assert.equal(dig.code, 0, dig.stderr);
    assert.equal(dig.stdout.trim(), '10.0.0.1');

    const load = await queryLoad(connect.port);
    const lossPercent = (100 * load.lost) / load.sent;
    t.diagnostic(`DNS through the tunnel: ${load.sent} queries, ${load.answered} answered, ${load.lost} lost (${lossPercent.toFixed(2)}%), ${load.wrong} wrong`);
    assert.equal(load.sent, 2000);
    assert.equal(load.wrong, 0);
    assert.ok(load.answered >= 0.99 * load.sent, `at least 99% answered on loopback: ${load.answered} of ${load.sent}`);

    // Each side says what it carried, and stops cleanly.
    assert.equal(await procs.stop(connect.proc, 'SIGINT'), 0, connect.proc.stderr.text);
    const said = /^udp: 5 flows, ([\d,]+) datagrams up, ([\d,]+) down, ([\d,]+) dropped/m.exec(connect.proc.stderr.text);
    assert.ok(said, connect.proc.stderr.text);
    t.diagnostic(`tether connect said: ${said[0]}`);
    assert.equal(await procs.stop(share, 'SIGINT'), 0, share.stderr.text);
    assert.match(share.stderr.text, /^udp: \d+ flows?, [\d,]+ datagrams up, [\d,]+ down, [\d,]+ dropped/m);
    for (const proc of [connect.proc, share]) assert.doesNotMatch(proc.stderr.text, /^\s+at /m);
  });

  test('QUIC: ngtcp2 gtlsclient fetches a file over HTTP/3 from gtlsserver through the tunnel', async (t) => {
    const certDir = join(tmp.path, 'quic');
    const htdocs = join(certDir, 'htdocs');
    const downloads = join(certDir, 'downloads');
    mkdirSync(htdocs, { recursive: true });
    mkdirSync(downloads);
    const cert = await run('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost']);
    assert.equal(cert.code, 0, cert.stderr);
    const served = randomBytes(4 * 1024 * 1024);
    writeFileSync(join(htdocs, 'blob.bin'), served);
    const quicPort = await freePort();
    procs.start('/usr/sbin/gtlsserver', ['-q', '-d', htdocs, '127.0.0.1', String(quicPort), join(certDir, 'key.pem'), join(certDir, 'cert.pem')]);
    await udpBound(quicPort);
    await startShare(procs, { url: relay.url, token, tunnel: 'quic', targetPort: quicPort, args: ['--udp'] });
    const connect = await startUdpConnect(procs, { url: relay.url, token, tunnel: 'quic' });

    const client = await run('/usr/bin/gtlsclient', ['-q', '--exit-on-all-streams-close', `--download=${downloads}`, '127.0.0.1', String(connect.port), `https://127.0.0.1:${connect.port}/blob.bin`]);
    assert.equal(client.code, 0, client.stderr);
    const fetched = readFileSync(join(downloads, 'blob.bin'));
    assert.equal(fetched.length, served.length);
    assert.ok(fetched.equals(served), 'the bytes served are the bytes fetched');
    assert.equal(await procs.stop(connect.proc, 'SIGINT'), 0);
    t.diagnostic(`QUIC fetch of ${served.length} bytes; tether connect said: ${/^udp: .*$/m.exec(connect.proc.stderr.text)?.[0]}`);
  });

  test('numbered datagrams under load: most arrive; loss and reordering are measured', async (t) => {
    // An echo service: every datagram back to where it came from.
    const echo = dgram.createSocket('udp4');
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    // Room for the bursts in the test's own sockets too: their losses would not be the tunnel's.
    echo.setRecvBufferSize(4 * 1024 * 1024);
    procs.defer(() => new Promise((r) => echo.close(r)));
    echo.on('message', (m, rinfo) => echo.send(m, rinfo.port, rinfo.address));
    await startShare(procs, { url: relay.url, token, tunnel: 'echo', targetPort: echo.address().port, args: ['--udp'] });
    const connect = await startUdpConnect(procs, { url: relay.url, token, tunnel: 'echo' });

    const sender = dgram.createSocket('udp4');
    sender.bind(0, '127.0.0.1');
    await once(sender, 'listening');
    sender.setRecvBufferSize(4 * 1024 * 1024);
    sender.setSendBufferSize(4 * 1024 * 1024);
    const total = 20_000;
    const size = 1200;
    let received = 0;
    let reordered = 0;
    let duplicates = 0;
    let highest = -1;
    const seen = new Uint8Array(total);
    let lastArrival = Date.now();
    sender.on('message', (m) => {
      const seq = m.readUInt32BE(0);
      lastArrival = Date.now();
      if (seen[seq]) {
        duplicates++;
        return;
      }
      seen[seq] = 1;
      received++;
      if (seq < highest) reordered++;
      else highest = seq;
    });
    // Full load, self-clocked so that it means the same on any machine: up to `window`
    // datagrams in flight (600 KB: more than any of the path's default socket buffers), a new
    // one sent for each that comes back. One not back half a second after it was sent is
    // written off (it no longer holds a place in the window), and the sending goes on.
    const window = 500;
    const sentAt = new Float64Array(total);
    let sent = 0;
    let writtenOff = 0;
    let oldest = 0;
    const started = Date.now();
    while (sent < total) {
      while (sent < total && sent - received - writtenOff < window) {
        const datagram = Buffer.alloc(size);
        sentAt[sent] = Date.now();
        datagram.writeUInt32BE(sent++, 0);
        sender.send(datagram, connect.port, '127.0.0.1');
      }
      await new Promise((r) => setImmediate(r));
      for (const now = Date.now(); oldest < sent && (seen[oldest] || now - sentAt[oldest] > 500); oldest++) if (!seen[oldest]) writtenOff++;
    }
    // Done when nothing has come back for a while (or everything has).
    while (received < total && Date.now() - lastArrival < 2000) await new Promise((r) => setTimeout(r, 50));
    const seconds = (lastArrival - started) / 1000;
    sender.close();
    const lost = total - received;
    t.diagnostic(`${total} datagrams of ${size} bytes echoed through the tunnel (window ${window}, ${received} back in ${seconds.toFixed(1)} s, for information): ${lost} lost (${((100 * lost) / total).toFixed(2)}%), ${reordered} out of order, ${duplicates} duplicated`);
    assert.equal(await procs.stop(connect.proc, 'SIGINT'), 0);
    t.diagnostic(`tether connect said: ${/^udp: .*$/m.exec(connect.proc.stderr.text)?.[0]}`);
    const metrics = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${relay.adminToken}` } }).then((r) => r.text());
    t.diagnostic(`relay: ${metrics.split('\n').filter((l) => l.startsWith('tether_datagrams_total')).join('; ')}`);
    assert.equal(duplicates, 0, 'the tunnel never duplicates a datagram');
    assert.ok(received > total / 2, `most arrive: ${received} of ${total}`);
  });

  test('a relay full of flows refuses the next one with FLOW_LIMIT: the connector says so, and serves the others', async () => {
    const limited = await startRelay(procs, tmp.path, { dataDir: join(tmp.path, 'relay-limited'), args: ['--limit', 'maxFlowsPerTunnel=1'] });
    const user = await createUser(limited, 'ulla');
    const echo = dgram.createSocket('udp4');
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    procs.defer(() => new Promise((r) => echo.close(r)));
    echo.on('message', (m, rinfo) => echo.send(m, rinfo.port, rinfo.address));
    await startShare(procs, { url: limited.url, token: user, tunnel: 'one', targetPort: echo.address().port, args: ['--udp'] });
    const connect = await startUdpConnect(procs, { url: limited.url, token: user, tunnel: 'one' });
    const clients = await Promise.all([0, 1].map(async () => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      procs.defer(() => new Promise((r) => socket.close(r)));
      return socket;
    }));
    clients[0].send('first', connect.port, '127.0.0.1');
    assert.equal(String((await once(clients[0], 'message'))[0]), 'first');
    clients[1].send('second', connect.port, '127.0.0.1');
    const line = await connect.proc.waitFor('stderr', /TETHER_ERR_FLOW_LIMIT/);
    assert.equal(line, `127.0.0.1:${clients[1].address().port}: could not reach tunnel one: UDP tunnel one already carries the most flows this relay allows (1): each client address is a flow and idle ones end by themselves; try again shortly, or ask the relay's operator to raise --limit maxFlowsPerTunnel [TETHER_ERR_FLOW_LIMIT]`);
    clients[0].send('still served', connect.port, '127.0.0.1');
    assert.equal(String((await once(clients[0], 'message'))[0]), 'still served');
    assert.doesNotMatch(connect.proc.stderr.text, /^\s+at /m);
  });
});
