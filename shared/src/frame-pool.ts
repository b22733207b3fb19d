/**
 * Reusable memory for the large frames a session sends (DATA frames built from queued chunks).
 *
 * Why: a fresh buffer of a few hundred KiB comes from memory the process has not touched yet
 * (glibc serves it from new pages, and hands them back when it trims its heap), so filling it
 * costs a page fault per 4 KiB, far more than the copy itself. On this project's benchmark
 * machine a fresh 256 KiB buffer filled once costs 0.4-0.55 s of CPU per GiB; the same copy into
 * a buffer used before costs 0.01-0.015 s. Reusing a few slabs, each released as soon as the
 * transport has written it out, keeps that memory warm.
 *
 * Rules: `take()` hands out a view of a slab that nobody else holds; whoever sends it must call
 * `release()` exactly when the transport no longer needs the bytes (its write callback). A
 * buffer that did not come from this pool, or was already released, is ignored by `release()`.
 * Requests smaller than `minPooled` (128 KiB by default) get an ordinary buffer: pinning a
 * whole slab for a keystroke, or for each of a hundred streams' small frames, would waste memory.
 */
export class FramePool {
  readonly slabSize: number;
  /** Smallest request served from a slab. */
  readonly minPooled: number;
  private readonly maxFree: number;
  private readonly free: ArrayBuffer[] = [];
  /** Slabs handed out and not yet released. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Slabs allocated by this pool over its life (for tests and diagnostics). */
  allocated = 0;

  constructor(slabSize: number, { maxFree = 16, minPooled = MMAP_THRESHOLD }: { maxFree?: number; minPooled?: number } = {}) {
    this.slabSize = slabSize;
    this.maxFree = maxFree;
    this.minPooled = Math.min(minPooled, slabSize);
    this.free = [];
  }

  /** Slabs ready for reuse. */
  get idle(): number {
    return this.free.length;
  }

  /** A buffer of `size` bytes (contents undefined). */
  take(size: number): Buffer {
    if (size < this.minPooled || size > this.slabSize) return Buffer.allocUnsafe(size);
    let slab = this.free.pop();
    if (!slab) {
      slab = new ArrayBuffer(this.slabSize);
      this.allocated++;
    }
    this.lent.add(slab);
    return Buffer.from(slab, 0, size);
  }

  /** Gives back a buffer from take() once its bytes are no longer needed. */
  release(buf: Buffer): void {
    const slab = buf.buffer;
    if (!(slab instanceof ArrayBuffer) || !this.lent.has(slab)) return;
    this.lent.delete(slab);
    if (this.free.length < this.maxFree) this.free.push(slab);
  }
}

/**
 * glibc's default M_MMAP_THRESHOLD: smaller blocks come from its heap, which reuses freed memory,
 * so only frames at least this large are worth a slab (a slab per small frame of a hundred
 * streams would pin far more memory than it saves).
 */
const MMAP_THRESHOLD = 128 * 1024;

const shared = new Map<number, FramePool>();

/** The process-wide pool for slabs of `slabSize` bytes (every session with that frame size shares it). */
export function framePoolFor(slabSize: number): FramePool {
  let pool = shared.get(slabSize);
  if (!pool) {
    pool = new FramePool(slabSize);
    shared.set(slabSize, pool);
  }
  return pool;
}
