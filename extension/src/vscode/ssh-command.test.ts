import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { localPortCommand, proxyCommand, shellQuote, tokenExport } from './ssh-command.js';

/** What a POSIX shell makes of a line: its words, one per line. */
const words = (line: string): string[] => execFileSync('sh', ['-c', `printf '%s\\n' ${line.replace(/^ssh /, '')}`], { encoding: 'utf8' }).trimEnd().split('\n');

describe('ssh command lines', () => {
  test('local-port form', () => {
    assert.equal(localPortCommand({ tunnel: 'laptop', user: 'alice', port: 40022 }), 'ssh -p 40022 -o HostKeyAlias=tether-laptop alice@127.0.0.1');
  });

  test('an identity file with a space survives the shell', () => {
    const line = localPortCommand({ tunnel: 'laptop', user: 'alice', port: 1, identityFile: "/home/a b/it's" });
    assert.deepEqual(words(line).slice(-3), ['-i', "/home/a b/it's", 'alice@127.0.0.1']);
  });

  test('ProxyCommand form carries the CLI, tunnel and relay but no token', () => {
    const line = proxyCommand({ tunnel: 'laptop', user: 'bob', relay: 'https://relay.example', cli: ['node', '/ext dir/cli.js'] });
    assert.deepEqual(words(line), ['-o', "ProxyCommand=node '/ext dir/cli.js' proxy laptop --relay https://relay.example", 'bob@tether-laptop']);
    assert.doesNotMatch(line, /token/i);
  });

  const quoted: [string, string][] = [
    ['plain-word_1.2', 'plain-word_1.2'],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
  ];
  for (const [input, expected] of quoted) test(`quotes ${input}`, () => assert.equal(shellQuote(input), expected));
});

describe('tokenExport', () => {
  test('a relay token (tth_ + base64url) is exported as is', () => {
    assert.equal(tokenExport('tth_AbC-12_x'), 'export TETHER_TOKEN=tth_AbC-12_x');
  });
  test('a token a shell would split or expand reaches the variable intact', () => {
    const token = "a b$HOME'c";
    const value = execFileSync('sh', ['-c', `${tokenExport(token)}; printf '%s' "$TETHER_TOKEN"`], { encoding: 'utf8' });
    assert.equal(value, token);
  });
});
