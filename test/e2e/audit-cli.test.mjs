// The signed audit log through the real CLI and a real relay: events made with tether commands,
// `tether audit export`, `key`, `checkpoint(s)` and `log` against the relay, and `tether audit
// verify` offline on the export and on tampered copies of it (each problem named at the right
// record); then `tether audit rotate-keys` on the stopped relay's keys file, the relay restarted
// on the same data folder, and old and new records and checkpoints still verifying and readable.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUser, HANG_GUARD, Processes, startRelay, tempDir, tether } from './fixtures.mjs';

describe('tether audit: export, checkpoints and offline verify against a real relay', HANG_GUARD, () => {
  const procs = new Processes();
  const tmp = tempDir('tether-audit-');
  const file = (name) => join(tmp.path, name);
  const dataDir = file('relay-data');
  let relay;
  const tokens = {};
  /** `tether ARGS` with the admin token. */
  const admin = (args) => tether(args, { relay: relay.url, token: relay.adminToken });
  /** `tether audit verify ARGS`: offline, with neither relay nor token. */
  const verify = (args) => tether(['audit', 'verify', ...args]);
  /** The export's lines (without the final newline). */
  const linesOf = (path) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
  const writeLines = (name, lines) => {
    writeFileSync(file(name), lines.map((l) => `${l}\n`).join(''));
    return file(name);
  };
  /** A copy of the export tampered by `change(lines)`, verified with the key and checkpoints. */
  async function verifyTampered(name, change, { checkpoints = file('checkpoints.json'), key = file('audit.pem') } = {}) {
    const lines = linesOf(file('audit.jsonl'));
    const tampered = writeLines(name, change([...lines]));
    return verify([tampered, '--key', key, '--checkpoint', checkpoints]);
  }
  /** Exit 1, nothing on stdout, one line on stderr. */
  function assertNotIntact(r, line) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, line);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  }
  let checkpoint;
  const K = 3;

  before(async () => {
    relay = await startRelay(procs, tmp.path, { dataDir });
    for (const name of ['alice', 'bob']) tokens[name] = await createUser(relay, name);
    // Events: a refused token, the users above, tunnel calls allowed and refused.
    assert.equal((await tether(['tunnels'], { relay: relay.url, token: 'not-a-token' })).code, 1);
    assert.equal((await tether(['tunnels'], { relay: relay.url, token: tokens.alice })).code, 0);
    assert.equal((await tether(['tunnel', 'delete', 'nobody-has-it'], { relay: relay.url, token: tokens.bob })).code, 1);
    assert.equal((await admin(['user', 'token', 'bob'])).code, 0);
  });

  after(async () => {
    await procs.stopAll();
    tmp.dispose();
  });

  test('checkpoint, export --out (0600), key --out and checkpoints --out, then verify: exit 0', async () => {
    const signed = await admin(['audit', 'checkpoint']);
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal(signed.stdout.split('\n').length, 2, 'one line of JSON');
    checkpoint = JSON.parse(signed.stdout);
    assert.match(signed.stderr, new RegExp(`^Checkpoint of ${checkpoint.size} records signed \\S+ by key ${checkpoint.kid}\\n$`));

    const exported = await admin(['audit', 'export', '--out', file('audit.jsonl')]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, '');
    const lines = linesOf(file('audit.jsonl'));
    assert.ok(lines.length >= checkpoint.size && lines.length >= 8, `${lines.length} records`);
    assert.equal(exported.stderr, `Exported ${lines.length} records (0..${lines.length - 1}) to ${file('audit.jsonl')}\n`);
    assert.equal(statSync(file('audit.jsonl')).mode & 0o777, 0o600);
    assert.deepEqual(lines.map((l) => JSON.parse(l).index), lines.map((_, i) => i));
    const events = lines.map((l) => JSON.parse(l).event);
    for (const event of ['user.created', 'auth.failed', 'user.token_rotated']) assert.ok(events.includes(event), `${event} in ${events}`);

    // The same export on stdout.
    const toStdout = await admin(['audit', 'export', '--event', 'user.created']);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.deepEqual(toStdout.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).target), ['user:alice', 'user:bob']);
    assert.match(toStdout.stderr, /^Exported 2 records \(\d+\.\.\d+\)\n$/);

    // Only the admin reads the log: a user is refused in one coded line, and no file is left.
    const refused = await tether(['audit', 'export', '--out', file('alice.jsonl')], { relay: relay.url, token: tokens.alice });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^tether: .+ \[TETHER_ERR_[A-Z_]+\]\n$/);
    assert.throws(() => statSync(file('alice.jsonl')), { code: 'ENOENT' });
    assert.throws(() => statSync(file('alice.jsonl.tmp')), { code: 'ENOENT' });

    const key = await tether(['audit', 'key', '--out', file('audit.pem')], { relay: relay.url, token: tokens.alice });
    assert.equal(key.code, 0, key.stderr);
    assert.match(readFileSync(file('audit.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);

    const stored = await admin(['audit', 'checkpoints', '--out', file('checkpoints.json')]);
    assert.equal(stored.code, 0, stored.stderr);
    assert.deepEqual(JSON.parse(readFileSync(file('checkpoints.json'), 'utf8')), [checkpoint]);

    const r = await verify([file('audit.jsonl'), '--key', file('audit.pem'), '--checkpoint', file('checkpoints.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^intact: ${lines.length} records \\(0\\.\\.${lines.length - 1}\\), root [0-9a-f]{64}, 1 checkpoint verified\\n$`));
    assert.equal(r.stderr, '');

    // One checkpoint object (the output of audit checkpoint) is taken as well as the array.
    writeFileSync(file('one-checkpoint.json'), signed.stdout);
    assert.equal((await verify([file('audit.jsonl'), '--key', file('audit.pem'), '--checkpoint', file('one-checkpoint.json')])).code, 0);

    const json = await verify([file('audit.jsonl'), '--key', file('audit.pem'), '--checkpoint', file('checkpoints.json'), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const verdict = JSON.parse(json.stdout);
    assert.deepEqual({ ...verdict, root: typeof verdict.root }, { ok: true, first: 0, records: lines.length, root: 'string', checkpointsChecked: 1, problem: null });
  });

  test('a byte changed inside a field of record k: record k does not match its hash', async () => {
    const target = await verifyTampered('target.jsonl', (lines) => {
      lines[K] = lines[K].replace(/"target":"(.)/, (_, c) => `"target":"${c === 'x' ? 'y' : 'x'}`);
      return lines;
    });
    assertNotIntact(target, new RegExp(`^record ${K}: does not match its hash: its content was changed\\n$`));

    const time = await verifyTampered('time.jsonl', (lines) => {
      lines[K + 1] = lines[K + 1].replace(/"time":"(\d{4})/, (_, year) => `"time":"${Number(year) - 1}`);
      return lines;
    });
    assertNotIntact(time, new RegExp(`^record ${K + 1}: does not match its hash`));

    const json = await tether(['audit', 'verify', file('target.jsonl'), '--json']);
    assert.equal(json.code, 1);
    const verdict = JSON.parse(json.stdout);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.problem, { kind: 'hash', index: K, message: `record ${K} does not match its hash: its content was changed` });
  });

  test('record k deleted, k and k+1 swapped, or a copy of k inserted after it: the first bad index is named', async () => {
    assertNotIntact(await verifyTampered('deleted.jsonl', (lines) => lines.filter((_, i) => i !== K)), new RegExp(`^record ${K}: is missing`));
    assertNotIntact(await verifyTampered('swapped.jsonl', (lines) => {
      [lines[K], lines[K + 1]] = [lines[K + 1], lines[K]];
      return lines;
    }), new RegExp(`^record ${K}: is out of place: found record ${K + 1} there`));
    const inserted = await verifyTampered('inserted.jsonl', (lines) => {
      lines.splice(K + 1, 0, lines[K]);
      return lines;
    });
    assertNotIntact(inserted, new RegExp(`^record ${K + 1}: is out of place: found record ${K} there`));
  });

  test('the last 2 records removed: only the checkpoint notices, as a truncation', async () => {
    const lines = linesOf(file('audit.jsonl'));
    const kept = lines.length - 2;
    assert.ok(checkpoint.size > kept, 'the checkpoint covers the records removed');
    writeLines('truncated.jsonl', lines.slice(0, kept));
    assert.equal((await verify([file('truncated.jsonl')])).code, 0, 'without a checkpoint a truncation cannot be seen');
    const r = await verifyTampered('truncated.jsonl', (l) => l.slice(0, kept));
    assertNotIntact(r, new RegExp(`^the log ends after record ${kept - 1} but a checkpoint signed \\S+ covers ${checkpoint.size} records: records ${kept}\\.\\.${checkpoint.size - 1} were removed\\n$`));
    const json = JSON.parse((await verify([file('truncated.jsonl'), '--key', file('audit.pem'), '--checkpoint', file('checkpoints.json'), '--json'])).stdout);
    assert.equal(json.problem.kind, 'truncated');
    assert.equal(json.problem.index, kept);
  });

  test('a checkpoint whose signature was changed, or checked with another key, fails', async () => {
    const sig = checkpoint.sig;
    const forged = { ...checkpoint, sig: `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}` };
    writeFileSync(file('forged.json'), JSON.stringify([forged]));
    assertNotIntact(await verifyTampered('same.jsonl', (l) => l, { checkpoints: file('forged.json') }),
      new RegExp(`^checkpoint 1 \\(size ${checkpoint.size}\\): bad signature \\(key ${checkpoint.kid}\\)\\n$`));

    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(file('other.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const other = await verifyTampered('same.jsonl', (l) => l, { key: file('other.pem') });
    assertNotIntact(other, new RegExp(`^checkpoint 1 \\(size ${checkpoint.size}\\): signed by an unknown key ${checkpoint.kid}\\n$`));
    assert.equal(JSON.parse((await verify([file('same.jsonl'), '--key', file('other.pem'), '--checkpoint', file('checkpoints.json'), '--json'])).stdout).problem.kind, 'unknown-key');
  });

  test('could not verify: exit 2 with a sentence, no stack', async () => {
    const missing = await verify([file('nope.jsonl')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `tether: cannot read the export ${file('nope.jsonl')}: no such file or folder; give a file written by 'tether audit export --out FILE'\nRun 'tether help audit verify' for usage.\n`);
    writeFileSync(file('not.pem'), 'hello\n');
    const badPem = await verify([file('audit.jsonl'), '--key', file('not.pem'), '--checkpoint', file('checkpoints.json')]);
    assert.equal(badPem.code, 2);
    assert.match(badPem.stderr, /^tether: the key file \S+ holds no PEM public key .*; give the file 'tether audit key --out FILE' wrote\n/);
    writeFileSync(file('garbled.pem'), '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    const garbled = await verify([file('audit.jsonl'), '--key', file('garbled.pem')]);
    assert.equal(garbled.code, 2);
    assert.match(garbled.stderr, /^tether: the key file \S+ holds a key that cannot be used/);
    assert.doesNotMatch(garbled.stderr, /\n\s+at /);
  });

  test('audit log: a table of records, --json with details', async () => {
    const r = await admin(['audit', 'log', '--event', 'user.created']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
    assert.deepEqual(rows.map((c) => [c[2], c[3], c[4], c[5]]), [['user.created', 'admin', 'user:alice', 'success'], ['user.created', 'admin', 'user:bob', 'success']]);
    const failures = await admin(['audit', 'log', '--outcome', 'failure', '--json']);
    assert.equal(failures.code, 0, failures.stderr);
    const page = JSON.parse(failures.stdout);
    assert.ok(page.entries.length >= 1 && page.entries.every((e) => e.outcome === 'failure'));
    const paged = await admin(['audit', 'log', '--limit', '2']);
    assert.equal(paged.stdout.split('\n').filter(Boolean).length, 2);
    assert.match(paged.stderr, /^More records: tether audit log --after 1 /m);
    // Time filters reach the relay as UTC: a day that has not come yet has no records, the last hour has.
    const future = await admin(['audit', 'export', '--from', '2999-01-01']);
    assert.equal(future.code, 0, future.stderr);
    assert.equal(future.stdout, '');
    assert.equal(future.stderr, 'No records match: nothing exported\n');
    const hour = 3_600_000;
    const since = await admin(['audit', 'log', '--from', new Date(Date.now() - hour).toISOString(), '--to', new Date(Date.now() + hour).toISOString(), '--event', 'auth.failed', '--json']);
    assert.equal(since.code, 0, since.stderr);
    assert.ok(JSON.parse(since.stdout).entries.length >= 1);
  });

  test('rotate-keys on the stopped relay, restart on the same data: old and new records and checkpoints verify', async () => {
    const before = linesOf(file('audit.jsonl')).length;
    await procs.stop(relay.proc);
    const keysFile = join(dataDir, 'audit-keys.json');
    const rotated = await tether(['audit', 'rotate-keys', '--keys', keysFile]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const [[, signingKid], [, detailsKid]] = rotated.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
    assert.match(rotated.stdout, /^signing\t[0-9a-f]{16}\ndetails\t[0-9a-f]{16}\n$/);
    assert.notEqual(signingKid, checkpoint.kid);
    assert.match(rotated.stderr, /Restart the relay/);
    assert.equal(statSync(keysFile).mode & 0o777, 0o600);
    const ring = JSON.parse(readFileSync(keysFile, 'utf8'));
    assert.equal(ring.signing.length, 2);
    assert.equal(ring.details.at(-1).kid, detailsKid);

    relay = await startRelay(procs, tmp.path, { dataDir });
    tokens.carol = await createUser(relay, 'carol');
    assert.equal((await tether(['tunnels'], { relay: relay.url, token: 'still-not-a-token' })).code, 1);
    const signed = await admin(['audit', 'checkpoint']);
    assert.equal(signed.code, 0, signed.stderr);
    const second = JSON.parse(signed.stdout);
    assert.equal(second.kid, signingKid, 'signed with the new key');
    assert.equal(second.log, checkpoint.log, 'the same log');

    assert.equal((await admin(['audit', 'export', '--out', file('after.jsonl')])).code, 0);
    const key = await admin(['audit', 'key', '--out', file('both.pem')]);
    assert.equal(key.code, 0, key.stderr);
    assert.equal(readFileSync(file('both.pem'), 'utf8').match(/BEGIN PUBLIC KEY/g).length, 2);
    assert.equal((await admin(['audit', 'checkpoints', '--out', file('both.json')])).code, 0);
    // The relay may sign one more of its own on shutdown: every old one with the old key, the last with the new.
    const kids = JSON.parse(readFileSync(file('both.json'), 'utf8')).map((c) => c.kid);
    assert.deepEqual([...new Set(kids)], [checkpoint.kid, signingKid]);
    assert.equal(kids.at(-1), signingKid);

    const r = await verify([file('after.jsonl'), '--key', file('both.pem'), '--checkpoint', file('both.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^intact: \\d+ records \\(0\\.\\.\\d+\\), root [0-9a-f]{64}, ${kids.length} checkpoints verified\\n$`));
    // The old key alone cannot vouch for the new checkpoint.
    const oldKeyOnly = await verify([file('after.jsonl'), '--key', file('audit.pem'), '--checkpoint', file('both.json')]);
    assertNotIntact(oldKeyOnly, new RegExp(`^checkpoint ${kids.length} \\(size ${second.size}\\): signed by an unknown key ${signingKid}\\n$`));

    // Records from before and after the rotation are listed, their details opened.
    const log = await admin(['audit', 'log', '--event', 'user.created', '--json']);
    assert.equal(log.code, 0, log.stderr);
    const entries = JSON.parse(log.stdout).entries;
    assert.deepEqual(entries.map((e) => e.target), ['user:alice', 'user:bob', 'user:carol']);
    assert.ok(entries[0].index < before && entries[2].index >= before);
    for (const e of entries) assert.equal(typeof e.details?.action, 'string', `details of record ${e.index} opened`);
    const sealedWith = linesOf(file('after.jsonl')).map((l) => JSON.parse(l)).filter((rec) => rec.event === 'user.created').map((rec) => rec.details.kid);
    assert.deepEqual(sealedWith.slice(-1), [detailsKid], 'carol sealed with the new details key');
    assert.notEqual(sealedWith[0], detailsKid);
    const table = await admin(['audit', 'log', '--event', 'user.created']);
    assert.deepEqual(table.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[4]), ['user:alice', 'user:bob', 'user:carol']);
  });
});
