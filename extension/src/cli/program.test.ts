import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { DEFAULT_AGENT_TIMEOUT_MS } from '../core/ssh/agent-forwarding.js';
import { commandPath } from './commands.js';
import { exitCodeOf, formatError } from './output.js';
import { buildProgram, run } from './program.js';

const MAIN = path.join(__dirname, 'main.js');

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in this process: its exit code, what it printed, and a failure as main.ts shows it. */
async function cli(...argv: string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const io = { out: (text: string) => (out += text), err: (text: string) => (err += text) };
  try {
    const code = await run(argv, io);
    return { code, out, err };
  } catch (failure) {
    return { code: exitCodeOf(failure), out, err: `${err}${formatError(failure)}\n` };
  }
}

/** Every command of the tree below `tether`, sub-actions included. */
function everyCommand(cmd: Command = buildProgram()): Command[] {
  return cmd.commands.flatMap((sub) => [sub, ...everyCommand(sub)]);
}

describe('help', () => {
  test('tether alone: the general help on stdout, exit 2', async () => {
    const result = await cli();
    assert.equal(result.code, 2);
    assert.match(result.out, /^Usage: tether /);
    assert.equal(result.err, '');
  });

  for (const argv of [['help'], ['--help'], ['-h']]) {
    test(`tether ${argv.join(' ')}: the general help, every command in it, exit 0`, async () => {
      const result = await cli(...argv);
      assert.equal(result.code, 0);
      assert.equal(result.err, '');
      for (const cmd of buildProgram().commands) assert.match(result.out, new RegExp(`^  ${cmd.name()}\\b`, 'm'), cmd.name());
      assert.match(result.out, /^Examples:$/m);
      assert.match(result.out, /Run 'tether help COMMAND'/);
    });
  }

  for (const cmd of everyCommand()) {
    const name = commandPath(cmd);
    test(`tether ${name}: the same help with --help, -h and help ${name}: description, options, examples; exit 0`, async () => {
      const ways = [[...name.split(' '), '--help'], [...name.split(' '), '-h'], ['help', ...name.split(' ')]];
      const results = await Promise.all(ways.map((argv) => cli(...argv)));
      for (const [i, result] of results.entries()) {
        assert.equal(result.code, 0, ways[i].join(' '));
        assert.equal(result.err, '', ways[i].join(' '));
        assert.equal(result.out, results[0].out, `${ways[i].join(' ')} prints the same help`);
      }
      const help = results[0].out;
      assert.match(help, new RegExp(`^Usage: tether ${name}\\b`));
      assert.ok(help.includes(cmd.description().split('\n')[0].slice(0, 40)), 'its description');
      for (const option of cmd.options) assert.ok(option.long && help.includes(option.long), `${option.long} is described`);
      // Each option has a description of its own.
      assert.doesNotMatch(help, /^ {2}-\S*(?: <[^>]+>)? *$/m, 'an option without a description');
      assert.match(help, /^Examples:\n(?: {2}.*\n|\n)+/m, 'an Examples section');
      assert.match(help.slice(help.indexOf('Examples:')), /\btether\b/);
    });
  }

  test("connect's --listen is optional, with its default", async () => {
    const out = (await cli('connect', '--help')).out.replace(/\s+/g, ' ');
    assert.match(out, /^Usage: tether connect \[options\] <name> /);
    assert.match(out, /--listen <host:port> .*\(default: 127\.0\.0\.1:2222\)/);
  });

  test('defaults and variables are in the help: share --target, relay --log-format, ssh --agent-timeout', async () => {
    assert.match((await cli('share', '-h')).out, /--target <host:port> .*\(default: 127\.0\.0\.1:22\)/);
    assert.match((await cli('share', '-h')).out, /--token <token> .*\(env: TETHER_TOKEN\)/);
    const relay = (await cli('relay', '-h')).out.replace(/\s+/g, ' ');
    assert.match(relay, /--log-format <format> .*\(one of pretty, json; default: pretty on a terminal, else json; env: TETHER_LOG_FORMAT\)/);
    assert.match((await cli('ssh', '-h')).out.replace(/\s+/g, ' '), new RegExp(`--agent-timeout <ms> .*\\(default: ${DEFAULT_AGENT_TIMEOUT_MS}\\)`));
  });

  test('--version prints the version of the package', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) assert.deepEqual(await cli(flag), { code: 0, out: `${version}\n`, err: '' });
  });
});

describe('usage errors: one line saying what is wrong, where help is, exit 2', () => {
  const cases: [what: string, argv: string[], line: string, help: string][] = [
    ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"', 'tether help'],
    ['a misspelt command', ['shar'], 'unknown command "shar"; did you mean share?', 'tether help'],
    ['an unknown option of tether', ['--bogus'], 'unknown option --bogus', 'tether help'],
    ['an unknown option of a command', ['tunnels', '--bogus'], "unknown option --bogus for 'tether tunnels'", 'tether help tunnels'],
    ['an option of tether after a command', ['share', 'box', '--version'], "unknown option --version for 'tether share'", 'tether help share'],
    ['an option without its value', ['tunnels', '--token'], '--token needs a value (--token <token>)', 'tether help tunnels'],
    ['a missing tunnel name', ['proxy', '--token', 't'], 'missing tunnel name', 'tether help proxy'],
    ['a missing user name', ['user', 'create'], 'missing user name', 'tether help user create'],
    ['an extra argument', ['proxy', 'a', 'b', '--token', 't'], 'unexpected argument "b"', 'tether help proxy'],
    ['a remote command without --', ['ssh', 'box', 'ls', '--token', 't'], 'unexpected argument "ls" (put the remote command after --)', 'tether help ssh'],
    ['a value outside the choices', ['ssh', 'box', '--agent', 'keyring'], '--agent must be one of auto, ssh-agent, gpg-agent, pageant, got "keyring"', 'tether help ssh'],
    ['an unknown shell', ['completion', 'tcsh'], 'shell must be one of bash, zsh, fish, got "tcsh"', 'tether help completion'],
    ['no user action', ['user'], 'missing user action: create, list, token, delete, block, unblock or role', 'tether help user'],
    ['an unknown user action', ['user', 'rename'], 'unknown user action "rename": create, list, token, delete, block, unblock or role', 'tether help user'],
    ['an unknown tunnel action', ['tunnel', 'rename', 'x'], 'unknown tunnel action "rename": delete, purge, disable, enable or set', 'tether help tunnel'],
    ['help for no such command', ['help', 'user', 'frob'], 'no command "user frob"', 'tether help'],
    ['a bad pool flag', ['share', 'box', '--token', 't', '--pool', '0'], '--pool must be an integer of at least 1, got "0"', 'tether help share'],
    ['no token', ['tunnels', '--relay', 'http://127.0.0.1:9'], 'no token: pass --token TOKEN or set TETHER_TOKEN', 'tether help tunnels'],
    ['a bad relay port', ['relay', '--port', '70000'], '--port must be 0-65535, got 70000', 'tether help relay'],
    ['a bad log format', ['relay', '--log-format', 'yaml'], '--log-format must be one of pretty, json, got "yaml"', 'tether help relay'],
  ];
  for (const [what, argv, line, help] of cases) {
    test(`${what}: tether ${argv.join(' ')}`, async (t) => {
      // `no token` must not find one in the environment.
      const saved = process.env.TETHER_TOKEN;
      delete process.env.TETHER_TOKEN;
      t.after(() => {
        if (saved !== undefined) process.env.TETHER_TOKEN = saved;
      });
      const result = await cli(...argv);
      assert.deepEqual(result, { code: 2, out: '', err: `tether: ${line}\nRun '${help}' for usage.\n` });
    });
  }

  test('a real process: two lines on stderr, no stack trace, nothing on stdout, exit 2', () => {
    for (const argv of [['share', '--bogus'], ['frobnicate'], ['user', 'create']]) {
      const result = spawnSync(process.execPath, [MAIN, ...argv], { encoding: 'utf8' });
      assert.equal(result.status, 2, argv.join(' '));
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^tether: [^\n]+\nRun 'tether help[^']*' for usage\.\n$/);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
    }
  });

  test('a real process: help on stdout with exit 0; tether alone exits 2', () => {
    const help = spawnSync(process.execPath, [MAIN, 'user', 'token', '-h'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: tether user token \[options\] <name>/);
    assert.equal(help.stderr, '');
    assert.equal(spawnSync(process.execPath, [MAIN], { encoding: 'utf8' }).status, 2);
  });

  test('a reader that goes away early is not an error (tether help | head -1)', () => {
    const result = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${MAIN}" ssh --help | head -1`], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.equal(result.stdout, 'Usage: tether ssh [options] <name> [-- command...]\n');
    assert.equal(result.stderr, '');
  });
});
