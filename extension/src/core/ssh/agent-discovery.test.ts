import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTetherError, type ErrorCodeString } from '@tether/shared';
import { probeAgent } from './agent-client.js';
import { agentCandidates, discoverAgent, pageantPipes, type DiscoveryEnvironment } from './agent-discovery.js';
import { startFakeAgent, type FakeAgent, type FakeAgentBehaviour } from '../../test-support/fake-agent.js';

let dir: string;
const agents: FakeAgent[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-agent-discovery-'));
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function fake(name: string, behaviour: FakeAgentBehaviour, comments?: string[]): Promise<string> {
  const agent = await startFakeAgent(join(dir, name), behaviour, comments);
  agents.push(agent);
  return agent.path;
}

/** An environment with nothing in it but what the test gives. */
function environment(parts: Partial<DiscoveryEnvironment>): Partial<DiscoveryEnvironment> {
  return { env: {}, platform: 'linux', username: 'alice', gpgSshSocket: async () => undefined, listDir: async () => [], ...parts };
}

const code = (err: unknown): ErrorCodeString | undefined => (isTetherError(err) ? err.code : undefined);

describe('probeAgent', () => {
  test('lists the identities of an agent that answers', async () => {
    const path = await fake('two-keys', 'identities', ['alice@laptop', 'yubikey']);
    assert.deepEqual(await probeAgent(path, 2000), { keys: 2, comments: ['alice@laptop', 'yubikey'] });
  });

  const failures: [string, FakeAgentBehaviour | 'missing', ErrorCodeString][] = [
    ['never answers', 'silent', ErrorCode.TIMEOUT],
    ['hangs up', 'close', ErrorCode.CONNECTION_LOST],
    ['answers SSH_AGENT_FAILURE', 'failure', ErrorCode.PROTOCOL_ERROR],
    ['is not there', 'missing', ErrorCode.NOT_FOUND],
  ];
  for (const [what, behaviour, expected] of failures) {
    test(`rejects with ${expected} when the agent ${what}`, async () => {
      const path = behaviour === 'missing' ? join(dir, 'nothing-here') : await fake(`probe-${behaviour}`, behaviour);
      await assert.rejects(probeAgent(path, 100), (err) => code(err) === expected);
    });
  }
});

describe('discoverAgent', () => {
  test('auto: SSH_AUTH_SOCK first when it answers', async () => {
    const ssh = await fake('auto-ssh', 'identities');
    const gpg = await fake('auto-gpg', 'identities');
    const found = await discoverAgent({ environment: environment({ env: { SSH_AUTH_SOCK: ssh }, gpgSshSocket: async () => gpg }) });
    assert.deepEqual(found, { kind: 'ssh-agent', path: ssh, source: 'SSH_AUTH_SOCK', keys: 1 });
  });

  test('auto: a dead SSH_AUTH_SOCK is skipped for gpg-agent, then pageant', async () => {
    const dead = await fake('auto-dead', 'silent');
    const gpg = await fake('auto-gpg-2', 'identities', ['a', 'b']);
    const found = await discoverAgent({ probeTimeoutMs: 100, environment: environment({ env: { SSH_AUTH_SOCK: dead }, gpgSshSocket: async () => gpg }) });
    assert.equal(found.kind, 'gpg-agent');
    assert.equal(found.path, gpg);
    assert.equal(found.keys, 2);

    const probed: string[] = [];
    const viaPageant = await discoverAgent({
      environment: environment({
        env: { SSH_AUTH_SOCK: '/nowhere/ssh' },
        gpgSshSocket: async () => '/nowhere/gpg',
        listDir: async (d) => (d === '/tmp/pageant.alice' ? [{ name: 'pageant.42', mtimeMs: 1 }] : []),
        probe: async (path) => {
          probed.push(path);
          if (path.startsWith('/nowhere')) throw new Error('dead');
          return { keys: 3, comments: [] };
        },
      }),
    });
    assert.deepEqual(probed, ['/nowhere/ssh', '/nowhere/gpg', '/tmp/pageant.alice/pageant.42']);
    assert.deepEqual(viaPageant, { kind: 'pageant', path: '/tmp/pageant.alice/pageant.42', source: 'PuTTY pageant socket', keys: 3 });
  });

  test('an explicit socket wins over SSH_AUTH_SOCK, and is the only one tried', async () => {
    const ssh = await fake('explicit-ssh', 'identities');
    const mine = await fake('explicit-mine', 'identities');
    const found = await discoverAgent({ agent: 'pageant', socketPath: mine, environment: environment({ env: { SSH_AUTH_SOCK: ssh } }) });
    assert.deepEqual(found, { kind: 'pageant', path: mine, source: '--agent-socket', keys: 1 });
    await assert.rejects(
      discoverAgent({ socketPath: join(dir, 'missing'), environment: environment({ env: { SSH_AUTH_SOCK: ssh } }) }),
      (err) => code(err) === ErrorCode.NOT_FOUND,
    );
  });

  test('one kind only: --agent gpg-agent does not fall back to SSH_AUTH_SOCK', async () => {
    const ssh = await fake('only-ssh', 'identities');
    await assert.rejects(discoverAgent({ agent: 'gpg-agent', environment: environment({ env: { SSH_AUTH_SOCK: ssh } }) }), (err) => code(err) === ErrorCode.NOT_FOUND);
  });

  const messageOf = async (promise: Promise<unknown>): Promise<string> => {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    assert.equal(code(err), ErrorCode.NOT_FOUND);
    return (err as Error).message;
  };

  test('none found: each kind says where it was looked for, and what to do', async () => {
    assert.equal(
      await messageOf(discoverAgent({ environment: environment({}) })),
      'no working SSH agent (any of ssh-agent, gpg-agent, pageant): none found (SSH_AUTH_SOCK is not set; gpgconf names no gpg-agent ssh socket; no pageant socket in /tmp/pageant.alice); start an agent and add a key (eval $(ssh-agent); ssh-add), or name its socket with --agent-socket',
    );
  });

  test('--agent pageant with SSH_AUTH_SOCK set: no claim that SSH_AUTH_SOCK is missing, and a pointer to it', async () => {
    assert.equal(
      await messageOf(discoverAgent({ agent: 'pageant', environment: environment({ env: { SSH_AUTH_SOCK: '/run/agent.sock' } }) })),
      'no working SSH agent (pageant): none found (no pageant socket in /tmp/pageant.alice); SSH_AUTH_SOCK is set (/run/agent.sock): to use that agent, choose ssh-agent or auto with --agent',
    );
    assert.match(await messageOf(discoverAgent({ agent: 'pageant', environment: environment({}) })), /none found \(no pageant socket in \/tmp\/pageant\.alice\); start pageant with the keys to use$/);
  });

  test('each candidate that failed is named with its reason, and no code but the one of the whole error', async () => {
    const message = await messageOf(discoverAgent({ environment: environment({ env: { SSH_AUTH_SOCK: join(dir, 'gone') } }) }));
    assert.equal(
      message,
      `no working SSH agent (any of ssh-agent, gpg-agent, pageant): tried ssh-agent (SSH_AUTH_SOCK): cannot reach the agent at ${join(dir, 'gone')}: no such socket; start an agent and add a key (eval $(ssh-agent); ssh-add), or name its socket with --agent-socket`,
    );
    assert.doesNotMatch(message, /TETHER_ERR_/);
    assert.match(await messageOf(discoverAgent({ socketPath: join(dir, 'gone'), environment: environment({}) })), /; check the --agent-socket path$/);
    // VS Code names its settings instead of the CLI's flags.
    const names = { agent: 'the tether.agent.type setting', socket: 'the tether.agent.socketPath setting' };
    assert.match(await messageOf(discoverAgent({ optionNames: names, environment: environment({}) })), /or name its socket with the tether\.agent\.socketPath setting$/);
  });

  test('an unknown agent kind is an invalid argument', async () => {
    await assert.rejects(discoverAgent({ agent: 'putty' as never, environment: environment({}) }), (err) => code(err) === ErrorCode.INVALID_ARGUMENT);
  });
});

describe('candidates', () => {
  test('pageant on Unix: its sockets in /tmp/pageant.USER, newest first, nothing else', async () => {
    const listed: string[] = [];
    const env = environment({
      listDir: async (d) => {
        listed.push(d);
        return [
          { name: 'pageant.100', mtimeMs: 10 },
          { name: 'pageant.200', mtimeMs: 20 },
          { name: 'notes.txt', mtimeMs: 30 },
        ];
      },
    }) as DiscoveryEnvironment;
    const paths = (await agentCandidates('pageant', env)).map((c) => c.path);
    assert.deepEqual(listed, ['/tmp/pageant.alice']);
    assert.deepEqual(paths, ['/tmp/pageant.alice/pageant.200', '/tmp/pageant.alice/pageant.100']);
  });

  test('pageant on Windows: pipes named pageant.USER.<sha256 hex>, the current user first', async () => {
    const hash = 'ab'.repeat(32);
    const names = [`pageant.bob.${hash}`, 'openssh-ssh-agent', `pageant.Alice.${hash}`, 'pageant.alice.short'];
    assert.deepEqual(pageantPipes(names, 'alice'), [`\\\\.\\pipe\\pageant.Alice.${hash}`, `\\\\.\\pipe\\pageant.bob.${hash}`]);
    const env = environment({ platform: 'win32', listDir: async (d) => (d === '\\\\.\\pipe\\' ? names.map((name) => ({ name, mtimeMs: 0 })) : []) }) as DiscoveryEnvironment;
    assert.deepEqual((await agentCandidates('pageant', env)).map((c) => c.path), [`\\\\.\\pipe\\pageant.Alice.${hash}`, `\\\\.\\pipe\\pageant.bob.${hash}`]);
    assert.deepEqual((await agentCandidates('ssh-agent', env)).map((c) => c.path), ['\\\\.\\pipe\\openssh-ssh-agent']);
  });
});
