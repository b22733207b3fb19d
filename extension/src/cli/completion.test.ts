import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { commandPath } from './commands.js';
import { completionScript, type Shell } from './completion.js';
import { buildProgram, run } from './program.js';

// The scripts run in the real shells in test/e2e/completion.test.mjs; these check what goes in.

function everyCommand(cmd: Command): Command[] {
  return cmd.commands.flatMap((sub) => [sub, ...everyCommand(sub)]);
}

describe('completion scripts', () => {
  const program = buildProgram();
  const shells: Shell[] = ['bash', 'zsh', 'fish'];

  for (const shell of shells) {
    test(`${shell}: every command, sub-action and option of the tree`, () => {
      const script = completionScript(program, shell);
      for (const cmd of everyCommand(program)) {
        const path = commandPath(cmd);
        // bash and fish switch on the command's path; zsh has a function per command.
        const named = shell === 'zsh' ? `_tether__${path.replace(/[ -]/g, '_')}()` : `'${path}'`;
        assert.ok(script.includes(named), `${path} in the ${shell} script`);
        for (const option of cmd.options) {
          const flag = shell === 'fish' ? `-l ${option.long?.slice(2)} ` : option.long ?? '';
          assert.ok(script.includes(flag), `${path} ${option.long} in the ${shell} script`);
        }
      }
    });

    test(`${shell}: tether completion ${shell} prints it`, async () => {
      let out = '';
      assert.equal(await run(['completion', shell], { out: (text) => (out += text), err: () => assert.fail('nothing on stderr') }), 0);
      assert.equal(out, completionScript(program, shell));
    });
  }

  test('tunnel names come from tether tunnels, only with a token', () => {
    assert.match(completionScript(program, 'bash'), /\[\[ -n \$\{TETHER_TOKEN-\} \]\] \|\| return 0\n {2}"\$1" tunnels 2>\/dev\/null \| cut -f1/);
    assert.match(completionScript(program, 'zsh'), /\[\[ -n \$TETHER_TOKEN \]\] && .*tether tunnels 2>\/dev\/null/);
    assert.match(completionScript(program, 'fish'), /set -q TETHER_TOKEN; or return 0\n {4}command tether tunnels 2>\/dev\/null/);
  });

  test('a path argument (audit verify <file>) is completed as files', () => {
    assert.ok(completionScript(program, 'bash').includes(`'audit verify') COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null ;;`));
    assert.match(completionScript(program, 'zsh'), /_tether__audit_verify\(\) \{\n {2}_arguments .* '1:file:_files'\n/);
    assert.ok(completionScript(program, 'fish').includes(`complete -c tether -n '__tether_at '\\''audit verify'\\'' 0' -F`));
  });

  test('zsh: loads as a file of $fpath and from eval', () => {
    const script = completionScript(program, 'zsh');
    assert.match(script, /^#compdef tether\n/);
    assert.match(script, /\n {2}compdef _tether tether\n/);
  });
});
