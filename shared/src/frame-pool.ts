import { HEADER_SIZE } from './frame.js';

/**
 * Reusable memory for the frames a session sends (DATA frames built from queued chunks).
 *
 * Why, twice over:
 * - Page faults: a fresh buffer of a few hundred KiB comes from memory the process has not
 *   touched yet (glibc serves it from new pages, and hands them back when it trims its heap), so
 *   filling it costs a page fault per 4 KiB, far more than the copy itself. On this project's
 *   benchmark machine a fresh 256 KiB buffer filled once costs 0.4-0.55 s of CPU per GiB; the
 *   same copy into a buffer used before costs 0.01-0.015 s.
 * - Garbage collection: every buffer larger than Node's 4 KiB small-buffer limit is its own
 *   ArrayBuffer, which V8 counts as external memory, and each 64 MiB of it starts a full
 *   collection ("external memory pressure" in `--trace-gc`). A process that builds a new frame
 *   for every 64 KiB it forwards pays one more full collection per 64 MiB moved.
 *
 * So slabs come in size classes: the full slab (`slabSize`, the largest frame with its header)
 * and halves of its body down to `minPooled` (each with the same `headroom` on top, so a frame
 * of half the largest payload fits a half slab). A request gets the smallest class it fits.
 *
 * Rules: `take()` hands out a view of a slab that nobody else holds; whoever sends it must call
 * `release()` exactly when the transport no longer needs the bytes (its write callback). A
 * buffer that did not come from this pool, or was already released, is ignored by `release()`.
 * Requests smaller than `minPooled` (16 KiB by default: keystrokes and control frames) get an
 * ordinary buffer, and so do requests larger than a slab.
 *
 * Released slabs wait for reuse up to `maxFreeBytes` in all (8 MiB by default). That must cover
 * what a busy transport holds in flight: a relay session lets ws buffer 4 MiB before it stops
 * (plus the frame that crossed the line), so a pool keeping fewer bytes than that throws slabs
 * away as a burst drains and allocates them again on the next (a count of 16 slabs did: 6,400
 * new slabs for 17,000 frames of 100 streams). Past the budget, the class used longest ago gives
 * up slabs, so slabs of a size the traffic no longer asks for make room for the size it does.
 * The budget is also what an idle process keeps.
 */
export class FramePool {
  readonly slabSize: number;
  /** Smallest request served from a slab. */
  readonly minPooled: number;
  private readonly maxFreeBytes: number;
  private freeBytes = 0;
  /** Slab sizes, largest first; free[i] holds released slabs of sizes[i]. */
  private readonly sizes: number[] = [];
  private readonly free: ArrayBuffer[][] = [];
  /** When each class was last taken from or given back to (a count of those calls). */
  private readonly lastUsed: number[];
  private uses = 0;
  /** Slabs handed out and not yet released, with the index of their class. */
  private readonly lent = new WeakMap<ArrayBuffer, number>();
  /** Slabs allocated by this pool over its life (for tests and diagnostics). */
  allocated = 0;

  constructor(slabSize: number, { maxFreeBytes = 8 * 1024 * 1024, minPooled = 16 * 1024, headroom = 0 }: { maxFreeBytes?: number; minPooled?: number; headroom?: number } = {}) {
    this.slabSize = slabSize;
    this.maxFreeBytes = maxFreeBytes;
    this.minPooled = Math.min(minPooled, slabSize);
    const body = slabSize - headroom;
    this.sizes.push(slabSize);
    for (let half = body >> 1; half + headroom >= this.minPooled && half > 0; half >>= 1) this.sizes.push(half + headroom);
    this.free = this.sizes.map(() => []);
    this.lastUsed = this.sizes.map(() => 0);
  }

  /** Slabs ready for reuse, over every class. */
  get idle(): number {
    return this.free.reduce((n, list) => n + list.length, 0);
  }

  /** A buffer of `size` bytes (contents undefined). */
  take(size: number): Buffer {
    if (size < this.minPooled || size > this.slabSize) return Buffer.allocUnsafe(size);
    let k = 0;
    while (k + 1 < this.sizes.length && this.sizes[k + 1] >= size) k++;
    let slab = this.free[k].pop();
    if (slab) this.freeBytes -= slab.byteLength;
    else {
      slab = new ArrayBuffer(this.sizes[k]);
      this.allocated++;
    }
    this.lent.set(slab, k);
    this.lastUsed[k] = ++this.uses;
    return Buffer.from(slab, 0, size);
  }

  /** Gives back a buffer from take() once its bytes are no longer needed. */
  release(buf: Buffer): void {
    const slab = buf.buffer;
    if (!(slab instanceof ArrayBuffer)) return;
    const k = this.lent.get(slab);
    if (k === undefined) return;
    this.lent.delete(slab);
    this.free[k].push(slab);
    this.freeBytes += slab.byteLength;
    this.lastUsed[k] = ++this.uses;
    // Over budget: the class used longest ago gives up slabs first (what the traffic asks for
    // now stays; a budget full of another size would throw it away), the oldest slab first.
    while (this.freeBytes > this.maxFreeBytes) {
      let victim = k;
      for (let i = 0; i < this.free.length; i++) if (this.free[i].length > 0 && this.lastUsed[i] < this.lastUsed[victim]) victim = i;
      this.freeBytes -= this.sizes[victim];
      this.free[victim].shift();
    }
  }
}

const shared = new Map<number, FramePool>();

/**
 * The process-wide pool for frames of up to `slabSize` bytes, header included (every session
 * with that frame size shares it); its smaller classes leave room for a frame header.
 */
export function framePoolFor(slabSize: number): FramePool {
  let pool = shared.get(slabSize);
  if (!pool) {
    pool = new FramePool(slabSize, { headroom: HEADER_SIZE });
    shared.set(slabSize, pool);
  }
  return pool;
}
