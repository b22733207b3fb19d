// What a user sees when something is wrong, with every party a real process: one line
// `tether: <message> [TETHER_ERR_CODE]` on stderr and exit status 1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import {
  CLI, cleanEnv, createUser, HANG_GUARD, freePort, Processes, requirePrograms, run, ssh, startRelay, startShare, startSshd, tempDir, tether,
} from './fixtures.mjs';

/** The CLI's error line, anywhere in `stderr` (ssh adds its own lines around it). */
function errorLine(code) {
  return new RegExp(`^tether: .+ \\[${code}\\]$`, 'm');
}

describe('ssh ProxyCommand errors', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  let relay;
  let token;
  let sshd;

  before(async () => {
    requirePrograms();
    sshd = await startSshd(procs, tmp.path);
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'bob');
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  const cases = [
    { name: 'an unknown tunnel', tunnel: 'no-such-tunnel', token: () => token, code: 'TETHER_ERR_TUNNEL_UNKNOWN' },
    { name: 'a wrong token', tunnel: 'no-such-tunnel', token: () => 'not-a-valid-token-0123456789', code: 'TETHER_ERR_UNAUTHORIZED' },
    { name: 'an invalid tunnel name', tunnel: 'Not_Valid', token: () => token, code: 'TETHER_ERR_INVALID_TUNNEL_NAME' },
  ];
  for (const c of cases) {
    test(`${c.name}: ssh fails and shows ${c.code}`, async () => {
      const r = await ssh({ port: sshd.port, key: sshd.key, proxyTunnel: c.tunnel, relay: relay.url, token: c.token() }, 'echo unreachable');
      assert.equal(r.code, 255, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, errorLine(c.code));
    });
  }

  test('a tunnel whose `tether share` stopped: ssh fails with TETHER_ERR_TUNNEL_OFFLINE', async () => {
    const tunnel = 'e2e-stopping';
    const share = await startShare(procs, { url: relay.url, token, tunnel, targetPort: sshd.port });
    const through = { port: sshd.port, key: sshd.key, proxyTunnel: tunnel, relay: relay.url, token };
    const before = await ssh(through, 'echo up');
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout, 'up\n');

    assert.equal(await procs.stop(share, 'SIGTERM'), 0, share.stderr.text);
    const afterStop = await ssh(through, 'echo unreachable');
    assert.equal(afterStop.code, 255, afterStop.stderr);
    assert.match(afterStop.stderr, errorLine('TETHER_ERR_TUNNEL_OFFLINE'));
  });
});

describe('no relay listening', HANG_GUARD, () => {
  const procs = new Processes(); // Only to stop a one-shot command that a failure left running.
  let relayUrl;

  before(async () => {
    requirePrograms();
    relayUrl = `http://127.0.0.1:${await freePort()}`;
  });

  after(() => procs.stopAll());

  const commands = [
    ['proxy', 'e2e-box'],
    ['connect', 'e2e-box', '--listen', '127.0.0.1:PORT'],
    ['tunnels'],
    ['user', 'create', 'dave'],
  ];
  for (const args of commands) {
    test(`tether ${args.slice(0, 2).join(' ')} exits 1 with one TETHER_ERR_RELAY_UNREACHABLE line`, async () => {
      const port = await freePort();
      const r = await tether(args.map((a) => a.replace('PORT', String(port))), { relay: relayUrl, token: 'some-token-0123456789abcdef' });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^tether: .+ \[TETHER_ERR_RELAY_UNREACHABLE\]\n$/);
    });
  }
});

/** Listens on 127.0.0.1, port 0; resolves with the port. */
async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

/** Asserts a failed one-shot command: exit 1, nothing on stdout, exactly `lines` on stderr, no stack trace. */
function assertFailure(r, lines) {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, lines.map((l) => `${l}\n`).join(''));
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('a wrong relay URL, name, token or agent: one line that says what is wrong and what to do', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir();
  const servers = [];
  let relay;
  let token;
  let sshdUrl;
  let plainUrl;
  let tlsPort;
  let closerUrl;
  let freeUrl;

  before(async () => {
    requirePrograms();
    const sshd = await startSshd(procs, tmp.path);
    sshdUrl = `http://127.0.0.1:${sshd.port}`;
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'erin');

    // A web server that is not a relay.
    const plain = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found'));
    plainUrl = `http://127.0.0.1:${await listen(plain)}`;
    // A TLS server with a self-signed certificate, as a relay behind TLS would have by default.
    const cert = await run('/usr/bin/openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(tmp.path, 'key.pem'), '-out', join(tmp.path, 'cert.pem'),
    ]);
    assert.equal(cert.code, 0, cert.stderr);
    const tls = https.createServer({ key: readFileSync(join(tmp.path, 'key.pem')), cert: readFileSync(join(tmp.path, 'cert.pem')) }, (_req, res) => res.end('{}'));
    tlsPort = await listen(tls);
    // Accepts the WebSocket (with the right subprotocol) and closes it at once, as nothing else.
    const closerServer = http.createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server: closerServer, handleProtocols: (protocols) => [...protocols][0] });
    wss.on('connection', (ws) => ws.close(1011));
    closerUrl = `http://127.0.0.1:${await listen(closerServer)}`;
    servers.push(plain, tls, closerServer);
    freeUrl = `http://127.0.0.1:${await freePort()}`;
  });

  after(async () => {
    for (const server of servers) server.closeAllConnections?.();
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
    await procs.stopAll();
    tmp.dispose();
  });

  const tls = () => `https://127.0.0.1:${tlsPort}`;
  const trust = "if the relay's certificate is self-signed or from a private CA, start with NODE_EXTRA_CA_CERTS set to that certificate's PEM file";
  // Each wrong relay URL, through the HTTP API (`tether tunnels`) and the WebSocket (`tether proxy`).
  const urls = [
    {
      name: 'an SSH server',
      url: () => sshdUrl,
      line: () => `tether: ${sshdUrl} is not a Tether relay (it is an SSH server); check the relay URL [TETHER_ERR_RELAY_REJECTED]`,
    },
    {
      name: 'https:// to a relay without TLS',
      url: () => relay.url.replace('http:', 'https:'),
      line: () => `tether: ${relay.url.replace('http:', 'https:')} does not speak TLS; use http:// (or ws://) for this relay [TETHER_ERR_RELAY_REJECTED]`,
    },
    {
      name: 'a malformed URL (http:/)',
      url: () => relay.url.replace('//', '/'),
      line: () => `tether: relay URL "${relay.url.replace('//', '/')}" is malformed: write it as http://HOST:PORT [TETHER_ERR_INVALID_ARGUMENT]`,
    },
    {
      name: 'a URL with a path',
      url: () => `${relay.url}/foo`,
      line: () => `tether: relay URL "${relay.url}/foo" has a path (/foo): a relay is addressed as http://HOST:PORT, with nothing after the port [TETHER_ERR_INVALID_ARGUMENT]`,
    },
    {
      name: 'a web server that is not a relay',
      url: () => plainUrl,
      line: (request) => `tether: ${plainUrl} is not a Tether relay (it answered HTTP 404 Not Found to ${request}); check the relay URL [TETHER_ERR_RELAY_REJECTED]`,
    },
    {
      name: 'a port nothing listens on',
      url: () => freeUrl,
      line: () => `tether: nothing listens at ${freeUrl} (connection refused); check that the relay is running and the relay URL [TETHER_ERR_RELAY_UNREACHABLE]`,
    },
    {
      name: 'https:// to a self-signed certificate',
      url: () => tls(),
      line: () => `tether: the TLS certificate of ${tls()} is not trusted (self-signed certificate); ${trust} [TETHER_ERR_RELAY_REJECTED]`,
    },
    {
      name: 'wss:// to a self-signed certificate',
      url: () => tls().replace('https:', 'wss:'),
      line: () => `tether: the TLS certificate of ${tls()} is not trusted (self-signed certificate); ${trust} [TETHER_ERR_RELAY_REJECTED]`,
    },
    {
      name: 'http:// to a TLS server',
      url: () => tls().replace('https:', 'http:'),
      line: () => `tether: ${tls().replace('https:', 'http:')} closed the connection without answering; if the relay uses TLS, use https:// (or wss://), otherwise check that it is a Tether relay [TETHER_ERR_RELAY_UNREACHABLE]`,
    },
  ];
  for (const c of urls) {
    for (const [args, request] of [[['tunnels'], 'GET /v1/tunnels'], [['proxy', 'e2e-box'], 'GET /v1/connect']]) {
      test(`${c.name}: tether ${args[0]}`, async () => {
        assertFailure(await tether(args, { relay: c.url(), token }), [c.line(request)]);
      });
    }
  }

  test('a WebSocket closed at once: tether proxy says so', async () => {
    assertFailure(await tether(['proxy', 'e2e-box'], { relay: closerUrl, token }), [
      `tether: ${closerUrl} accepted the WebSocket and closed it at once (close code 1011: internal error): it is not a Tether relay, or it is failing; check the relay URL and the relay's log [TETHER_ERR_CONNECTION_LOST]`,
    ]);
  });

  test('a 300-character user name: refused before it is sent, and the relay says the same', async () => {
    const name = 'a'.repeat(300);
    const line = "user name is too long (300 characters; at most 63 of a-z, 0-9 and '-')";
    assertFailure(await tether(['user', 'create', name], { relay: relay.url, token: relay.adminToken }), [`tether: ${line} [TETHER_ERR_INVALID_ARGUMENT]`]);
    const res = await fetch(`${relay.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 'TETHER_ERR_INVALID_ARGUMENT', message: line });
  });

  const refused = 'tether: the relay does not accept this token (mistyped, replaced, or its user deleted); get a new one from the relay admin [TETHER_ERR_UNAUTHORIZED]';
  for (const args of [['tunnels'], ['proxy', 'e2e-box']]) {
    test(`a bad token: tether ${args[0]}`, async () => {
      assertFailure(await tether(args, { relay: relay.url, token: 'not-a-valid-token-0123456789' }), [refused]);
    });
  }

  test('an unknown tunnel: tether proxy', async () => {
    assertFailure(await tether(['proxy', 'no-such-tunnel'], { relay: relay.url, token }), ['tether: no tunnel named no-such-tunnel [TETHER_ERR_TUNNEL_UNKNOWN]']);
  });

  /** `tether ssh no-such-tunnel ARGS` with no agent anywhere but what `env` names; returns its result. */
  const sshWithout = (args, env) =>
    run(process.execPath, [CLI, 'ssh', 'no-such-tunnel', ...args], {
      // A gpg home of our own: the machine's gpg-agent must not answer.
      env: cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token, GNUPGHOME: join(tmp.path, 'gnupg'), ...env }),
    });
  const unknownTunnel = 'tether: no tunnel named no-such-tunnel [TETHER_ERR_TUNNEL_UNKNOWN]';

  test('tether ssh -A with no agent: one line, what was tried and what to do, the code once', async () => {
    const gpg = await run('gpgconf', ['--list-dirs', 'agent-ssh-socket'], { env: cleanEnv({ GNUPGHOME: join(tmp.path, 'gnupg') }) }).catch(() => ({ code: 1, stdout: '' }));
    const gpgSocket = gpg.code === 0 ? gpg.stdout.trim() : '';
    const found = gpgSocket
      ? `tried gpg-agent (gpgconf --list-dirs agent-ssh-socket): cannot reach the agent at ${gpgSocket}: no such socket`
      : `none found (SSH_AUTH_SOCK is not set; gpgconf names no gpg-agent ssh socket; no pageant socket in /tmp/pageant.${userInfo().username})`;
    const r = await sshWithout(['-A'], {});
    assertFailure(r, [
      `tether: agent forwarding is off: no working SSH agent (any of ssh-agent, gpg-agent, pageant): ${found}; start an agent and add a key (eval $(ssh-agent); ssh-add), or name its socket with --agent-socket [TETHER_ERR_NOT_FOUND]`,
      unknownTunnel,
    ]);
    assert.equal(r.stderr.split('TETHER_ERR_NOT_FOUND').length - 1, 1);
  });

  test('tether ssh -A --agent pageant while SSH_AUTH_SOCK is set: no "no SSH_AUTH_SOCK", a pointer to it instead', async () => {
    const sock = join(tmp.path, 'agent.sock');
    const r = await sshWithout(['-A', '--agent', 'pageant'], { SSH_AUTH_SOCK: sock });
    assertFailure(r, [
      `tether: agent forwarding is off: no working SSH agent (pageant): none found (no pageant socket in /tmp/pageant.${userInfo().username}); SSH_AUTH_SOCK is set (${sock}): to use that agent, choose ssh-agent or auto with --agent [TETHER_ERR_NOT_FOUND]`,
      unknownTunnel,
    ]);
    assert.equal(r.stderr.split('TETHER_ERR_NOT_FOUND').length - 1, 1);
  });
});
