// Protocol detection and allow-lists (docs/protocols.md) with real clients: tunnels shared with
// `tether share --allow ssh`, reached through `tether connect` listeners. A real ssh session goes
// through; a TLS handshake (node:tls and openssl s_client) and an HTTP request (curl) are refused
// with PROTOCOL_NOT_ALLOWED before a byte reaches the target; the relay's audit log and metrics
// name the protocols.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import {
  createUser, HANG_GUARD, Processes, requirePrograms, run, ssh, startConnect, startRelay, startShare, startSshd, tempDir,
} from './fixtures.mjs';

/** A TCP server that records every byte it receives, per connection, and never answers. */
async function recordingServer() {
  const connections = [];
  const server = net.createServer((socket) => {
    const entry = { bytes: 0 };
    connections.push(entry);
    socket.on('data', (d) => (entry.bytes += d.length));
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: server.address().port, connections, close: () => server.close() };
}

/** A TLS handshake through `port` for `servername`; resolves how it ended (it never completes here). */
function tlsAttempt(port, servername) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('secure');
    });
    socket.once('error', (err) => resolve(`error: ${err.code ?? err.message}`));
    socket.once('close', () => resolve('closed'));
  });
}

describe('protocol allow-lists through real clients', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-e2e-protocols-');
  let relay;
  let admin;
  let token;
  let sshd;
  let target;
  let viaSsh;
  let viaTarget;
  let targetListener;

  /** The relay's audit entries of `event` (GET /v1/audit as the admin). */
  async function auditOf(event) {
    const res = await fetch(`${relay.url}/v1/audit?event=${event}&limit=100`, { headers: admin });
    assert.equal(res.status, 200);
    return (await res.json()).entries;
  }

  /**
   * Polls the audit log until `count` entries of `event` match `filter` (streams end, and the
   * sink writes, asynchronously). The guard only turns a hang into a failure that says what was seen.
   */
  async function awaitAudit(event, count, filter = () => true) {
    const guard = Date.now() + 60_000;
    for (;;) {
      const all = await auditOf(event);
      const entries = all.filter(filter);
      if (entries.length >= count) return entries;
      if (Date.now() > guard) assert.fail(`expected ${count} ${event} records, found: ${JSON.stringify(all)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    target = await recordingServer();
    procs.defer(() => target.close());
    relay = await startRelay(procs, tmp.path);
    admin = { authorization: `Bearer ${relay.adminToken}` };
    token = await createUser(relay, 'alice');
    await startShare(procs, { url: relay.url, token, tunnel: 'only-ssh', targetPort: sshd.port, args: ['--allow', 'ssh'] });
    await startShare(procs, { url: relay.url, token, tunnel: 'ssh-guarded', targetPort: target.port, args: ['--allow', 'ssh'] });
    const a = await startConnect(procs, { url: relay.url, token, tunnel: 'only-ssh' });
    const b = await startConnect(procs, { url: relay.url, token, tunnel: 'ssh-guarded' });
    viaSsh = { port: a.port, key: sshd.key };
    viaTarget = b.port;
    targetListener = b.proc;
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('a real ssh session goes through a tunnel that allows only ssh', async () => {
    const r = await ssh(viaSsh, 'echo allowed-$(whoami)');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'allowed-root\n');
    const [closed] = await awaitAudit('stream.closed', 1, (e) => e.target === 'tunnel:only-ssh');
    assert.equal(closed.details.detail.protocol, 'ssh');
    assert.match(closed.details.detail.sshVersion, /^OpenSSH_/);
  });

  test('TLS (node:tls and openssl s_client) and HTTP (curl) are refused and reach the target with no byte', async () => {
    assert.notEqual(await tlsAttempt(viaTarget, 'db.example.com'), 'secure');
    const openssl = await run('/usr/bin/openssl', ['s_client', '-connect', `127.0.0.1:${viaTarget}`, '-servername', 'openssl.example', '-alpn', 'h2'], { env: process.env });
    assert.notEqual(openssl.code, 0, 'the handshake cannot complete');
    const curl = await run('/usr/bin/curl', ['-sS', '--max-time', '60', `http://127.0.0.1:${viaTarget}/private/path`], { env: process.env });
    assert.notEqual(curl.code, 0, `curl got an answer: ${curl.stdout}`);

    const refused = await awaitAudit('stream.protocol_refused', 3, (e) => e.target === 'tunnel:ssh-guarded');
    const seen = refused.map((e) => [e.details.detail.protocol, e.details.detail.sni ?? e.details.detail.method]).sort();
    assert.deepEqual(seen, [['http1', 'GET'], ['tls', 'db.example.com'], ['tls', 'openssl.example']]);
    const tlsRefusal = refused.find((e) => e.details.detail.sni === 'db.example.com');
    assert.equal(tlsRefusal.details.reason, 'tunnel ssh-guarded carries only ssh; this stream speaks TLS (SNI db.example.com)');
    assert.equal(tlsRefusal.details.detail.alpn, 'h2,http/1.1');
    // The person at the listener is told why, with the code.
    await targetListener.waitFor('stderr', /carries only ssh; this stream speaks HTTP\/1\.x \(GET\) \[TETHER_ERR_PROTOCOL_NOT_ALLOWED\]$/);
    assert.match(targetListener.stderr.text, /ended: tunnel ssh-guarded carries only ssh; this stream speaks TLS \(SNI db\.example\.com\) \[TETHER_ERR_PROTOCOL_NOT_ALLOWED\]/);
    // The host agent may open a connection to the target for a stream before it is refused: none carried a byte.
    assert.ok(target.connections.length > 0);
    assert.deepEqual(target.connections.map((c) => c.bytes).filter((n) => n > 0), []);
  });

  test('the relay counts streams by protocol and the refusals by code', async () => {
    const res = await fetch(`${relay.url}/metrics`, { headers: admin });
    assert.equal(res.status, 200);
    const text = await res.text();
    const value = (pattern) => Number(text.match(pattern)?.[1] ?? 0);
    assert.ok(value(/^tether_streams_by_protocol_total\{protocol="ssh"\} (\d+)/m) >= 1, text);
    assert.ok(value(/^tether_streams_by_protocol_total\{protocol="tls"\} (\d+)/m) >= 2, text);
    assert.ok(value(/^tether_streams_by_protocol_total\{protocol="http1"\} (\d+)/m) >= 1, text);
    assert.equal(value(/^tether_streams_reset_total\{code="25",by="relay"\} (\d+)/m), 3, text);
  });
});
