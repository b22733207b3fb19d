/**
 * Merkle tree hashing, inclusion proofs and consistency proofs for a tamper-evident, append-only audit log,
 * exactly as RFC 9162 (Certificate Transparency Version 2.0) §2.1 defines them, with SHA-256. The hashing is
 * the same as RFC 6962's, so roots and proofs interoperate with other CT-style logs and verifiers.
 *
 * - MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0), and for n > 1 with k the largest power of two
 *   smaller than n: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) (§2.1.1).
 * - Inclusion proofs are PATH(m, D[n]) (§2.1.3.1), checked with the fn/sn algorithm of §2.1.3.2.
 * - Consistency proofs are PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1), checked per §2.1.4.2.
 *
 * The functions taking `leaves` take leaf hashes (already leafHash()ed), not entries. Nothing here recurses
 * per leaf or copies the leaf array: subtree roots are folded left to right over an index range, keeping
 * only O(log n) hashes, which is also what MerkleFrontier keeps for a writer that appends forever.
 * Pure: node:crypto only, no I/O.
 */
import * as crypto from 'node:crypto';

const HASH_SIZE = 32;
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
// nodeHash's fast path: crypto.hash() where the runtime has it, over one reused 0x01 || left || right buffer.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX);

/** MTH({}): the root of the empty tree, SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = crypto.createHash('sha256').digest();

/** The hash of one log entry: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return crypto.createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** The hash of an interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (oneShot !== undefined && left.length === HASH_SIZE && right.length === HASH_SIZE) {
    // Proof generation is O(n) node hashes per proof, so this is the hot path: the one-shot crypto.hash()
    // (Node >= 20.12) over a reused buffer is about a third faster than a streaming Hash object.
    NODE_INPUT.set(left, 1);
    NODE_INPUT.set(right, 1 + HASH_SIZE);
    return oneShot('sha256', NODE_INPUT, 'buffer');
  }
  return crypto.createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH over leaf hashes; the empty list gives EMPTY_ROOT. O(n) hashing, O(log n) memory. */
export function rootFromLeafHashes(leaves: readonly Buffer[]): Buffer {
  return rangeRoot(leaves, 0, leaves.length);
}

/** MTH(D[0:size]) over the first `size` leaf hashes, without copying the array. */
export function rootAt(leaves: readonly Buffer[], size: number): Buffer {
  checkSize(size, leaves.length, 'size');
  return rangeRoot(leaves, 0, size);
}

/**
 * PATH(index, D[0:size]) (RFC 9162 §2.1.3.1): the sibling subtree roots from the leaf up to the root, the
 * deepest first. Throws RangeError unless 0 <= index < size <= leaves.length.
 */
export function inclusionProof(leaves: readonly Buffer[], index: number, size: number): Buffer[] {
  checkSize(size, leaves.length, 'size');
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`inclusion proof: index ${index} is not in a tree of size ${size}`);
  }
  // Walk down from the root; the recursion's appended elements come out in reverse order.
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      proof.push(rangeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(rangeRoot(leaves, lo, lo + k));
      lo += k;
    }
  }
  return proof.reverse();
}

/**
 * PROOF(oldSize, D[0:newSize]) = SUBPROOF(oldSize, D[0:newSize], true) (RFC 9162 §2.1.4.1); empty when the
 * sizes are equal. Throws RangeError unless 0 < oldSize <= newSize <= leaves.length (a proof from the empty
 * tree is not meaningful: every tree is consistent with it).
 */
export function consistencyProof(leaves: readonly Buffer[], oldSize: number, newSize: number): Buffer[] {
  checkSize(newSize, leaves.length, 'newSize');
  if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > newSize) {
    throw new RangeError(`consistency proof: old size ${oldSize} must be in 1..${newSize}`);
  }
  const proof: Buffer[] = [];
  let lo = 0;
  let hi = newSize;
  let m = oldSize; // relative to lo
  let b = true; // whether D[lo:lo+m] is the whole old tree (whose root the verifier already has)
  while (m !== hi - lo) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      proof.push(rangeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(rangeRoot(leaves, lo, lo + k));
      lo += k;
      m -= k;
      b = false;
    }
  }
  if (!b) proof.push(rangeRoot(leaves, lo, hi));
  return proof.reverse();
}

/**
 * Whether `proof` shows the leaf hash `leaf` at `index` in the tree of `size` leaves whose root is `root`
 * (RFC 9162 §2.1.3.2). Never throws: any malformed input is simply not a proof.
 */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!isIndex(index) || !isIndex(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !isHashList(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(r, root);
}

/**
 * Whether `proof` shows that the tree of `oldSize` leaves with root `oldRoot` is a prefix of the tree of
 * `newSize` leaves with root `newRoot` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots.
 * Never throws: any malformed input (including oldSize 0 or oldSize > newSize) is simply not a proof.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!isIndex(oldSize) || !isIndex(newSize) || oldSize < 1 || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !isHashList(proof)) return false;
  if (oldSize === newSize) return proof.length === 0 && sameHash(oldRoot, newRoot);
  // 1. An empty path proves nothing between different sizes.
  if (proof.length === 0) return false;
  // 2. If the old size is a power of two, the old root is itself a node of the new tree: start from it.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // 3., 4.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr = path[0];
  let sr = path[0];
  // 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sn === 0 && sameHash(fr, oldRoot) && sameHash(sr, newRoot);
}

/**
 * The right edge of an append-only tree: one subtree root per set bit of the size, largest (leftmost) first,
 * so O(log n) hashes. root() equals rootFromLeafHashes() of every leaf hash appended so far.
 */
export class MerkleFrontier {
  readonly #nodes: Buffer[] = [];
  #size = 0;

  /** Appends one leaf hash (32 bytes; copied, so the caller may reuse its buffer). */
  append(leafHash: Buffer): void {
    if (!isHash(leafHash)) throw new TypeError(`MerkleFrontier.append: a leaf hash is ${HASH_SIZE} bytes`);
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('MerkleFrontier.append: the tree is full');
    this.#size = pushLeaf(this.#nodes, this.#size, Buffer.from(leafHash));
  }

  get size(): number {
    return this.#size;
  }

  root(): Buffer {
    return foldRight(this.#nodes);
  }

  /** The subtree roots of the right edge, largest first (copies): what a prune checkpoint carries. */
  nodes(): Buffer[] {
    return this.#nodes.map((n) => Buffer.from(n));
  }

  /**
   * The frontier of a tree of `size` leaves from its subtree roots (as `nodes()` gave them), so a
   * log whose first records were pruned can go on growing the same tree. Throws RangeError when
   * the count of roots is not the number of set bits of `size`, or a root is not 32 bytes.
   */
  static from(size: number, nodes: readonly Uint8Array[]): MerkleFrontier {
    if (!isIndex(size)) throw new RangeError(`MerkleFrontier.from: size ${String(size)} is not a whole number`);
    let bits = 0;
    for (let n = size; n > 0; n = half(n)) if (isOdd(n)) bits++;
    if (nodes.length !== bits || !nodes.every(isHash)) throw new RangeError(`MerkleFrontier.from: a tree of ${size} leaves has ${bits} subtree roots of ${HASH_SIZE} bytes`);
    const frontier = new MerkleFrontier();
    for (const n of nodes) frontier.#nodes.push(Buffer.from(n));
    frontier.#size = size;
    return frontier;
  }
}

// Appends `leaf` to a compact range of `count` leaves (one root per set bit of count, leftmost first),
// merging the equal-sized subtrees it completes. Returns the new count.
function pushLeaf(nodes: Buffer[], count: number, leaf: Buffer): number {
  let h = leaf;
  for (let n = count; isOdd(n); n = half(n)) {
    h = nodeHash(nodes.pop() as Buffer, h);
  }
  nodes.push(h);
  return count + 1;
}

// The root of a compact range: the subtrees, each smaller than the one to its left, hash together from the
// right, which is exactly MTH's split at the largest power of two.
function foldRight(nodes: readonly Buffer[]): Buffer {
  if (nodes.length === 0) return Buffer.from(EMPTY_ROOT);
  let r = nodes[nodes.length - 1];
  for (let i = nodes.length - 2; i >= 0; i--) r = nodeHash(nodes[i], r);
  return nodes.length === 1 ? Buffer.from(r) : r;
}

// MTH(D[lo:hi]) over leaf hashes, without slicing.
function rangeRoot(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const nodes: Buffer[] = [];
  for (let i = lo; i < hi; i++) pushLeaf(nodes, i - lo, leaves[i]);
  return foldRight(nodes);
}

function checkSize(size: number, available: number, name: string): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > available) {
    throw new RangeError(`${name} ${size} is not in 0..${available} (the number of leaf hashes given)`);
  }
}

// The largest power of two strictly smaller than n (n >= 2); arithmetic, not bit operators, so sizes past
// 2^31 work.
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && largestPowerOfTwoBelow(n + 1) === n;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: unknown): h is Buffer {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

// Byte equality that also takes a plain Uint8Array (which has no .equals()).
function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function isHashList(proof: unknown): proof is readonly Buffer[] {
  return Array.isArray(proof) && proof.every(isHash);
}
