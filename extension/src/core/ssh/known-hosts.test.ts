import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, isTetherError } from '@tether/shared';
import { utils } from 'ssh2';
import {
  addKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  type HostKeyCheck,
} from './known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-known-hosts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh ed25519 public key: its OpenSSH line (`type base64 comment`) and its blob. */
function newKey(): { line: string; blob: Buffer } {
  const line = utils.generateKeyPairSync('ed25519').public.trim();
  return { line, blob: Buffer.from(line.split(' ')[1], 'base64') };
}
const A = newKey();
const B = newKey();
const a = A.line.split(' ').slice(0, 2).join(' ');
const b = B.line.split(' ').slice(0, 2).join(' ');

// Line numbers matter: the table below refers to them.
const text = [
  '# a comment', // 1
  '', // 2
  'this line is garbage', // 3
  `host1 ${a}`, // 4
  `host2,host3 ${b} with a comment`, // 5
  `[host4]:2222 ${a}`, // 6
  `*.example.com,!bad.example.com ${a}`, // 7
  `@revoked host5 ${b}`, // 8
  `host5 ${b}`, // 9
  `@cert-authority host6 ${a}`, // 10
  `@unknown-marker host7 ${a}`, // 11
  `host8 ssh-rsa ${A.line.split(' ')[1]}`, // 12: the blob says ed25519
  `host9 ssh-ed25519 !!!not-base64`, // 13
  `host10 ssh-ed25519`, // 14
  `   host11   ${a}   `, // 15: extra blanks
].join('\r\n');
const entries = parseKnownHosts(text);

describe('parseKnownHosts', () => {
  test('keeps the lines that parse, with their line numbers and markers', () => {
    assert.deepEqual(
      entries.map((e) => [e.line, e.marker ?? '', e.patterns.join(','), e.keyType]),
      [
        [4, '', 'host1', 'ssh-ed25519'],
        [5, '', 'host2,host3', 'ssh-ed25519'],
        [6, '', '[host4]:2222', 'ssh-ed25519'],
        [7, '', '*.example.com,!bad.example.com', 'ssh-ed25519'],
        [8, '@revoked', 'host5', 'ssh-ed25519'],
        [9, '', 'host5', 'ssh-ed25519'],
        [10, '@cert-authority', 'host6', 'ssh-ed25519'],
        [15, '', 'host11', 'ssh-ed25519'],
      ],
    );
    assert.ok(entries[0].key.equals(A.blob));
  });
});

describe('checkHostKey', () => {
  const cases: { host: string; key: Buffer; expected: HostKeyCheck }[] = [
    { host: 'host1', key: A.blob, expected: { status: 'known', line: 4 } },
    { host: 'HOST1', key: A.blob, expected: { status: 'known', line: 4 } },
    { host: 'host1', key: B.blob, expected: { status: 'changed', line: 4 } },
    { host: 'host3', key: B.blob, expected: { status: 'known', line: 5 } },
    { host: 'host4', key: A.blob, expected: { status: 'unknown' } },
    { host: '[host4]:2222', key: A.blob, expected: { status: 'known', line: 6 } },
    { host: '[host4]:2222', key: B.blob, expected: { status: 'changed', line: 6 } },
    { host: 'a.example.com', key: A.blob, expected: { status: 'known', line: 7 } },
    { host: 'bad.example.com', key: A.blob, expected: { status: 'unknown' } },
    { host: 'example.com', key: A.blob, expected: { status: 'unknown' } },
    { host: 'host5', key: B.blob, expected: { status: 'revoked', line: 8 } },
    { host: 'host5', key: A.blob, expected: { status: 'changed', line: 9 } },
    { host: 'host6', key: A.blob, expected: { status: 'unknown' } },
    { host: 'host7', key: A.blob, expected: { status: 'unknown' } },
    { host: 'host8', key: A.blob, expected: { status: 'unknown' } },
    { host: 'host9', key: A.blob, expected: { status: 'unknown' } },
    { host: 'host11', key: A.blob, expected: { status: 'known', line: 15 } },
    { host: 'nowhere', key: A.blob, expected: { status: 'unknown' } },
  ];
  for (const { host, key, expected } of cases) {
    test(`${host} with key ${key === A.blob ? 'A' : 'B'} is ${expected.status}`, () => {
      assert.deepEqual(checkHostKey(entries, host, key), expected);
    });
  }

  test('hashed entries written by ssh-keygen -H match their host only', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `alpha ${a}\n[beta]:2022 ${b}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const hashed = parseKnownHosts(readFileSync(file, 'utf8'));
    assert.equal(hashed.length, 2);
    assert.ok(hashed.every((e) => e.patterns[0].startsWith('|1|')));
    assert.deepEqual(checkHostKey(hashed, 'alpha', A.blob), { status: 'known', line: 1 });
    assert.deepEqual(checkHostKey(hashed, 'alpha', B.blob), { status: 'changed', line: 1 });
    assert.deepEqual(checkHostKey(hashed, knownHostName('beta', 2022), B.blob), { status: 'known', line: 2 });
    assert.deepEqual(checkHostKey(hashed, 'beta', B.blob), { status: 'unknown' });
    assert.deepEqual(checkHostKey(parseKnownHosts(`|1|bad|hash ${a}\n|2|x|y ${a}`), 'alpha', A.blob), { status: 'unknown' });
  });

  test('knownKeyTypes lists the plain entries of a host once each', () => {
    assert.deepEqual(knownKeyTypes(entries, 'host5'), ['ssh-ed25519']);
    assert.deepEqual(knownKeyTypes(entries, 'host6'), []);
  });
});

describe('key helpers', () => {
  test('fingerprint is what ssh-keygen -l prints', () => {
    const file = join(dir, 'a.pub');
    writeFileSync(file, `${A.line}\n`);
    const printed = execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(fingerprint(A.blob), printed);
  });

  test('keyTypeOf reads the blob, and refuses what is not one', () => {
    assert.equal(keyTypeOf(A.blob), 'ssh-ed25519');
    assert.equal(keyTypeOf(Buffer.from([0, 0])), '');
    assert.equal(keyTypeOf(Buffer.from([0, 0, 0, 9, 65])), '');
  });

  test('knownHostName brackets ports other than 22', () => {
    assert.equal(knownHostName('h'), 'h');
    assert.equal(knownHostName('h', 22), 'h');
    assert.equal(knownHostName('h', 2222), '[h]:2222');
  });
});

describe('addKnownHost', () => {
  test('creates the folder (0700) and file (0600), appends once, and reads back as known', async () => {
    const file = join(dir, 'home', '.ssh', 'known_hosts');
    assert.deepEqual(await readKnownHosts(file), []);
    assert.equal(await addKnownHost(file, 'tunnel-1', A.blob), true);
    assert.equal(statSync(join(dir, 'home', '.ssh')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), `tunnel-1 ${a}\n`);
    assert.equal(await addKnownHost(file, 'tunnel-1', A.blob), false);
    assert.equal(await addKnownHost(file, 'tunnel-2', B.blob), true);
    assert.equal(readFileSync(file, 'utf8'), `tunnel-1 ${a}\ntunnel-2 ${b}\n`);
    assert.deepEqual(checkHostKey(await readKnownHosts(file), 'tunnel-2', B.blob), { status: 'known', line: 2 });
  });

  test('starts a new line when the file does not end with one, and keeps what was there', async () => {
    const file = join(dir, 'no-newline');
    writeFileSync(file, `# mine\nother ${b}`, { mode: 0o644 });
    assert.equal(await addKnownHost(file, '[t]:2222', A.blob), true);
    assert.equal(readFileSync(file, 'utf8'), `# mine\nother ${b}\n[t]:2222 ${a}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o644, 'an existing file keeps its mode');
  });

  const invalid: { name: string; host: string; key?: Buffer }[] = [
    { name: 'empty host', host: '' },
    { name: 'blank inside', host: 'a b' },
    { name: 'comma list', host: 'a,b' },
    { name: 'hashed form', host: '|1|x|y' },
    { name: 'marker', host: '@revoked' },
    { name: 'negation', host: '!a' },
    { name: 'wildcard', host: 'a*' },
    { name: 'comment', host: '#a' },
    { name: 'not a key blob', host: 'a', key: Buffer.from('nope') },
  ];
  for (const { name, host, key } of invalid) {
    test(`refuses ${name} with INVALID_ARGUMENT`, async () => {
      const file = join(dir, 'invalid');
      await assert.rejects(addKnownHost(file, host, key ?? A.blob), (err) => isTetherError(err, ErrorCode.INVALID_ARGUMENT));
      assert.deepEqual(await readKnownHosts(file), []);
    });
  }

  test('a known_hosts path that cannot be read is an error, not an empty file', async () => {
    await assert.rejects(readKnownHosts(dir), { code: 'EISDIR' });
  });
});
