// SSH agent forwarding through a real tunnel with real agents (ssh-agent, gpg-agent, pageant):
// `tether ssh -A` ← `tether relay` ← `tether share` → sshd, and from there a second hop to
// another sshd that only the agent's key may log in to. Also OpenSSH's own `ssh -A` through
// `tether proxy`, and `tether ssh`'s host key checks.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cleanEnv, CLI, createUser, HANG_GUARD, Processes, requirePrograms, run, sshOptions, startRelay, startShare, startSshd, tempDir,
  waitForSocket,
} from './fixtures.mjs';

const TUNNEL = 'e2e-agent';
const KEY_COMMENT = 'tether-agent-key';

describe('agent forwarding through a tunnel', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-e2e-agent-');
  let relay;
  let token;
  let target; // the sshd behind the tunnel
  let secondHop; // an sshd on loopback that only the agent's key may log in to
  let agentKey;
  let home;
  let knownHosts;

  before(async () => {
    requirePrograms();
    const dir1 = join(tmp.path, 'target');
    const dir2 = join(tmp.path, 'second');
    home = join(tmp.path, 'home'); // no ~/.ssh keys: the agent is the only identity
    for (const d of [dir1, dir2, home]) mkdirSync(d);
    [target, secondHop] = await Promise.all([startSshd(procs, dir1), startSshd(procs, dir2)]);
    agentKey = join(tmp.path, 'agent_key');
    const gen = await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', KEY_COMMENT, '-f', agentKey]);
    assert.equal(gen.code, 0, gen.stderr);
    appendFileSync(join(dir1, 'authorized_keys'), readFileSync(`${agentKey}.pub`));
    writeFileSync(join(dir2, 'authorized_keys'), readFileSync(`${agentKey}.pub`));
    relay = await startRelay(procs, tmp.path);
    token = await createUser(relay, 'alice');
    await startShare(procs, { url: relay.url, token, tunnel: TUNNEL, targetPort: target.port });
    knownHosts = join(tmp.path, 'known_hosts');
    const hostKey = readFileSync(target.hostKeyPub, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(knownHosts, `${TUNNEL} ${hostKey}\n`);
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  const env = (extra = {}) => cleanEnv({ TETHER_RELAY: relay.url, TETHER_TOKEN: token, HOME: home, USER: 'root', ...extra });
  /** `tether ssh TUNNEL ARGS` to completion. */
  const tetherSsh = (args, extraEnv) => run(process.execPath, [CLI, 'ssh', TUNNEL, ...args], { env: env(extraEnv) });
  const SECOND_HOP = () =>
    `ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=error root@127.0.0.1 -p ${secondHop.port} echo ok-from-second-hop`;

  describe('tether ssh host keys and exit codes', () => {
    test('an unknown host key stops with its fingerprint; --accept-new records it; a changed key always stops', async () => {
      const fresh = join(tmp.path, 'known_hosts_fresh');
      const expected = await run('/usr/bin/ssh-keygen', ['-lf', target.hostKeyPub]);
      const fingerprint = expected.stdout.split(' ')[1];
      const args = ['-i', target.key, '--known-hosts', fresh, '--', 'echo in'];

      const unknown = await tetherSsh(args);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stdout, '');
      const lines = unknown.stderr.trim().split('\n');
      assert.equal(lines.length, 1, unknown.stderr);
      assert.ok(lines[0].includes(`ssh-ed25519 ${fingerprint}`), unknown.stderr);
      assert.match(lines[0], /--accept-new.*\[TETHER_ERR_HOST_KEY_UNKNOWN\]$/);

      const accepted = await tetherSsh(['--accept-new', ...args]);
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.equal(accepted.stdout, 'in\n');
      assert.match(readFileSync(fresh, 'utf8'), new RegExp(`^${TUNNEL} ssh-ed25519 `));
      const again = await tetherSsh(args);
      assert.equal(again.code, 0, again.stderr);

      const changed = join(tmp.path, 'known_hosts_changed');
      writeFileSync(changed, `${TUNNEL} ${readFileSync(secondHop.hostKeyPub, 'utf8')}`);
      const stopped = await tetherSsh(['--accept-new', '-i', target.key, '--known-hosts', changed, '--', 'echo in']);
      assert.equal(stopped.code, 1);
      assert.equal(stopped.stdout, '');
      assert.match(stopped.stderr, /\[TETHER_ERR_HOST_KEY_CHANGED\]\n$/);
    });

    test('a command: stdout and stderr kept apart, the remote exit code is ours', async () => {
      const r = await tetherSsh(['-i', target.key, '--known-hosts', knownHosts, '--', 'echo out; echo err >&2; exit 7']);
      assert.equal(r.code, 7, r.stderr);
      assert.equal(r.stdout, 'out\n');
      assert.equal(r.stderr, 'err\n');
    });
  });

  /** Each agent: how to start it, load the key, point `tether ssh` at it, and kill it. */
  const agents = [
    {
      name: 'ssh-agent',
      async start() {
        const sock = join(tmp.path, 'ssh-agent.sock');
        const proc = procs.start('ssh-agent', ['-D', '-a', sock], { env: cleanEnv() });
        await waitForSocket(sock, proc.exited);
        return { sock, env: { SSH_AUTH_SOCK: sock }, args: ['--agent', 'ssh-agent'], kill: () => procs.stop(proc), stop: () => procs.stop(proc) };
      },
    },
    {
      name: 'gpg-agent',
      async start() {
        const gnupg = join(tmp.path, 'gnupg');
        mkdirSync(gnupg, { mode: 0o700 });
        const pinentry = join(tmp.path, 'pinentry.sh');
        // A pinentry that gives every passphrase prompt the same answer and says OK to the rest.
        writeFileSync(pinentry, '#!/bin/sh\necho "OK ready"\nwhile read -r line; do\n  case "$line" in\n    GETPIN*) echo "D tether-e2e"; echo "OK";;\n    BYE*) echo "OK"; exit 0;;\n    *) echo "OK";;\n  esac\ndone\n');
        chmodSync(pinentry, 0o755);
        const gpgEnv = cleanEnv({ GNUPGHOME: gnupg });
        const proc = procs.start('gpg-agent', ['--homedir', gnupg, '--daemon', '--no-detach', '--enable-ssh-support', '--pinentry-program', pinentry], { env: gpgEnv });
        const dirs = await run('gpgconf', ['--list-dirs', 'agent-ssh-socket'], { env: gpgEnv });
        assert.equal(dirs.code, 0, dirs.stderr);
        const sock = dirs.stdout.trim();
        await waitForSocket(sock, proc.exited);
        const kill = async () => {
          await run('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv });
          await procs.stop(proc);
        };
        // Found by `auto` through gpgconf: SSH_AUTH_SOCK is not set.
        return { sock, env: { GNUPGHOME: gnupg }, args: ['--agent', 'auto'], kill, stop: kill };
      },
    },
    {
      name: 'pageant',
      async start() {
        const sock = join(tmp.path, 'pageant.sock');
        const proc = procs.start('pageant', ['--debug', '--symlink', sock], { env: cleanEnv() });
        await waitForSocket(sock, proc.exited);
        return { sock, env: {}, args: ['--agent', 'pageant', '--agent-socket', sock], kill: () => procs.stop(proc), stop: () => procs.stop(proc) };
      },
    },
  ];

  for (const spec of agents) {
    describe(spec.name, () => {
      let agent;

      before(async () => {
        agent = await spec.start();
        const added = await run('ssh-add', [agentKey], { env: cleanEnv({ ...agent.env, SSH_AUTH_SOCK: agent.sock }) });
        assert.equal(added.code, 0, added.stderr);
      });

      after(async () => {
        await agent?.stop();
      });

      test('tether ssh -A: the far side lists the key and signs with it for a second hop', async () => {
        const r = await tetherSsh(['-A', ...agent.args, '--known-hosts', knownHosts, '--', `ssh-add -l; ${SECOND_HOP()}`], agent.env);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^256 SHA256:\\S+ ${KEY_COMMENT} \\(ED25519\\)$`, 'm'));
        assert.match(r.stdout, /^ok-from-second-hop$/m);
        assert.match(r.stderr, new RegExp(`^tether: forwarding ${spec.name} at ${agent.sock.replace(/[.]/g, '\\.')} `, 'm'));
      });

      test('without -A the far side has no agent', async () => {
        const r = await tetherSsh([...agent.args, '--known-hosts', knownHosts, '--', 'echo "sock=${SSH_AUTH_SOCK:-none}"; ssh-add -l; echo "rc=$?"'], agent.env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'sock=none\nrc=2\n');
      });

      test("OpenSSH's ssh -A through tether proxy forwards it too", async () => {
        const r = await run('/usr/bin/ssh', ['-A', '-p', String(target.port), ...sshOptions({ key: target.key, proxyTunnel: TUNNEL }), 'root@127.0.0.1', 'ssh-add -l'], {
          env: env({ SSH_AUTH_SOCK: agent.sock }),
        });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(` ${KEY_COMMENT} \\(ED25519\\)$`, 'm'));
      });

      test('the agent killed mid-session: the session survives, later agent requests fail cleanly', async () => {
        const session = procs.start(process.execPath, [CLI, 'ssh', TUNNEL, '-A', ...agent.args, '--known-hosts', knownHosts], {
          env: env(agent.env),
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        session.child.stdin.write('ssh-add -l; echo "first=$?"\n');
        await session.waitFor('stdout', /^first=\d+$/);
        assert.match(session.stdout.text, /^first=0$/m);
        await agent.kill();
        session.child.stdin.write('ssh-add -l; echo "second=$?"\n');
        const second = await session.waitFor('stdout', /^second=\d+$/);
        assert.notEqual(second, 'second=0');
        session.child.stdin.write('echo still-here; exit 3\n');
        assert.equal(await session.exited, 3, session.stderr.text);
        assert.match(session.stdout.text, /^still-here$/m);
        assert.match(session.stderr.text, /forwarded agent requests fail/);
      });
    });
  }
});
