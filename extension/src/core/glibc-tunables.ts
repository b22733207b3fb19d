/**
 * How Tether sets glibc's allocator for its data-path processes, in one place: the CLI applies
 * MALLOC_TUNING itself with mallopt() (cli/malloc-tuning.ts), and a launcher Tether writes (the
 * VS Code extension's CLI shim, cli-shim.ts) passes GLIBC_TUNABLES_VALUE in the environment,
 * which glibc reads only when a process starts.
 */
export const MALLOC_TUNING = {
  /** Blocks below this come from the heap, reused, instead of their own mmap(). */
  mmapThreshold: 1024 * 1024,
  /** Freed memory at the top of the heap is given back once it exceeds this. */
  trimThreshold: 32 * 1024 * 1024,
} as const;

/**
 * GLIBC_TUNABLES for a process started through a launcher Tether writes: MALLOC_TUNING's two
 * thresholds, and `glibc.malloc.hugetlb=1`, with which glibc asks for transparent huge pages for
 * its heap (madvise). A `tether proxy` is a fresh process for every ssh connection, and most of
 * a fresh process's cost over its first few hundred MiB is first touches of 4 KiB pages: with
 * huge pages it spent 14% less CPU per 256 MiB transfer (docs/benchmarks.md, "tether proxy
 * under VS Code: huge pages"). Without THP enabled, on glibc before 2.35 (which ignores the
 * tunable it does not know) or on another C library, it changes nothing.
 */
export const GLIBC_TUNABLES_VALUE = [
  'glibc.malloc.hugetlb=1',
  `glibc.malloc.mmap_threshold=${MALLOC_TUNING.mmapThreshold}`,
  `glibc.malloc.trim_threshold=${MALLOC_TUNING.trimThreshold}`,
].join(':');
