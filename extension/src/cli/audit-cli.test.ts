import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, mock, test } from 'node:test';
import { encodeRecord, GENESIS_HASH, keyId, leafHash, rootFromLeafHashes, sealRecord, signCheckpoint, type AuditRecord } from '@tether/shared/audit';
import { exitCodeOf, formatError } from './output.js';
import { run } from './program.js';

/** The CLI in this process, failures as main.ts prints them; stdout and stderr of the command itself captured. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // The actions write to process.stdout and process.stderr themselves: caught for the test.
  const stdout = mock.method(process.stdout, 'write', (text: string) => ((out += text), true));
  const stderr = mock.method(process.stderr, 'write', (text: string) => ((err += text), true));
  const io = { out: (text: string) => (out += text), err: (text: string) => (err += text) };
  try {
    return { code: await run(argv, io), out, err };
  } catch (failure) {
    return { code: exitCodeOf(failure), out, err: `${err}${formatError(failure)}\n` };
  } finally {
    stdout.mock.restore();
    stderr.mock.restore();
  }
}

describe('audit commands: usage errors, before anything is sent', () => {
  const cases: [argv: string[], line: string, help: string][] = [
    [['audit'], 'missing audit action: export, verify, log, key, checkpoint, checkpoints, prune or rotate-keys', 'audit'],
    [['audit', 'export', '--from', 'yesterday'], '--from must be an ISO 8601 time such as 2026-12-01 or 2026-12-01T09:30:00Z, got "yesterday"', 'audit export'],
    [['audit', 'export', '--to', '2026-13-45'], '--to must be an ISO 8601 time such as 2026-12-01 or 2026-12-01T09:30:00Z, got "2026-13-45"', 'audit export'],
    [['audit', 'export', '--from', '2026-12-02', '--to', '2026-12-01'], '--from (2026-12-02) is after --to (2026-12-01)', 'audit export'],
    [['audit', 'export', '--format', 'xml'], '--format must be one of jsonl, syslog, cef, hec, got "xml"', 'audit export'],
    [['audit', 'export', '--outcome', 'maybe'], '--outcome must be one of success, failure, got "maybe"', 'audit export'],
    [['audit', 'export', '--tunnel', 'box', '--target', 'user:bob'], 'give --tunnel NAME or --target TARGET, not both (--tunnel N is --target tunnel:N)', 'audit export'],
    [['audit', 'log', '--limit', '0'], '--limit must be a whole number from 1 to 1000, got "0"', 'audit log'],
    [['audit', 'log', '--after', 'x'], '--after must be a whole number from 0 to 999999999, got "x"', 'audit log'],
    [['audit', 'log', '--from', '12/01/2026'], '--from must be an ISO 8601 time such as 2026-12-01 or 2026-12-01T09:30:00Z, got "12/01/2026"', 'audit log'],
    [['audit', 'verify'], 'missing the export (tether audit export --out FILE)', 'audit verify'],
    [['audit', 'verify', 'a.jsonl', '--checkpoint', 'c.json'], '--checkpoint needs --key: the public keys its signature is checked with (tether audit key --out FILE)', 'audit verify'],
    [['audit', 'verify', 'a.jsonl', 'b.jsonl'], 'unexpected argument "b.jsonl"', 'audit verify'],
    [['audit', 'rotate-keys'], "missing --keys FILE: the relay's audit keys file (DIR/audit-keys.json by default)", 'audit rotate-keys'],
  ];
  for (const [argv, line, help] of cases) {
    test(`tether ${argv.join(' ')}: exit 2, one line and the pointer to its help`, async () => {
      const result = await cli(...argv, ...(argv[1] === 'verify' || argv[1] === 'rotate-keys' ? [] : ['--token', 't']));
      assert.equal(result.code, 2, result.err);
      assert.equal(result.err, `tether: ${line}\nRun 'tether help ${help}' for usage.\n`);
    });
  }
});

/** A real log of `n` records (details sealed-shaped; verify never opens them), and a key to sign checkpoints. */
function makeLog(n: number): { lines: string[]; root: (size: number) => string } {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let index = 0; index < n; index++) {
    const record: AuditRecord = sealRecord({
      v: 1,
      index,
      time: new Date(Date.UTC(2026, 11, 1, 9, 0, index)).toISOString(),
      event: 'user.created',
      actor: 'admin',
      target: `user:u${index}`,
      outcome: 'success',
      node: 'node-a',
      details: { alg: 'A256GCM', kid: 'd1', iv: randomBytes(12).toString('base64url'), ct: randomBytes(20).toString('base64url'), tag: randomBytes(16).toString('base64url') },
      prev,
    });
    prev = record.hash;
    lines.push(encodeRecord(record));
  }
  const root = (size: number) => rootFromLeafHashes(lines.slice(0, size).map((l) => leafHash(Buffer.from(l, 'utf8')))).toString('hex');
  return { lines, root };
}

describe('tether audit verify, offline: output and exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-audit-verify-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const { lines, root } = makeLog(6);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = keyId(publicKey);
  const sign = (size: number) => signCheckpoint({ v: 1, log: 'log-1', size, root: root(size), time: new Date(Date.UTC(2026, 11, 1, 10, 0, size)).toISOString(), kid }, privateKey);
  const pem = file('audit.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const whole = file('audit.jsonl', lines.map((l) => `${l}\n`).join(''));
  const both = file('both.json', JSON.stringify([sign(4), sign(6)]));

  test('intact: exit 0, the one-line summary on stdout', async () => {
    const r = await cli('audit', 'verify', whole, '--key', pem, '--checkpoint', both);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `intact: 6 records (0..5), root ${root(6)}, 2 checkpoints verified\n`);
    assert.equal(r.err, '');
  });

  test('intact without a checkpoint: a hint on stderr that truncation cannot be seen', async () => {
    const r = await cli('audit', 'verify', whole);
    assert.equal(r.code, 0);
    assert.equal(r.out, `intact: 6 records (0..5), root ${root(6)}, 0 checkpoints verified\n`);
    assert.match(r.err, /^No checkpoint given: records removed from the end cannot be noticed/);
  });

  test('one checkpoint object, or one per line, is read as well as an array', async () => {
    const one = file('one.json', `${JSON.stringify(sign(6))}\n`);
    assert.equal((await cli('audit', 'verify', whole, '--key', pem, '--checkpoint', one)).out, `intact: 6 records (0..5), root ${root(6)}, 1 checkpoint verified\n`);
    const perLine = file('lines.jsonl', `${JSON.stringify(sign(4))}\n${JSON.stringify(sign(6))}\n`);
    assert.equal((await cli('audit', 'verify', whole, '--key', pem, '--checkpoint', perLine)).code, 0);
  });

  test('a changed record: exit 1, "record N: …" on stderr, --json names kind and index', async () => {
    const changed = [...lines];
    changed[2] = changed[2].replace('"user:u2"', '"user:u9"');
    const bad = file('changed.jsonl', changed.map((l) => `${l}\n`).join(''));
    const r = await cli('audit', 'verify', bad);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(r.err, 'record 2: does not match its hash: its content was changed\n');
    const json = await cli('audit', 'verify', bad, '--json');
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.out), {
      ok: false, first: 0, records: 2, root: null, checkpointsChecked: 0,
      problem: { kind: 'hash', index: 2, message: 'record 2 does not match its hash: its content was changed' },
    });
  });

  test('truncated: the checkpoint sentence as it is', async () => {
    const short = file('short.jsonl', lines.slice(0, 4).map((l) => `${l}\n`).join(''));
    const r = await cli('audit', 'verify', short, '--key', pem, '--checkpoint', both);
    assert.equal(r.code, 1);
    assert.match(r.err, /^the log ends after record 3 but a checkpoint signed \S+ covers 6 records: records 4\.\.5 were removed\n$/);
  });

  test('could not verify is exit 2: unreadable export, no key in the PEM, a checkpoint file that is not JSON', async () => {
    const missing = await cli('audit', 'verify', join(dir, 'nope.jsonl'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^tether: cannot read the export \S+nope\.jsonl: no such file or folder; give a file written by 'tether audit export --out FILE'\n/);
    const noKey = await cli('audit', 'verify', whole, '--key', file('empty.pem', ''), '--checkpoint', both);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /holds no PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const notEd = await cli('audit', 'verify', whole, '--key', file('rsa.pem', rsa), '--checkpoint', both);
    assert.equal(notEd.code, 2);
    assert.match(notEd.err, /holds a key that cannot be used \(an audit key must be an Ed25519 public key\)/);
    const notJson = await cli('audit', 'verify', whole, '--key', pem, '--checkpoint', file('bad.json', 'not json'));
    assert.equal(notJson.code, 2);
    assert.match(notJson.err, /^tether: the checkpoint file \S+ is not JSON; give the output of 'tether audit checkpoint' or 'tether audit checkpoints'\n/);
  });
});
