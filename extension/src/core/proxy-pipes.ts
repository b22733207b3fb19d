/**
 * The capacity `tether proxy` gives the pipes ssh talks to it over (ssh's ProxyCommand). Linux
 * makes a pipe 64 KiB; ssh then blocks each time it has written 64 KiB until the proxy has been
 * scheduled and read them, on a machine where ssh, sshd and Tether's processes all want a core.
 * With 1 MiB the pipe buffers like the socket of `tether connect --listen` does (docs/benchmarks.md,
 * "tether proxy's pipes"). 1 MiB is also Linux's default ceiling for unprivileged processes.
 * The npm CLI sets it itself (cli/pipe-capacity.ts, through koffi); the VS Code extension's CLI
 * shim, whose bundled CLI has no koffi, before it starts the CLI (cli-shim.ts).
 */
export const PROXY_PIPE_BYTES = 1024 * 1024;

/** fcntl's command to set a pipe's capacity (Linux 2.6.35+, <linux/fcntl.h>). */
export const F_SETPIPE_SZ = 1031;
