/**
 * Node flags a relay is started with where Tether starts it (`npm start`, the container image's
 * entrypoint, the benchmarks). V8 reads them when the process starts: `tether relay` cannot set
 * them itself, and NODE_OPTIONS refuses them.
 *
 * `--min-semi-space-size=16` (MiB): the relay allocates a buffer per socket read and per
 * WebSocket message that spans reads, and frees them as fast. With V8's default young
 * generation (1 MiB to start) the external memory of those buffers starts full (mark-compact)
 * collections, 125–188 of them while moving 4 GiB, and the relay spent 3.1–6.1 s of CPU per GiB
 * forwarded; with 16 MiB it did one (at start-up) and 1.2–3.5 s per GiB (docs/benchmarks.md,
 * "The relay's young generation"). The price is up to 32 MiB more of young generation.
 *
 * `--initial-old-space-size=128` (MiB): with 1,000 idle tunnels about 28 MiB of the relay's
 * heap is live, and V8 set its old generation's next limit only ~10 MiB above that after each
 * full collection. Under the design's normal load (1,000 idle tunnels, 100 typing ssh
 * sessions, 10 MB/s of bulk) what each message leaves behind crossed it every 0.6 s: 50 full
 * collections in a 30-second run, a quarter of the relay's busy time, 26–27% of a core in all.
 * With the flag: 6 collections and 16–17% of a core (docs/benchmarks.md, "The relay's old
 * generation under normal load"). The price is up to ~20 MiB more old generation.
 */
export const RELAY_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--initial-old-space-size=128'];
