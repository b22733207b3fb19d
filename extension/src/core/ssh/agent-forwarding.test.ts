// AgentProxy against scripted agents; SshShell's forwarding against a real sshd and a real ssh-agent.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, type ErrorCodeString, type TetherError } from '@tether/shared';
import { AGENT_FAILURE_REPLY, AgentMessageReader, frameAgentMessage, probeAgent, SSH_AGENTC_REQUEST_IDENTITIES } from './agent-client.js';
import { AgentProxy } from './agent-forwarding.js';
import type { AuditEvent } from './audit-hook.js';
import { identitiesAnswer, startFakeAgent, type FakeAgent, type FakeAgentBehaviour } from '../../test-support/fake-agent.js';
import { SshShell, type SshShellOptions } from './ssh-shell.js';
import { startSshd, type Sshd } from '../../test-support/sshd-fixture.js';

let dir: string;
const fakes: FakeAgent[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-agent-fwd-'));
});
after(async () => {
  await Promise.all(fakes.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function fake(name: string, behaviour: FakeAgentBehaviour): Promise<FakeAgent> {
  const agent = await startFakeAgent(join(dir, name), behaviour);
  fakes.push(agent);
  return agent;
}

const IDENTITIES_REQUEST = frameAgentMessage(Buffer.from([SSH_AGENTC_REQUEST_IDENTITIES]));

/** Reads `count` framed replies from the proxy (whole frames, length included). */
function replies(proxy: AgentProxy, count: number): Promise<Buffer[]> {
  // Not `for await`: leaving that loop destroys the stream.
  const reader = new AgentMessageReader();
  const out: Buffer[] = [];
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      out.push(...reader.push(chunk).map(frameAgentMessage));
      if (out.length < count) return;
      proxy.off('data', onData);
      proxy.pause();
      resolve(out);
    };
    proxy.on('data', onData);
    proxy.resume(); // after an earlier pause(), a new 'data' listener alone does not
  });
}

describe('AgentProxy', () => {
  test('passes requests through in order and replies verbatim', async () => {
    const agent = await fake('ok', 'identities');
    const proxy = new AgentProxy({ path: agent.path });
    proxy.write(Buffer.concat([IDENTITIES_REQUEST, IDENTITIES_REQUEST]));
    const got = await replies(proxy, 2);
    assert.deepEqual(got, [frameAgentMessage(identitiesAnswer(['key-1'])), frameAgentMessage(identitiesAnswer(['key-1']))]);
    assert.equal(agent.requests.length, 2);
    proxy.destroy();
  });

  const failures: [string, FakeAgentBehaviour | 'missing', ErrorCodeString][] = [
    ['never answers', 'silent', ErrorCode.TIMEOUT],
    ['hangs up', 'close', ErrorCode.CONNECTION_LOST],
    ['is gone', 'missing', ErrorCode.NOT_FOUND],
  ];
  for (const [what, behaviour, expected] of failures) {
    test(`an agent that ${what}: SSH_AGENT_FAILURE for that request (${expected}), and the next one connects again`, async () => {
      const path = join(dir, `fail-${behaviour}`);
      let broken: FakeAgent | undefined;
      if (behaviour !== 'missing') broken = await fake(`fail-${behaviour}`, behaviour);
      const errors: TetherError[] = [];
      const proxy = new AgentProxy({ path, timeoutMs: 100, onRequestFailed: (err) => errors.push(err) });
      proxy.write(IDENTITIES_REQUEST);
      assert.deepEqual(await replies(proxy, 1), [AGENT_FAILURE_REPLY]);
      assert.deepEqual(errors.map((e) => e.code), [expected]);

      await broken?.close();
      fakes.push(await startFakeAgent(path, 'identities'));
      proxy.write(IDENTITIES_REQUEST);
      assert.deepEqual(await replies(proxy, 1), [frameAgentMessage(identitiesAnswer(['key-1']))]);
      assert.equal(errors.length, 1);
      proxy.destroy();
    });
  }

  test('a message over 256 KiB from the far side ends the stream without an error', async () => {
    const agent = await fake('oversized', 'identities');
    const proxy = new AgentProxy({ path: agent.path });
    let errored = false;
    proxy.on('error', () => (errored = true));
    const ended = once(proxy, 'end');
    proxy.resume();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(256 * 1024 + 1);
    proxy.write(header);
    await ended;
    assert.equal(errored, false);
    assert.equal(agent.requests.length, 0);
    proxy.destroy();
  });
});

describe('SshShell agent forwarding (real sshd, real ssh-agent)', () => {
  let sshd: Sshd;
  let agentProcess: ChildProcess;
  let agentSocket: string;
  let knownFile: string;
  const LABEL = 'fwd-box';

  before(async () => {
    sshd = await startSshd();
    agentSocket = join(dir, 'ssh-agent.sock');
    agentProcess = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        await probeAgent(agentSocket, 1000);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    execFileSync('ssh-add', ['-q', sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
    knownFile = join(dir, 'known_hosts');
    writeFileSync(knownFile, `${LABEL} ${readFileSync(sshd.hostKeyPub, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  });

  after(async () => {
    if (agentProcess && agentProcess.exitCode === null) {
      const exited = once(agentProcess, 'exit');
      agentProcess.kill('SIGTERM');
      await exited;
    }
    await sshd?.stop();
  });

  /** Runs `command` without a pty; returns stdout, stderr, exit code, warnings and audit events. */
  async function run(command: string, options: Partial<SshShellOptions>) {
    const events: AuditEvent[] = [];
    const warnings: TetherError[] = [];
    const sock = net.connect(sshd.port, '127.0.0.1');
    const shell = await SshShell.open({
      sock,
      username: 'root',
      hostLabel: LABEL,
      knownHostsFile: knownFile,
      confirmNewHostKey: async () => 'reject',
      cols: 80,
      rows: 24,
      command,
      pty: false,
      separateStderr: true,
      onWarning: (w) => warnings.push(w),
      auditSink: (e) => events.push(e),
      ...options,
    });
    let stdout = '';
    let stderr = '';
    shell.on('data', (c) => (stdout += c.toString()));
    shell.on('stderr', (c) => (stderr += c.toString()));
    const exit = new Promise<number | null>((resolve) => shell.on('exit', (code) => resolve(code)));
    await once(shell, 'close');
    return { stdout, stderr, code: await exit, warnings, events, forwarding: shell.agentForwarding };
  }

  test('-A: the far side lists the local key; the audit hook sees start and stop', async () => {
    const r = await run('ssh-add -l; echo "rc=$?" >&2', { agentSocket, agentForward: true, agentName: 'ssh-agent' });
    assert.match(r.stdout, /^256 SHA256:\S+ tether-test \(ED25519\)$/m);
    assert.equal(r.stderr, 'rc=0\n');
    assert.equal(r.code, 0);
    assert.equal(r.forwarding, true);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.events.map(({ type, tunnel, user, agent }) => ({ type, tunnel, user, agent })),
      ['agent-forwarding-start', 'agent-forwarding-stop'].map((type) => ({ type, tunnel: LABEL, user: 'root', agent: `ssh-agent ${agentSocket}` })),
    );
    assert.ok(r.events.every((e) => !Number.isNaN(Date.parse(e.time))));
  });

  test('a sink that throws does not break the session it records', async () => {
    const tried: string[] = [];
    const r = await run('ssh-add -l >/dev/null; echo "rc=$?"', {
      agentSocket,
      agentForward: true,
      auditSink: (e) => {
        tried.push(e.type);
        throw new Error('audit backend down');
      },
    });
    assert.equal(r.stdout, 'rc=0\n');
    assert.equal(r.code, 0);
    assert.equal(r.forwarding, true);
    assert.deepEqual(tried, ['agent-forwarding-start', 'agent-forwarding-stop']);
  });

  test('without agentForward the far side has no agent (the agent still logs in)', async () => {
    const r = await run('echo "sock=${SSH_AUTH_SOCK:-none}"; ssh-add -l >/dev/null 2>&1; echo "rc=$?"', { agentSocket });
    assert.equal(r.stdout, 'sock=none\nrc=2\n');
    assert.equal(r.forwarding, false);
    assert.deepEqual(r.events, []);
  });

  test('a dead agent at the start: one warning, the session runs without forwarding', async () => {
    const r = await run('echo "sock=${SSH_AUTH_SOCK:-none}"', { agentSocket: join(dir, 'no-agent.sock'), identityFile: sshd.clientKey, agentForward: true });
    assert.equal(r.stdout, 'sock=none\n');
    assert.equal(r.code, 0);
    assert.deepEqual(r.warnings.map((w) => w.code), [ErrorCode.NOT_FOUND]);
    assert.equal(r.forwarding, false);
    assert.deepEqual(r.events, []);
  });
});
