/**
 * V8 options for the CLI where Tether starts it itself: the VS Code extension's shim
 * (cli-shim.ts) and `tether service install`'s unit (cli/service-unit.ts). V8 reads them when the
 * process starts; the CLI cannot set them from inside, and NODE_OPTIONS refuses them.
 *
 * `--initial-old-space-size=64` (MiB). Without it V8 sets the old-generation limit from the
 * first collections' survivors: 21–26 MiB with 9–12 MiB live in the CLI (`--trace-gc`). Buffers
 * that wait in a stream's queue long enough to be promoted then set off full collections again
 * and again:
 * - `tether proxy` (the bundled CLI): 44–78 per 256 MiB moved, none with the option, and 20–25%
 *   less CPU per transfer;
 * - `tether share` and `tether connect --listen` under 100 busy streams: 82–149 per run of the
 *   bench's concurrent section and 13–17 with the option; CPU per run 5.4–7.6 s → 4.5–5.1 s
 *   (share) and 6.8–9.0 s → 4.9–5.4 s (connect). Peak RSS there rose 25–50 MB.
 * V8 does not shrink a configured initial size. Started without it, share, connect and proxy
 * keep an equivalent floor themselves (cli/heap-floor.ts). docs/benchmarks.md, "tether proxy: a
 * fresh process per ssh connection" and "100 streams: the old generation of share and connect".
 */
export const CLI_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
