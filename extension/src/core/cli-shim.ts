import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_NODE_FLAGS } from './cli-node-flags.js';
import { GLIBC_TUNABLES_VALUE } from './glibc-tunables.js';
import { F_SETPIPE_SZ, PROXY_PIPE_BYTES } from './proxy-pipes.js';

/** Where the shim lives: beside the managed ssh config, at a path that never changes. */
export function cliShimPath(home: string): string {
  return join(home, '.ssh', 'tether', 'bin', 'tether');
}

/**
 * Perl that widens ssh's two pipes (stdin and stdout) to PROXY_PIPE_BYTES, capped at what this
 * Linux allows (/proc/sys/fs/pipe-max-size), with fcntl(F_SETPIPE_SZ). A pipe's capacity belongs
 * to the pipe, so it holds for the CLI the shim then starts. The npm CLI does this itself
 * through koffi, which the .vsix does not carry; perl is there on nearly every Linux (Debian's
 * perl-base is essential). Where there is no /proc (macOS), no perl, or no pipe, nothing
 * changes. Bundled CLI through the shim, 256 MiB uploads: docs/benchmarks.md, "tether proxy: a
 * fresh process per ssh connection".
 */
export const WIDEN_PIPES_PERL = [
  'open(my $f, "<", "/proc/sys/fs/pipe-max-size") or exit;',
  'my $max = <$f>;',
  `my $size = $max < ${PROXY_PIPE_BYTES} ? $max : ${PROXY_PIPE_BYTES};`,
  `fcntl(STDIN, ${F_SETPIPE_SZ}, $size); fcntl(STDOUT, ${F_SETPIPE_SZ}, $size);`,
].join(' ');

/**
 * The shim's text: runs `cliFile` (the CLI an extension version carries) with `node` and
 * CLI_NODE_FLAGS, and glibc's allocator tuned through GLIBC_TUNABLES unless the caller's
 * environment sets it already (glibc-tunables.ts). The bundled CLI cannot call mallopt() itself
 * (no koffi in the .vsix), and a `tether proxy` started by ssh for each connection is the
 * process that gains.
 */
export function cliShimText(cliFile: string): string {
  const quoted = `'${cliFile.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/sh',
    '# Written by the Tether VS Code extension: runs the tether CLI it carries. Rewritten when the',
    '# extension is updated, so ssh configs and copied ProxyCommand lines can name this path.',
    '# glibc reads GLIBC_TUNABLES at start-up: huge pages and fewer fresh pages for the CLI\'s',
    '# buffers. A GLIBC_TUNABLES of your own, even empty, is kept as it is.',
    `export GLIBC_TUNABLES="\${GLIBC_TUNABLES-${GLIBC_TUNABLES_VALUE}}"`,
    "# ssh's pipes to a ProxyCommand hold 64 KiB: 1 MiB lets ssh write on while the CLI waits for a core.",
    `[ "$1" = proxy ] && perl -e '${WIDEN_PIPES_PERL}' 2>/dev/null`,
    `exec node ${CLI_NODE_FLAGS.join(' ')} ${quoted} "$@"`,
    '',
  ].join('\n');
}

/**
 * Writes (or brings up to date) the shim at cliShimPath(home) for `cliFile`, mode 0755, and
 * returns its path. A ProxyCommand that names it keeps working across extension updates, which
 * move the CLI to a new versioned folder.
 */
export function writeCliShim(home: string, cliFile: string): string {
  const path = cliShimPath(home);
  const text = cliShimText(cliFile);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    mkdirSync(join(home, '.ssh', 'tether', 'bin'), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode: 0o755 });
  }
  chmodSync(path, 0o755);
  return path;
}
