import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encodeRecord, GENESIS_HASH, sealRecord, type AuditRecord } from './audit-record.js';
import { keyId, parsePublicKeys, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { leafHash, rootFromLeafHashes } from './merkle.js';
import { exportLines, verifyLog } from './verify-log.js';

const signer = generateKeyPairSync('ed25519');
const keys = new Map([[keyId(signer.publicKey), signer.publicKey]]);
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/** A log of `n` records as the relay writes them (details sealed with random bytes: verify never opens them). */
function makeLog(n: number, seed = 0): string[] {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let index = 0; index < n; index++) {
    const record = sealRecord({
      v: 1,
      index,
      time: new Date(T0 + index * 1000 + seed).toISOString(),
      event: index % 3 === 0 ? 'auth.failed' : 'access.granted',
      actor: index % 3 === 0 ? 'anonymous' : `user:u${index % 5}`,
      target: `tunnel:t${index % 4}`,
      outcome: index % 3 === 0 ? 'failure' : 'success',
      node: 'node-a',
      details: { alg: 'A256GCM', kid: 'k1', iv: randomBytes(12).toString('base64url'), ct: randomBytes(20 + (index % 7)).toString('base64url'), tag: randomBytes(16).toString('base64url') },
      prev,
    });
    prev = record.hash;
    lines.push(encodeRecord(record));
  }
  return lines;
}

function checkpointOf(lines: readonly string[], size: number, key: KeyObject = signer.privateKey, publicKey: KeyObject = signer.publicKey, minute = 0): Checkpoint {
  const root = rootFromLeafHashes(lines.slice(0, size).map((l) => leafHash(Buffer.from(l, 'utf8')))).toString('hex');
  return signCheckpoint({ v: 1, log: 'log-1', size, root, time: new Date(T0 + 3_600_000 + minute * 60_000).toISOString(), kid: keyId(publicKey) }, key);
}

describe('verifyLog', () => {
  test('an intact log, whole or from the middle, verifies; the empty log too', () => {
    const lines = makeLog(20);
    const whole = verifyLog(lines, { keys, checkpoints: [checkpointOf(lines, 10), checkpointOf(lines, 20, undefined, undefined, 1)] });
    assert.equal(whole.ok, true, whole.problem?.message);
    assert.equal(whole.records, 20);
    assert.equal(whole.checkpointsChecked, 2);
    assert.equal(whole.root, checkpointOf(lines, 20).root);
    const tail = verifyLog(lines.slice(7));
    assert.equal(tail.ok, true);
    assert.equal(tail.first, 7);
    assert.equal(tail.root, null);
    assert.deepEqual(verifyLog([]), { ok: true, first: 0, records: 0, root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', checkpointsChecked: 0 });
  });

  test('a changed byte anywhere in record k names record k', () => {
    const lines = makeLog(6);
    for (let k = 0; k < lines.length; k++) {
      const bytes = Buffer.from(lines[k], 'utf8');
      for (let at = 0; at < bytes.length; at += 7) {
        const changed = Buffer.from(bytes);
        changed[at] = changed[at] === 0x61 ? 0x62 : 0x61;
        const verdict = verifyLog(exportLines([...lines.slice(0, k), changed.toString('utf8'), ...lines.slice(k + 1)].join('\n')));
        assert.equal(verdict.ok, false, `byte ${at} of record ${k}`);
        assert.equal(verdict.problem?.index, k, `byte ${at} of record ${k}: ${verdict.problem?.message}`);
      }
    }
  });

  test('each kind of tampering is named', () => {
    const lines = makeLog(10);
    const cp = checkpointOf(lines, 10);
    const check = (tampered: string[], kind: string, index: number | null, checkpoints: unknown[] = [], withKeys: typeof keys | null = keys) => {
      const verdict = verifyLog(tampered, withKeys ? { keys: withKeys, checkpoints } : { checkpoints });
      assert.equal(verdict.ok, false, kind);
      assert.equal(verdict.problem?.kind, kind, verdict.problem?.message);
      assert.equal(verdict.problem?.index, index, verdict.problem?.message);
      return verdict.problem.message;
    };
    check([...lines.slice(0, 4), ...lines.slice(5)], 'gap', 4);
    check([...lines.slice(0, 4), lines[5], lines[4], ...lines.slice(6)], 'order', 4);
    check([...lines.slice(0, 5), lines[4], ...lines.slice(5)], 'order', 5);
    const rewritten = JSON.parse(lines[3]) as AuditRecord;
    rewritten.prev = 'f'.repeat(64);
    check([...lines.slice(0, 3), encodeRecord(sealRecord({ ...rewritten })), ...lines.slice(4)], 'chain', 3);
    assert.match(check(lines.slice(0, 8), 'truncated', 8, [cp]), /records 8\.\.9 were removed/);
    check(lines, 'signature', null, [{ ...cp, sig: Buffer.alloc(64).toString('base64url') }]);
    check(lines, 'signature', null, [{ ...cp, size: 9 }]);
    const stranger = generateKeyPairSync('ed25519');
    check(lines, 'unknown-key', null, [checkpointOf(lines, 10, stranger.privateKey, stranger.publicKey)]);
    check(lines, 'checkpoint', null, [checkpointOf(lines, 10, undefined, undefined, 2), checkpointOf(lines, 5, undefined, undefined, 1)]);
    check(lines, 'checkpoint', null, [cp], null);
    check(lines.slice(1), 'gap', 0, [cp]);
    check(lines, 'checkpoint', null, [{ v: 1, size: 'ten' }]);
    check(['{"v":1'], 'malformed', 0);
    check([lines[0], '[]'], 'malformed', 1);
  });

  test('a log rewritten consistently after record k fails the checkpoint, naming where it may start', () => {
    const lines = makeLog(12);
    const checkpoints = [checkpointOf(lines, 4), checkpointOf(lines, 12, undefined, undefined, 1)];
    // Rewrite record 6 and every record after it so the chain holds again: only the checkpoint tells.
    const forged: string[] = lines.slice(0, 6);
    let prev = (JSON.parse(lines[5]) as AuditRecord).hash;
    for (const line of lines.slice(6)) {
      const r = JSON.parse(line) as AuditRecord;
      const record = sealRecord({ ...r, target: r.index === 6 ? 'tunnel:innocent' : r.target, prev });
      prev = record.hash;
      forged.push(encodeRecord(record));
    }
    const verdict = verifyLog(forged, { keys, checkpoints });
    assert.equal(verdict.problem?.kind, 'root');
    assert.equal(verdict.problem?.index, 4);
    assert.equal(verdict.checkpointsChecked, 1);
  });

  test('property: any single mutation of a random log is caught at the record it touched', () => {
    const mutation = fc.record({
      n: fc.integer({ min: 2, max: 40 }),
      kind: fc.constantFrom('byte', 'delete', 'swap', 'duplicate', 'truncate'),
      at: fc.nat(),
      offset: fc.nat(),
      byte: fc.integer({ min: 0x20, max: 0x7e }),
    });
    fc.assert(
      fc.property(mutation, ({ n, kind, at, offset, byte }) => {
        const lines = makeLog(n, at);
        const k = at % (kind === 'swap' || kind === 'delete' ? n - 1 : n);
        let tampered: string[];
        let expected: number;
        switch (kind) {
          case 'byte': {
            const bytes = Buffer.from(lines[k], 'utf8');
            const i = offset % bytes.length;
            if (bytes[i] === byte) return;
            bytes[i] = byte;
            tampered = [...lines.slice(0, k), bytes.toString('utf8'), ...lines.slice(k + 1)];
            expected = k;
            break;
          }
          case 'delete':
            tampered = [...lines.slice(0, k), ...lines.slice(k + 1)];
            expected = k;
            break;
          case 'swap':
            tampered = [...lines.slice(0, k), lines[k + 1], lines[k], ...lines.slice(k + 2)];
            expected = k;
            break;
          case 'duplicate':
            tampered = [...lines.slice(0, k + 1), lines[k], ...lines.slice(k + 1)];
            expected = k + 1;
            break;
          default:
            tampered = lines.slice(0, k);
            expected = k;
        }
        const verdict = verifyLog(tampered, { keys, checkpoints: [checkpointOf(lines, n)] });
        assert.equal(verdict.ok, false);
        assert.equal(verdict.problem?.index, expected, `${kind} at ${k} of ${n}: ${verdict.problem?.message}`);
      }),
      { numRuns: 400 },
    );
  });

  test('parsePublicKeys reads several PEM blocks and refuses a key that is not Ed25519', () => {
    const other = generateKeyPairSync('ed25519');
    const pem = [signer.publicKey, other.publicKey].map((k) => k.export({ type: 'spki', format: 'pem' })).join('\n');
    assert.deepEqual([...parsePublicKeys(pem).keys()].sort(), [keyId(signer.publicKey), keyId(other.publicKey)].sort());
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => parsePublicKeys(rsa), /Ed25519/);
    assert.equal(parsePublicKeys('no key here').size, 0);
  });
});
