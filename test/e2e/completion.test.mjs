// `tether completion bash|zsh|fish` in the real shells, and `tether` on the PATH the way the
// README installs it (`npm install -g .`, here into a temporary prefix): each script is loaded
// in its shell and asked to complete command lines; tunnel names come from `tether tunnels`
// through the PATH when TETHER_TOKEN is set, and nothing (quietly) when the relay cannot answer.
import assert from 'node:assert/strict';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CLI, cleanEnv, createUser, freePort, HANG_GUARD, Processes, requirePrograms, run, startRelay, startShare, tempDir,
} from './fixtures.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ZSH_CAPTURE = join(ROOT, 'test/e2e/capture-zsh-completion.zsh');
const SHELLS = { bash: '/bin/bash', zsh: '/usr/bin/zsh', fish: '/usr/bin/fish' };

/** Fails loudly (never skips) when a shell is missing: .ci/run installs them. */
function requireShells() {
  const missing = Object.entries(SHELLS).filter(([, path]) => {
    try {
      accessSync(path, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`the completion tests need ${missing.map(([name]) => name).join(', ')} (Debian packages of those names; .ci/run installs them)`);
}

/** Sets COMP_LINE and friends as bash does for a Tab at the end of the line, and prints COMPREPLY. */
const BASH_DRIVER = `
source "$1"
COMP_LINE=$2
COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_tether tether "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]-}"
printf '%s\\n' "\${COMPREPLY[@]}"
`;

describe('shell completion', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-completion-');
  const prefix = join(tmp.path, 'global');
  const scripts = {};
  let env;

  /** What `shell` offers for `line`, sorted; the shell must exit 0 and print nothing on stderr. */
  async function complete(shell, line, extraEnv = {}) {
    const args = {
      bash: ['--norc', '--noprofile', '-c', BASH_DRIVER, 'bash', scripts.bash, line],
      zsh: ['-f', ZSH_CAPTURE, scripts.zsh, line],
      fish: ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish, line],
    }[shell];
    const r = await run(SHELLS[shell], args, { env: { ...env, ...extraEnv } });
    assert.equal(r.code, 0, `${shell} ${line}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${shell} ${line}`);
    // fish prints "candidate<TAB>description".
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
  }

  before(async () => {
    requirePrograms();
    requireShells();
    // As the README says: a global install from the clone links `tether` to extension/bin.
    const installed = await run('npm', ['install', '-g', '--ignore-scripts', '--prefix', prefix, ROOT], { env: cleanEnv() });
    assert.equal(installed.code, 0, installed.stderr);
    env = cleanEnv({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: tmp.path });
    for (const shell of Object.keys(SHELLS)) {
      const r = await run(process.execPath, [CLI, 'completion', shell], { env });
      assert.equal(r.code, 0, r.stderr);
      scripts[shell] = join(tmp.path, `tether.${shell}`);
      writeFileSync(scripts[shell], r.stdout);
    }
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('tether on the PATH runs from anywhere: --version, help', async () => {
    const version = await run('tether', ['--version'], { env });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = await run('tether', ['help', 'proxy'], { env });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: tether proxy \[options\] <name>/);
  });

  test('every script is valid in its shell', async () => {
    for (const [shell, check] of [['bash', ['-n']], ['zsh', ['-n']], ['fish', ['--no-execute']]]) {
      const r = await run(SHELLS[shell], [...check, scripts[shell]], { env });
      assert.equal(r.code, 0, `${shell}: ${r.stderr}`);
    }
  });

  const commands = ['access', 'analytics', 'audit', 'cluster', 'completion', 'connect', 'help', 'invite', 'members', 'proxy', 'relay', 'report', 'service', 'session', 'share', 'ssh', 'status', 'tunnel', 'tunnels', 'user'];
  const cases = [
    ['a command', 'tether sh', ['share']],
    ['every command', 'tether ', commands],
    ['a sub-action', 'tether user ', ['block', 'create', 'delete', 'list', 'role', 'token', 'unblock']],
    ['a sub-action after an option of its group', 'tether user --token x c', ['create']],
    ['the actions of tunnel', 'tether tunnel ', ['delete', 'disable', 'enable', 'purge', 'set']],
    ['the actions of invite', 'tether invite ', ['accept', 'create', 'list', 'revoke']],
    ['the actions of access', 'tether access ', ['approve', 'deny', 'list', 'request']],
    ['the roles of invite create --role', 'tether invite create --role ', ['admin', 'connect', 'view']],
    ['the actions of service', 'tether service ', ['install', 'list', 'uninstall']],
    ['the actions of audit', 'tether audit ', ['checkpoint', 'checkpoints', 'export', 'key', 'log', 'prune', 'rotate-keys', 'verify']],
    ['the frameworks of report compliance --framework', 'tether report compliance --framework ', ['hipaa', 'iso27001', 'soc2']],
    ['the outcomes of audit export --outcome', 'tether audit export --outcome ', ['failure', 'success']],
    ['an option of a sub-action', 'tether user create --t', ['--token']],
    ['the metrics of analytics forecast --metric', 'tether analytics forecast --metric ', ['bytes', 'streams', 'tunnels']],
    ['the groupings of analytics --by', 'tether analytics --by ', ['node', 'tunnel', 'user']],
    ['choices of an option', 'tether relay --log-format ', ['json', 'pretty']],
    ['choices of ssh --agent', 'tether ssh --agent ', ['auto', 'gpg-agent', 'pageant', 'ssh-agent']],
    ['the shells', 'tether completion ', ['bash', 'fish', 'zsh']],
    ['commands to show help for', 'tether help tu', ['tunnel', 'tunnels']],
    ['the long options of connect', 'tether connect --l', ['--listen']],
  ];
  for (const shell of Object.keys(SHELLS)) {
    for (const [what, line, expected] of cases) {
      test(`${shell}: ${what} (${JSON.stringify(line)})`, async () => {
        assert.deepEqual(await complete(shell, line), expected);
      });
    }

    test(`${shell}: a file argument: the export audit verify reads, completed as a path`, async () => {
      // zsh offers what follows the folder already typed; bash and fish the whole path.
      assert.deepEqual(await complete(shell, `tether audit verify ${ROOT}/READM`), [shell === 'zsh' ? 'README.md' : `${ROOT}/README.md`]);
    });

    test(`${shell}: the options of share, and none of another command`, async () => {
      const offered = await complete(shell, 'tether share --');
      for (const flag of ['--target', '--relay', '--token', '--pool', '--detect-ms', '--no-resume', '--help']) assert.ok(offered.includes(flag), `${flag} in ${offered}`);
      assert.ok(!offered.includes('--listen') && !offered.includes('--log-format'), `${offered}`);
    });
  }

  describe('tunnel names from tether tunnels', () => {
    let relay;
    let token;

    before(async () => {
      relay = await startRelay(procs, tmp.path);
      token = await createUser(relay, 'erin');
      await startShare(procs, { url: relay.url, token, tunnel: 'e2e-complete', targetPort: await freePort() });
    });

    for (const shell of Object.keys(SHELLS)) {
      test(`${shell}: a tunnel name after ssh, share, proxy and tunnel delete when TETHER_TOKEN is set`, async () => {
        const configured = { TETHER_RELAY: relay.url, TETHER_TOKEN: token };
        for (const line of ['tether ssh e2e-c', 'tether proxy ', 'tether tunnel delete e', 'tether share --target 127.0.0.1:22 e2e']) {
          assert.deepEqual(await complete(shell, line, configured), ['e2e-complete'], line);
        }
      });

      test(`${shell}: no tunnel names, and not a word on stderr, without a token or with no relay`, async () => {
        assert.deepEqual(await complete(shell, 'tether ssh e2e-c'), []);
        const down = { TETHER_RELAY: `http://127.0.0.1:${await freePort()}`, TETHER_TOKEN: token };
        assert.deepEqual(await complete(shell, 'tether ssh e2e-c', down), []);
      });
    }
  });
});
