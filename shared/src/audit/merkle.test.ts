import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  EMPTY_ROOT,
  MerkleFrontier,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootAt,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

// ---------------------------------------------------------------------------------------------------------
// An independent reference: RFC 9162 §2.1.1 / §2.1.3.1 / §2.1.4.1 written as the RFC states them, recursive
// and slicing, with its own hashing. Slow, and only here to check the module against.
// ---------------------------------------------------------------------------------------------------------
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const refLeaf = (data: Uint8Array): Buffer => sha256(Buffer.of(0), data);
const refNode = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.of(1), l, r);

/** The largest power of two k < n (n > 1), found by doubling as the RFC words it. */
function refSplit(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes (the leaf hashing already applied). */
function refMth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha256();
  if (d.length === 1) return d[0];
  const k = refSplit(d.length);
  return refNode(refMth(d.slice(0, k)), refMth(d.slice(k)));
}

function refPath(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = refSplit(d.length);
  if (m < k) return [...refPath(m, d.slice(0, k)), refMth(d.slice(k))];
  return [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}

function refSubproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMth(d)];
  const k = refSplit(d.length);
  if (m <= k) return [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))];
  return [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}

/** Distinct synthetic leaf hashes: the leaf hash of each index as 4 big-endian bytes. */
function makeLeaves(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const entry = Buffer.alloc(4);
    entry.writeUInt32BE(i);
    return refLeaf(entry);
  });
}

const LEAVES = makeLeaves(300);

const flipped = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  c[at] ^= 0x01;
  return c;
};

const ALL_OFFSETS = Array.from({ length: 32 }, (_, j) => j);
const SOME_OFFSETS = [0, 13, 31];
const isPowerOfTwo = (n: number): boolean => n > 0 && Number.isInteger(Math.log2(n));

/** Every copy of `proof` with exactly one byte (at one of `offsets`) of one element flipped. */
function* byteFlips(proof: readonly Buffer[], offsets: readonly number[]): Generator<Buffer[]> {
  for (let i = 0; i < proof.length; i++) {
    for (const j of offsets) {
      const copy = proof.slice();
      copy[i] = flipped(proof[i], j);
      yield copy;
    }
  }
}

/** Array.prototype.toSpliced (ES2023) without the ES2023 lib. */
function spliced<T>(a: readonly T[], start: number, deleteCount: number, ...items: T[]): T[] {
  const c = a.slice();
  c.splice(start, deleteCount, ...items);
  return c;
}

const ceilLog2 = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

// ---------------------------------------------------------------------------------------------------------
// RFC 6962 test vectors from the Certificate Transparency reference implementation (as published in
// transparency-dev/merkle, proof/verify_test.go), used as data only.
// ---------------------------------------------------------------------------------------------------------
const CT_ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_LEAVES = CT_ENTRIES.map((e) => leafHash(e));
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// Leaf indexes are 0-based here (the Go vectors number leaves from 1).
const CT_INCLUSION = [
  { index: 0, size: 8, proof: [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ] },
  { index: 5, size: 8, proof: [
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, proof: [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ] },
];
const CT_CONSISTENCY = [
  { oldSize: 1, newSize: 8, proof: [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ] },
  { oldSize: 6, newSize: 8, proof: [
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ] },
  { oldSize: 2, newSize: 5, proof: [
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ] },
  { oldSize: 6, newSize: 7, proof: [
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ] },
];
const SOME_HASH = unhex('abacaba000000000000000000000000000000000000000000060061e00123456');

describe('hashing (RFC 9162 §2.1.1)', () => {
  test('the empty tree root is SHA-256 of the empty string', () => {
    assert.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hex(rootFromLeafHashes([])), hex(EMPTY_ROOT));
    assert.equal(hex(rootAt(LEAVES, 0)), hex(EMPTY_ROOT));
    assert.equal(hex(new MerkleFrontier().root()), hex(EMPTY_ROOT));
  });

  test('leaf and node hashes use the 0x00 and 0x01 prefixes', () => {
    assert.equal(hex(leafHash(new Uint8Array())), CT_ROOTS[1]);
    assert.equal(hex(leafHash(Buffer.from('abc'))), hex(sha256(Buffer.from([0, 0x61, 0x62, 0x63]))));
    assert.equal(hex(nodeHash(CT_LEAVES[0], CT_LEAVES[1])), CT_ROOTS[2]);
    assert.equal(hex(nodeHash(LEAVES[0], LEAVES[1])), hex(sha256(Buffer.of(1), LEAVES[0], LEAVES[1])));
    // Inputs that are not 32 bytes take the streaming path; still SHA-256(0x01 || left || right).
    assert.equal(hex(nodeHash(Buffer.from('a'), Buffer.from('bc'))), hex(sha256(Buffer.from('\x01abc', 'latin1'))));
    for (const h of [EMPTY_ROOT, leafHash(Buffer.alloc(0)), nodeHash(LEAVES[0], LEAVES[1])]) assert.equal(h.length, 32);
  });

  test('the CT reference roots for sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) {
      assert.equal(hex(rootFromLeafHashes(CT_LEAVES.slice(0, n))), CT_ROOTS[n], `size ${n}`);
      assert.equal(hex(rootAt(CT_LEAVES, n)), CT_ROOTS[n], `rootAt ${n}`);
      assert.equal(hex(refMth(CT_ENTRIES.slice(0, n).map(refLeaf))), CT_ROOTS[n], `reference MTH ${n}`);
    }
  });

  test('rootFromLeafHashes and rootAt agree with the recursive reference MTH for sizes 0..300', () => {
    for (let n = 0; n <= 300; n++) {
      const want = hex(refMth(LEAVES.slice(0, n)));
      assert.equal(hex(rootFromLeafHashes(LEAVES.slice(0, n))), want, `size ${n}`);
      assert.equal(hex(rootAt(LEAVES, n)), want, `rootAt ${n}`);
    }
  });

  test('a one-leaf root is the leaf hash, but not the caller\'s buffer', () => {
    const leaf = Buffer.from(LEAVES[7]);
    const root = rootFromLeafHashes([leaf]);
    assert.equal(hex(root), hex(leaf));
    root[0] ^= 0xff;
    assert.equal(hex(leaf), hex(LEAVES[7]));
  });

  test('rootAt refuses a size it has no leaves for', () => {
    assert.throws(() => rootAt(LEAVES.slice(0, 3), 4), RangeError);
    assert.throws(() => rootAt(LEAVES, -1), RangeError);
    assert.throws(() => rootAt(LEAVES, 1.5), RangeError);
  });
});

describe('MerkleFrontier', () => {
  test('its root equals rootFromLeafHashes after every append, sizes 0..300', () => {
    const f = new MerkleFrontier();
    assert.equal(f.size, 0);
    for (let n = 1; n <= 300; n++) {
      const leaf = Buffer.from(LEAVES[n - 1]);
      f.append(leaf);
      leaf.fill(0); // the frontier kept its own copy
      assert.equal(f.size, n);
      assert.equal(hex(f.root()), hex(rootAt(LEAVES, n)), `size ${n}`);
    }
  });

  test('root() does not disturb later appends, and the returned root is the caller\'s to keep', () => {
    const f = new MerkleFrontier();
    f.append(LEAVES[0]);
    f.root()[0] ^= 0xff;
    assert.equal(hex(f.root()), hex(LEAVES[0]));
    for (let i = 1; i < 37; i++) {
      f.append(LEAVES[i]);
      f.root();
      f.root();
    }
    assert.equal(hex(f.root()), hex(rootAt(LEAVES, 37)));
  });

  test('keeps one hash per set bit of the size', () => {
    // Observable only through behaviour: 2^k - 1 leaves then one more collapse to a single subtree root.
    const f = new MerkleFrontier();
    for (let i = 0; i < 255; i++) f.append(LEAVES[i]);
    assert.equal(hex(f.root()), hex(rootAt(LEAVES, 255)));
    f.append(LEAVES[255]);
    assert.equal(hex(f.root()), hex(rootAt(LEAVES, 256)));
  });

  test('refuses a leaf hash that is not 32 bytes', () => {
    const f = new MerkleFrontier();
    assert.throws(() => f.append(Buffer.alloc(31)), TypeError);
    assert.throws(() => f.append(Buffer.alloc(33)), TypeError);
    assert.equal(f.size, 0);
  });
});

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  test('the CT reference inclusion proofs', () => {
    for (const v of CT_INCLUSION) {
      const proof = inclusionProof(CT_LEAVES, v.index, v.size);
      assert.deepEqual(proof.map(hex), v.proof, `leaf ${v.index} of ${v.size}`);
      const root = unhex(CT_ROOTS[v.size]);
      assert.equal(verifyInclusion(v.index, v.size, CT_LEAVES[v.index], v.proof.map(unhex), root), true);
      // The probes transparency-dev/merkle runs against the same vectors.
      const p = v.proof.map(unhex);
      const leaf = CT_LEAVES[v.index];
      assert.equal(verifyInclusion(v.index - 1, v.size, leaf, p, root), false);
      assert.equal(verifyInclusion(v.index + 1, v.size, leaf, p, root), false);
      assert.equal(verifyInclusion(v.index ^ 2, v.size, leaf, p, root), false);
      assert.equal(verifyInclusion(v.index, v.size * 2, leaf, p, root), false);
      assert.equal(verifyInclusion(v.index, Math.floor(v.size / 2), leaf, p, root), false);
      assert.equal(verifyInclusion(v.index, v.size, leaf, p, EMPTY_ROOT), false);
      assert.equal(verifyInclusion(v.index, v.size, leaf, p, SOME_HASH), false);
      assert.equal(verifyInclusion(v.index, v.size, leaf, [...p, root], root), false);
      assert.equal(verifyInclusion(v.index, v.size, leaf, [root, ...p], root), false);
    }
  });

  test('a one-leaf tree: the empty proof, and the root is the leaf hash', () => {
    assert.deepEqual(inclusionProof(LEAVES, 0, 1), []);
    assert.equal(verifyInclusion(0, 1, LEAVES[0], [], LEAVES[0]), true);
    assert.equal(verifyInclusion(0, 1, LEAVES[0], [], LEAVES[1]), false);
    assert.equal(verifyInclusion(0, 1, LEAVES[0], [LEAVES[1]], nodeHash(LEAVES[0], LEAVES[1])), false);
  });

  test('every leaf of every tree of 1..257 leaves: the proof verifies and is at most ceil(log2(size)) long', () => {
    for (let size = 1; size <= 257; size++) {
      const root = rootAt(LEAVES, size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(LEAVES, index, size);
        assert.ok(proof.length <= ceilLog2(size), `leaf ${index} of ${size}: ${proof.length} elements`);
        assert.ok(verifyInclusion(index, size, LEAVES[index], proof, root), `leaf ${index} of ${size}`);
      }
    }
  });

  test('proofs are exactly the RFC\'s PATH(m, D[n]) for every leaf of trees of 1..64 leaves', () => {
    for (let size = 1; size <= 64; size++) {
      const d = LEAVES.slice(0, size);
      for (let index = 0; index < size; index++) {
        assert.deepEqual(inclusionProof(LEAVES, index, size).map(hex), refPath(index, d).map(hex), `leaf ${index} of ${size}`);
      }
    }
  });

  // Every byte of the proof, leaf and root is flipped for sizes up to 64 and around each power of two; for the other
  // sizes the first, a middle and the last byte (a flip anywhere changes the hash input the same way), to keep the
  // file well under its time budget.
  test('any tampering fails: every size 1..257, its first, middle and last leaf', () => {
    for (let size = 1; size <= 257; size++) {
      const offsets = size <= 64 || [size - 1, size, size + 1].some(isPowerOfTwo) ? ALL_OFFSETS : SOME_OFFSETS;
      const root = rootAt(LEAVES, size);
      for (const index of new Set([0, Math.floor(size / 2), size - 1])) {
        const leaf = LEAVES[index];
        const proof = inclusionProof(LEAVES, index, size);
        const what = `leaf ${index} of ${size}`;
        assert.ok(verifyInclusion(index, size, leaf, proof, root), what);
        for (const bad of byteFlips(proof, offsets)) assert.equal(verifyInclusion(index, size, leaf, bad, root), false, `${what}: flipped proof byte`);
        for (const j of offsets) {
          assert.equal(verifyInclusion(index, size, flipped(leaf, j), proof, root), false, `${what}: flipped leaf byte ${j}`);
          assert.equal(verifyInclusion(index, size, leaf, proof, flipped(root, j)), false, `${what}: flipped root byte ${j}`);
        }
        for (let i = 0; i < proof.length; i++) {
          assert.equal(verifyInclusion(index, size, leaf, spliced(proof, i, 1), root), false, `${what}: element ${i} dropped`);
        }
        for (let i = 0; i <= proof.length; i++) {
          for (const extra of [SOME_HASH, root, leaf]) {
            assert.equal(verifyInclusion(index, size, leaf, spliced(proof, i, 0, extra), root), false, `${what}: element added at ${i}`);
          }
        }
        assert.equal(verifyInclusion(index - 1, size, leaf, proof, root), false, `${what}: index - 1`);
        assert.equal(verifyInclusion(index + 1, size, leaf, proof, root), false, `${what}: index + 1`);
        if (size > 1) assert.equal(verifyInclusion(index, size, LEAVES[index === 0 ? 1 : index - 1], proof, root), false, `${what}: a neighbour's leaf`);
      }
    }
  });

  test('the proof generator refuses what is not a leaf of the tree', () => {
    assert.throws(() => inclusionProof(LEAVES, 0, 0), RangeError);
    assert.throws(() => inclusionProof(LEAVES, 5, 5), RangeError);
    assert.throws(() => inclusionProof(LEAVES, 6, 5), RangeError);
    assert.throws(() => inclusionProof(LEAVES, -1, 5), RangeError);
    assert.throws(() => inclusionProof(LEAVES, 0.5, 5), RangeError);
    assert.throws(() => inclusionProof(LEAVES.slice(0, 4), 0, 5), RangeError);
    assert.throws(() => inclusionProof(LEAVES, 0, Number.NaN), RangeError);
  });

  test('the verifier says false, and never throws, on malformed input', () => {
    const root = rootAt(LEAVES, 5);
    const proof = inclusionProof(LEAVES, 2, 5);
    const ok = (index: number, size: number, leaf: unknown, p: unknown, r: unknown): boolean =>
      verifyInclusion(index, size, leaf as Buffer, p as Buffer[], r as Buffer);
    assert.equal(ok(2, 5, LEAVES[2], proof, root), true);
    assert.equal(ok(2, 5, new Uint8Array(LEAVES[2]), proof.map((p) => new Uint8Array(p)), new Uint8Array(root)), true);
    for (const [index, size] of [[5, 5], [6, 5], [0, 0], [-1, 5], [2, -5], [Number.NaN, 5], [2, Number.POSITIVE_INFINITY], [2.5, 5], [2, 5.5], [2, 2 ** 53]]) {
      assert.equal(ok(index, size, LEAVES[2], proof, root), false, `index ${index}, size ${size}`);
    }
    for (const junk of [undefined, null, 'x', 42, {}, [], Buffer.alloc(0), Buffer.alloc(31), Buffer.alloc(33)]) {
      assert.equal(ok(2, 5, junk, proof, root), false);
      assert.equal(ok(2, 5, LEAVES[2], proof, junk), false);
      assert.equal(ok(2, 5, LEAVES[2], [...proof.slice(0, 2), junk], root), false);
    }
    for (const junk of [undefined, null, 'x', {}, proof[0]]) assert.equal(ok(2, 5, LEAVES[2], junk, root), false);
  });

  test('sizes beyond 2^32 are plain arithmetic, not 32-bit bit operations', () => {
    // A tree of 2^32 + 8 leaves: a perfect left subtree of 2^32 leaves (any hash will do as its root), then the
    // first 8 CT leaves. A leaf on the right is proven by its proof in the 8-leaf tree plus the left root.
    const big = 2 ** 32;
    const left = SOME_HASH;
    const right8 = unhex(CT_ROOTS[8]);
    const root = nodeHash(left, right8);
    const proof = [...inclusionProof(CT_LEAVES, 5, 8), left];
    assert.equal(verifyInclusion(big + 5, big + 8, CT_LEAVES[5], proof, root), true);
    assert.equal(verifyInclusion(5, big + 8, CT_LEAVES[5], proof, root), false);
    assert.equal(verifyInclusion(big + 5, 8, CT_LEAVES[5], proof, root), false);
    // (A verifier truncating to 32 bits would see leaf 5 of 8 and find the proof one element too long.)
    assert.equal(verifyInclusion(big + 5, big + 8, CT_LEAVES[5], proof.slice(0, -1), root), false);
  });
});

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  test('the CT reference consistency proofs', () => {
    for (const v of CT_CONSISTENCY) {
      const what = `${v.oldSize} -> ${v.newSize}`;
      assert.deepEqual(consistencyProof(CT_LEAVES, v.oldSize, v.newSize).map(hex), v.proof, what);
      const p = v.proof.map(unhex);
      const r1 = unhex(CT_ROOTS[v.oldSize]);
      const r2 = unhex(CT_ROOTS[v.newSize]);
      assert.equal(verifyConsistency(v.oldSize, v.newSize, r1, r2, p), true, what);
      // The probes transparency-dev/merkle runs against the same vectors.
      assert.equal(verifyConsistency(v.oldSize - 1, v.newSize, r1, r2, p), false, `${what}: size1 - 1`);
      assert.equal(verifyConsistency(v.oldSize + 1, v.newSize, r1, r2, p), false, `${what}: size1 + 1`);
      assert.equal(verifyConsistency(v.oldSize ^ 2, v.newSize, r1, r2, p), false, `${what}: size1 ^ 2`);
      assert.equal(verifyConsistency(v.oldSize, v.newSize * 2, r1, r2, p), false, `${what}: size2 * 2`);
      assert.equal(verifyConsistency(v.oldSize, Math.floor(v.newSize / 2), r1, r2, p), false, `${what}: size2 / 2`);
      assert.equal(verifyConsistency(v.oldSize, v.newSize, r2, r1, p), false, `${what}: swapped roots`);
      assert.equal(verifyConsistency(v.oldSize, v.newSize, r1, r2, []), false, `${what}: empty proof`);
      for (const extra of [r1, r2, p[0]]) {
        assert.equal(verifyConsistency(v.oldSize, v.newSize, r1, r2, [...p, extra]), false, `${what}: trailing element`);
        assert.equal(verifyConsistency(v.oldSize, v.newSize, r1, r2, [extra, ...p]), false, `${what}: preceding element`);
      }
    }
  });

  test('every 1 <= m <= n <= 64: the proof is the RFC\'s PROOF(m, D[n]) and verifies', () => {
    for (let n = 1; n <= 64; n++) {
      const d = LEAVES.slice(0, n);
      const newRoot = rootAt(LEAVES, n);
      for (let m = 1; m <= n; m++) {
        const what = `${m} -> ${n}`;
        const proof = consistencyProof(LEAVES, m, n);
        assert.deepEqual(proof.map(hex), refSubproof(m, d, true).map(hex), what);
        assert.ok(proof.length <= ceilLog2(n) + 1, `${what}: ${proof.length} elements`);
        if (m === n) assert.equal(proof.length, 0, what);
        assert.ok(verifyConsistency(m, n, rootAt(LEAVES, m), newRoot, proof), what);
      }
    }
  });

  // Every byte of every proof element and root up to n = 24; past that the first, a middle and the last byte.
  test('every 1 <= m < n <= 64: a flipped byte, a wrong root, or a dropped or added element fails', () => {
    for (let n = 2; n <= 64; n++) {
      const newRoot = rootAt(LEAVES, n);
      for (let m = 1; m < n; m++) {
        const what = `${m} -> ${n}`;
        const oldRoot = rootAt(LEAVES, m);
        const proof = consistencyProof(LEAVES, m, n);
        const offsets = n <= 24 ? ALL_OFFSETS : SOME_OFFSETS;
        for (const bad of byteFlips(proof, offsets)) assert.equal(verifyConsistency(m, n, oldRoot, newRoot, bad), false, `${what}: flipped proof byte`);
        for (const j of offsets) {
          assert.equal(verifyConsistency(m, n, flipped(oldRoot, j), newRoot, proof), false, `${what}: flipped old root byte ${j}`);
          assert.equal(verifyConsistency(m, n, oldRoot, flipped(newRoot, j), proof), false, `${what}: flipped new root byte ${j}`);
        }
        assert.equal(verifyConsistency(m, n, newRoot, oldRoot, proof), false, `${what}: swapped roots`);
        assert.equal(verifyConsistency(m, n, rootAt(LEAVES, m + 1), newRoot, proof), false, `${what}: the next tree's old root`);
        for (let len = 0; len < proof.length; len++) {
          assert.equal(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, len)), false, `${what}: truncated to ${len}`);
        }
        for (let i = 0; i < proof.length; i++) {
          assert.equal(verifyConsistency(m, n, oldRoot, newRoot, spliced(proof, i, 1)), false, `${what}: element ${i} dropped`);
        }
        for (let i = 0; i <= proof.length; i++) {
          for (const extra of [SOME_HASH, oldRoot, newRoot]) {
            assert.equal(verifyConsistency(m, n, oldRoot, newRoot, spliced(proof, i, 0, extra)), false, `${what}: element added at ${i}`);
          }
        }
      }
    }
  });

  test('equal sizes need the empty proof and equal roots', () => {
    const r = rootAt(LEAVES, 5);
    assert.deepEqual(consistencyProof(LEAVES, 5, 5), []);
    assert.equal(verifyConsistency(5, 5, r, Buffer.from(r), []), true);
    assert.equal(verifyConsistency(5, 5, r, rootAt(LEAVES, 4), []), false);
    assert.equal(verifyConsistency(5, 5, r, r, [r]), false);
    assert.equal(verifyConsistency(5, 5, r, r, [EMPTY_ROOT]), false);
  });

  test('the proof generator refuses sizes that make no proof', () => {
    assert.throws(() => consistencyProof(LEAVES, 0, 5), RangeError);
    assert.throws(() => consistencyProof(LEAVES, 0, 0), RangeError);
    assert.throws(() => consistencyProof(LEAVES, 6, 5), RangeError);
    assert.throws(() => consistencyProof(LEAVES.slice(0, 4), 2, 5), RangeError);
    assert.throws(() => consistencyProof(LEAVES, -1, 5), RangeError);
    assert.throws(() => consistencyProof(LEAVES, 1.5, 5), RangeError);
    assert.throws(() => consistencyProof(LEAVES, 1, Number.NaN), RangeError);
  });

  test('the verifier says false, and never throws, on malformed input', () => {
    const r3 = rootAt(LEAVES, 3);
    const r7 = rootAt(LEAVES, 7);
    const proof = consistencyProof(LEAVES, 3, 7);
    const ok = (m: number, n: number, a: unknown, b: unknown, p: unknown): boolean =>
      verifyConsistency(m, n, a as Buffer, b as Buffer, p as Buffer[]);
    assert.equal(ok(3, 7, r3, r7, proof), true);
    assert.equal(ok(3, 7, new Uint8Array(r3), new Uint8Array(r7), proof.map((p) => new Uint8Array(p))), true);
    // A proof from the empty tree is not meaningful (RFC 9162 §2.1.4): never accepted.
    assert.equal(ok(0, 7, EMPTY_ROOT, r7, []), false);
    assert.equal(ok(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), false);
    for (const [m, n] of [[7, 3], [-3, 7], [3, -7], [Number.NaN, 7], [3, Number.POSITIVE_INFINITY], [2.5, 7], [3, 7.5], [3, 2 ** 53]]) {
      assert.equal(ok(m, n, r3, r7, proof), false, `sizes ${m}, ${n}`);
    }
    for (const junk of [undefined, null, 'x', 42, {}, [], Buffer.alloc(0), Buffer.alloc(31), Buffer.alloc(33)]) {
      assert.equal(ok(3, 7, junk, r7, proof), false);
      assert.equal(ok(3, 7, r3, junk, proof), false);
      assert.equal(ok(3, 7, r3, r7, [...proof.slice(0, -1), junk]), false);
    }
    for (const junk of [undefined, null, 'x', {}, r3]) assert.equal(ok(3, 7, r3, r7, junk), false);
  });

  test('sizes beyond 2^32 are plain arithmetic, not 32-bit bit operations', () => {
    // Trees whose first 2^32 leaves form a perfect subtree with root `left`, followed by the CT leaves.
    const big = 2 ** 32;
    const left = SOME_HASH;
    const tree = (extra: number): Buffer => nodeHash(left, unhex(CT_ROOTS[extra]));
    // From 2^32 + 6 to 2^32 + 8: the proof inside the right subtree, then the left subtree's root.
    const proof = [...consistencyProof(CT_LEAVES, 6, 8), left];
    assert.equal(verifyConsistency(big + 6, big + 8, tree(6), tree(8), proof), true);
    assert.equal(verifyConsistency(big + 6, big + 8, tree(6), tree(8), proof.slice(0, -1)), false);
    assert.equal(verifyConsistency(6, big + 8, tree(6), tree(8), proof), false);
    // From exactly 2^32 (a power of two: the old root is a node of the new tree) to 2^32 + 8.
    assert.equal(verifyConsistency(big, big + 8, left, tree(8), [unhex(CT_ROOTS[8])]), true);
    assert.equal(verifyConsistency(big, big + 8, left, tree(8), []), false);
  });
});
