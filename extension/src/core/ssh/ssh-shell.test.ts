// SshShell against a real OpenSSH server, reached through a real Tether tunnel (relay, host
// agent and connector over WebSockets on 127.0.0.1), as the VS Code terminal reaches it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRelay, type RunningRelay } from '@tether/relay';
import { createError, ErrorCode, isTetherError, MuxDuplex, type ErrorCodeString } from '@tether/shared';
import { Connector } from '../connector.js';
import { HostAgent } from '../host-agent.js';
import { RelayApi } from '../relay-api.js';
import { webSocketFactory } from '../relay-session.js';
import { listening } from '../../test-support/testing.js';
import { startSshd, type Sshd } from '../../test-support/sshd-fixture.js';
import { SshShell, type HostKeyDecision, type HostKeyInfo, type SshShellOptions } from './ssh-shell.js';

const TUNNEL = 'ssh-test';
let sshd: Sshd;
let relay: RunningRelay;
let agent: HostAgent;
let connector: Connector;
let dir: string;
let knownFile: string;
let hostKeyLine: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tether-ssh-shell-'));
  sshd = await startSshd();
  const adminToken = randomBytes(16).toString('hex');
  relay = await startRelay({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'relay'), adminToken, logger: false });
  const { token } = await new RelayApi(relay.url, adminToken).createUser('alice');
  const factory = webSocketFactory({ relay: relay.url, token });
  agent = new HostAgent({ tunnel: TUNNEL, target: { host: '127.0.0.1', port: sshd.port }, factory });
  await agent.start();
  connector = new Connector(factory);
  hostKeyLine = readFileSync(sshd.hostKeyPub, 'utf8').split(' ').slice(0, 2).join(' ');
  knownFile = join(dir, 'known_hosts');
  writeFileSync(knownFile, `${TUNNEL} ${hostKeyLine}\n`);
});

after(async () => {
  connector?.close();
  await agent?.stop(0);
  await relay?.app.close();
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tunnelSock = async (): Promise<MuxDuplex> => new MuxDuplex(await connector.open(TUNNEL));

const neverAsked = async (): Promise<HostKeyDecision> => {
  throw new Error('confirmNewHostKey must not be called');
};

async function open(options: Partial<SshShellOptions> = {}): Promise<SshShell> {
  return SshShell.open({
    sock: options.sock ?? (await tunnelSock()),
    username: 'root',
    hostLabel: TUNNEL,
    knownHostsFile: knownFile,
    identityFile: sshd.clientKey,
    confirmNewHostKey: neverAsked,
    cols: 80,
    rows: 24,
    ...options,
  });
}

/** Everything the shell prints until it closes, and how it exited. */
async function untilClose(shell: SshShell): Promise<{ output: string; exit: [number | null, string | null] }> {
  let output = '';
  let exit: [number | null, string | null] | undefined;
  shell.on('data', (chunk) => (output += chunk.toString()));
  shell.on('exit', (code, signal) => (exit = [code, signal]));
  // Not events.once(): it listens for 'error' too, and would turn CONNECTION_LOST into a rejection.
  await new Promise<void>((resolve) => shell.once('close', resolve));
  assert.ok(exit, "'exit' comes before 'close'");
  return { output, exit };
}

const rejectsWith = (promise: Promise<unknown>, code: ErrorCodeString): Promise<void> =>
  assert.rejects(promise, (err) => {
    assert.ok(isTetherError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });

describe('SshShell over a tunnel to a real sshd', () => {
  test('runs a command: its output and exit code 3 arrive, then it closes', async () => {
    const shell = await open({ command: 'echo hello; exit 3' });
    const { output, exit } = await untilClose(shell);
    assert.match(output, /hello/);
    assert.deepEqual(exit, [3, null]);
  });

  test('without a pty, stdout and stderr both arrive as data', async () => {
    const shell = await open({ command: 'echo out; echo err >&2; [ -t 0 ] || exit 7', pty: false });
    const { output, exit } = await untilClose(shell);
    assert.match(output, /out/);
    assert.match(output, /err/);
    assert.deepEqual(exit, [7, null]);
  });

  test('an interactive shell sees the new size after resize, and exits with its code', async () => {
    const shell = await open({ cols: 80, rows: 24 });
    const closed = untilClose(shell);
    shell.resize(100, 40);
    // One line that also exits, so a wrong size fails the test instead of waiting forever.
    shell.write(Buffer.from('stty size; exit 5\n'));
    const { output, exit } = await closed;
    assert.match(output, /^40 100\r?$/m);
    assert.deepEqual(exit, [5, null]);
  });

  test('close() ends the channel and the connection: exit without a code, close, and the tunnel stream ends', async () => {
    const sock = await tunnelSock();
    const shell = await open({ sock });
    const sockClosed = once(sock, 'close');
    const closed = untilClose(shell);
    shell.close();
    shell.close();
    assert.deepEqual((await closed).exit, [null, null]);
    await sockClosed;
    shell.write('ignored after close\n');
  });

  test('a connection lost under an open shell reports CONNECTION_LOST, then exit and close', async () => {
    const sock = await tunnelSock();
    const shell = await open({ sock });
    const errors: unknown[] = [];
    shell.on('error', (err) => errors.push(err));
    const closed = untilClose(shell);
    sock.destroy();
    assert.deepEqual((await closed).exit, [null, null]);
    assert.equal(errors.length, 1);
    assert.ok(isTetherError(errors[0], ErrorCode.CONNECTION_LOST));
  });

  test('a stream that ends with its own coded error (resume gave up) reports that error, code and all', async () => {
    const sock = await tunnelSock();
    const shell = await open({ sock });
    const errors: unknown[] = [];
    shell.on('error', (err) => errors.push(err));
    const closed = untilClose(shell);
    sock.destroy(createError(ErrorCode.RESUME_TIMEOUT, 'stream not resumed within 6000 ms (connection to relay lost)'));
    assert.deepEqual((await closed).exit, [null, null]);
    assert.equal(errors.length, 1);
    assert.ok(isTetherError(errors[0], ErrorCode.RESUME_TIMEOUT));
    assert.match((errors[0] as Error).message, /^stream not resumed within 6000 ms/);
  });
});

describe('host keys', () => {
  const expectedFingerprint = (): string => execFileSync('ssh-keygen', ['-l', '-f', sshd.hostKeyPub], { encoding: 'utf8' }).split(' ')[1];

  const decisions: { decision: HostKeyDecision; code?: ErrorCodeString; saved: boolean }[] = [
    { decision: 'reject', code: ErrorCode.HOST_KEY_UNKNOWN, saved: false },
    { decision: 'accept-once', saved: false },
    { decision: 'accept-and-save', saved: true },
  ];
  for (const { decision, code, saved } of decisions) {
    test(`an unknown key is offered with its SHA256 fingerprint; '${decision}' ${code ? 'fails' : 'connects'}${saved ? ' and saves it' : ''}`, async () => {
      const file = join(dir, `known-${decision}`, 'known_hosts');
      const asked: HostKeyInfo[] = [];
      const confirmNewHostKey = async (info: HostKeyInfo): Promise<HostKeyDecision> => {
        asked.push(info);
        return decision;
      };
      const opening = open({ knownHostsFile: file, confirmNewHostKey, command: 'exit 0' });
      if (code) await rejectsWith(opening, code);
      else assert.deepEqual((await untilClose(await opening)).exit, [0, null]);
      assert.deepEqual(asked, [{ host: TUNNEL, keyType: 'ssh-ed25519', fingerprint: expectedFingerprint() }]);
      assert.equal(existsSync(file) ? readFileSync(file, 'utf8') : '', saved ? `${TUNNEL} ${hostKeyLine}\n` : '');
      if (saved) {
        // The next connection finds the key and does not ask again.
        const again = await open({ knownHostsFile: file, command: 'exit 0' });
        assert.deepEqual((await untilClose(again)).exit, [0, null]);
      }
    });
  }

  const refusals: { name: string; lines: () => string }[] = [
    { name: 'a CHANGED key', lines: () => `${TUNNEL} ${readFileSync(`${sshd.strangerKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n` },
    { name: 'a revoked key', lines: () => `@revoked ${TUNNEL} ${hostKeyLine}\n${TUNNEL} ${hostKeyLine}\n` },
  ];
  for (const { name, lines } of refusals) {
    test(`${name} fails with HOST_KEY_CHANGED without asking`, async () => {
      const file = join(dir, `known-${name.replace(/\W/g, '-')}`);
      writeFileSync(file, lines());
      let asked = 0;
      const confirmNewHostKey = async (): Promise<HostKeyDecision> => {
        asked++;
        return 'accept-once';
      };
      await rejectsWith(open({ knownHostsFile: file, confirmNewHostKey }), ErrorCode.HOST_KEY_CHANGED);
      assert.equal(asked, 0);
    });
  }

  test('a key accepted for saving that cannot be saved fails with INVALID_CONFIG', async () => {
    // A dangling symlink reads as a missing file, and cannot be appended to.
    const file = join(dir, 'known-dangling');
    symlinkSync(join(dir, 'no-such-dir', 'known_hosts'), file);
    const confirmNewHostKey = async (): Promise<HostKeyDecision> => 'accept-and-save';
    await rejectsWith(open({ knownHostsFile: file, confirmNewHostKey }), ErrorCode.INVALID_CONFIG);
  });

  test('a prompt that fails counts as a rejection', async () => {
    const file = join(dir, 'known-prompt-fails');
    const confirmNewHostKey = (): Promise<HostKeyDecision> => Promise.reject(new Error('dialog dismissed'));
    await rejectsWith(open({ knownHostsFile: file, confirmNewHostKey }), ErrorCode.HOST_KEY_UNKNOWN);
  });
});

describe('authentication', () => {
  let agentProcess: ReturnType<typeof spawn>;
  let agentSocket: string;

  before(async () => {
    agentSocket = join(dir, 'agent.sock');
    agentProcess = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: ['ignore', 'pipe', 'ignore'] });
    // ssh-agent prints its environment lines once the socket listens.
    await once(agentProcess.stdout!, 'data');
    execFileSync('ssh-add', ['-q', sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
  });

  after(async () => {
    if (agentProcess.exitCode === null) {
      agentProcess.kill('SIGTERM');
      await once(agentProcess, 'exit');
    }
  });

  test('a real ssh-agent is tried before the identity file (which would fail)', async () => {
    const shell = await open({ agentSocket, identityFile: sshd.strangerKey, command: 'exit 0' });
    assert.deepEqual((await untilClose(shell)).exit, [0, null]);
  });

  test('an unreachable agent falls through to the identity file', async () => {
    const shell = await open({ agentSocket: join(dir, 'no-agent.sock'), command: 'exit 0' });
    assert.deepEqual((await untilClose(shell)).exit, [0, null]);
  });

  test('an encrypted identity file works with its passphrase', async () => {
    const file = join(dir, 'encrypted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', file], { stdio: 'ignore' });
    writeFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${file}.pub`), { flag: 'a' });
    const shell = await open({ identityFile: file, passphrase: 'secret', command: 'exit 0' });
    assert.deepEqual((await untilClose(shell)).exit, [0, null]);
  });

  const failures: { name: string; options: () => Partial<SshShellOptions>; code: ErrorCodeString }[] = [
    { name: 'a key the server does not know', options: () => ({ identityFile: sshd.strangerKey }), code: ErrorCode.SSH_AUTH_FAILED },
    {
      name: 'an unreachable agent and an unknown key',
      options: () => ({ agentSocket: join(dir, 'no-agent.sock'), identityFile: sshd.strangerKey }),
      code: ErrorCode.SSH_AUTH_FAILED,
    },
    { name: 'no agent and no identity file', options: () => ({ identityFile: undefined }), code: ErrorCode.SSH_AUTH_FAILED },
    { name: 'a missing identity file', options: () => ({ identityFile: join(dir, 'missing') }), code: ErrorCode.IDENTITY_UNREADABLE },
    { name: 'an encrypted identity file without passphrase', options: () => ({ identityFile: join(dir, 'encrypted') }), code: ErrorCode.IDENTITY_UNREADABLE },
    { name: 'a file that is no key', options: () => ({ identityFile: sshd.hostKeyPub }), code: ErrorCode.IDENTITY_UNREADABLE },
  ];
  for (const { name, options, code } of failures) {
    test(`${name}: ${code}`, async () => {
      const sock = await tunnelSock();
      const sockClosed = once(sock, 'close');
      await rejectsWith(open({ sock, ...options() }), code);
      await sockClosed;
    });
  }
});

describe('connection failures', () => {
  /** A loopback server that does `behave` with each connection; returns a connected socket to it. */
  async function socketTo(behave: (socket: net.Socket) => void): Promise<{ sock: net.Socket; server: net.Server }> {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      behave(socket);
    });
    const port = await listening(server);
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    return { sock, server };
  }

  const cases: { name: string; behave: (socket: net.Socket) => void; readyTimeoutMs?: number }[] = [
    { name: 'a server that hangs up at once', behave: (socket) => socket.end() },
    { name: 'a server that does not speak SSH', behave: (socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n') },
    { name: 'a server that never answers', behave: () => undefined, readyTimeoutMs: 50 },
  ];
  for (const { name, behave, readyTimeoutMs } of cases) {
    test(`${name}: SSH_CONNECT_FAILED`, async () => {
      const { sock, server } = await socketTo(behave);
      try {
        await rejectsWith(open({ sock, readyTimeoutMs }), ErrorCode.SSH_CONNECT_FAILED);
        assert.ok(sock.destroyed);
      } finally {
        server.close();
      }
    });
  }

  test('a known_hosts path that cannot be read: INVALID_CONFIG', async () => {
    const { sock, server } = await socketTo(() => undefined);
    try {
      await rejectsWith(open({ sock, knownHostsFile: dir }), ErrorCode.INVALID_CONFIG);
    } finally {
      server.close();
    }
  });
});

test('a server that half-closes during the handshake fails the open at once, not at the deadline', { timeout: 15_000 }, async () => {
  const { Duplex } = await import('node:stream');
  // A tunnel stream whose far end sent FIN and nothing else: readable ends, writable stays open.
  const sock = new Duplex({
    allowHalfOpen: true,
    read() {
      this.push(null);
    },
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'tether-ssh-halfclose-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  try {
    await assert.rejects(
      SshShell.open({
        sock,
        username: 'root',
        hostLabel: 'gone',
        knownHostsFile: join(dir, 'known_hosts'),
        identityFile: join(dir, 'key'),
        confirmNewHostKey: async () => 'reject',
        cols: 80,
        rows: 24,
        readyTimeoutMs: 120_000, // far beyond the test's own timeout: only the end may settle it
      }),
      (err: unknown) => isTetherError(err, ErrorCode.SSH_CONNECT_FAILED),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
