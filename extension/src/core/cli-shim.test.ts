import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CLI_NODE_FLAGS } from './cli-node-flags.js';
import { cliShimPath, WIDEN_PIPES_PERL, writeCliShim } from './cli-shim.js';
import { GLIBC_TUNABLES_VALUE } from './glibc-tunables.js';
import { PROXY_PIPE_BYTES } from './proxy-pipes.js';

/** A temporary home for a shim, removed after the test. */
function tempHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'tether-shim-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** A shim in `home` for a stand-in CLI made of `lines` of JavaScript. */
function shimForStandIn(home: string, lines: string[]): string {
  const cli = join(home, 'cli.js');
  writeFileSync(cli, lines.join('\n'));
  return writeCliShim(home, cli);
}

test('the shim runs the CLI it names with its arguments, and follows the CLI to a new version', (t) => {
  const home = tempHome(t);
  const v1 = join(home, "ext 1.0 (it's)", 'cli.js');
  const v2 = join(home, 'ext-2.0', 'cli.js');
  for (const [file, version] of [[v1, 'one'], [v2, 'two']]) {
    execFileSync('mkdir', ['-p', join(file, '..')]);
    writeFileSync(file, `process.stdout.write(${JSON.stringify(version)} + ':' + process.argv.slice(2).join('|'))`);
  }
  const path = writeCliShim(home, v1);
  assert.equal(path, cliShimPath(home));
  assert.equal(statSync(path).mode & 0o777, 0o755);
  assert.equal(execFileSync(path, ['proxy', 'my box'], { encoding: 'utf8' }), 'one:proxy|my box');
  writeCliShim(home, v2);
  assert.equal(execFileSync(path, ['proxy', 'x'], { encoding: 'utf8' }), 'two:proxy|x');
  assert.match(readFileSync(path, 'utf8'), /^#!\/bin\/sh\n/);
});

/** glibc 2.35 or later on Linux, with transparent huge pages in `madvise` mode: where glibc.malloc.hugetlb=1 shows. */
function hugetlbShows(): boolean {
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  if (process.platform !== 'linux' || !glibc) return false;
  const [major, minor] = glibc.split('.').map(Number);
  let thp: string;
  try {
    thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  } catch {
    return false;
  }
  return (major > 2 || (major === 2 && minor >= 35)) && thp.includes('[madvise]');
}

test("the shim tunes glibc's allocator for the CLI unless the caller set GLIBC_TUNABLES", (t) => {
  const home = tempHome(t);
  // A stand-in CLI that fills 16 MiB of malloc's heap, then reports its GLIBC_TUNABLES and how
  // many of its mappings carry the kernel's "huge pages advised" flag (hg in /proc/self/smaps).
  const shim = shimForStandIn(home, [
    "const { readFileSync } = require('node:fs');",
    'const held = []; for (let i = 0; i < 64; i++) held.push(Buffer.alloc(256 * 1024));',
    "const smaps = process.platform === 'linux' ? readFileSync('/proc/self/smaps', 'utf8') : '';",
    "const advised = smaps.split('\\n').filter((l) => l.startsWith('VmFlags:') && / hg( |$)/.test(l)).length;",
    'process.stdout.write(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES ?? null, advised, held: held.length, execArgv: process.execArgv }));',
  ]);
  type Report = { tunables: string | null; advised: number; execArgv: string[] };
  const run = (tunables: string | undefined): Report => {
    const env = { ...process.env };
    delete env.GLIBC_TUNABLES;
    if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
    return JSON.parse(execFileSync(shim, [], { encoding: 'utf8', env })) as Report;
  };

  const tuned = run(undefined);
  assert.equal(tuned.tunables, GLIBC_TUNABLES_VALUE);
  // The node on PATH took the V8 options (an unknown one would have stopped it before the CLI ran).
  assert.deepEqual(tuned.execArgv, [...CLI_NODE_FLAGS]);
  assert.match(GLIBC_TUNABLES_VALUE, /^glibc\.malloc\.hugetlb=1:glibc\.malloc\.mmap_threshold=1048576:glibc\.malloc\.trim_threshold=33554432$/);
  // Yours wins, even empty (glibc's defaults then).
  const own = run('glibc.malloc.mmap_threshold=65536');
  assert.equal(own.tunables, 'glibc.malloc.mmap_threshold=65536');
  assert.equal(run('').tunables, '');
  if (hugetlbShows()) {
    assert.ok(tuned.advised > 0, 'glibc advised huge pages for its heap under the shim');
    assert.equal(own.advised, 0, 'nothing advised huge pages without glibc.malloc.hugetlb');
  } else {
    t.diagnostic('no glibc >= 2.35 with THP in madvise mode here: the huge-page advice itself is not checked');
  }
});

/** Whether perl runs here (the shim's way to widen ssh's pipes). */
function hasPerl(): boolean {
  try {
    execFileSync('perl', ['-e', '1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test("the shim widens ssh's pipes for `tether proxy`, and only for it", (t) => {
  if (process.platform !== 'linux' || !hasPerl()) {
    t.skip('pipes are widened on Linux, with perl');
    return;
  }
  const home = tempHome(t);
  // A stand-in CLI that reports the capacity of the pipes it was given (fcntl F_GETPIPE_SZ,
  // 1032): its stdin as perl's, its stdout as perl's fd 3.
  const shim = shimForStandIn(home, [
    "const { execFileSync } = require('node:child_process');",
    "const size = (fd) => Number(execFileSync('perl', ['-e', `open(my $h, '<&=', ${fd}) or die; print fcntl($h, 1032, 0)`], { stdio: ['inherit', 'pipe', 'inherit', 1] }));",
    'process.stdout.write(JSON.stringify([size(0), size(3)]));',
  ]);
  assert.doesNotMatch(WIDEN_PIPES_PERL, /'/, 'the program sits inside single quotes in the shim');
  const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
  // Between two real pipes, as ssh runs a ProxyCommand (Node's own child stdio are socket pairs).
  const capacities = (args: string[]): number[] =>
    JSON.parse(execFileSync('/bin/sh', ['-c', ': | "$0" "$@" | cat', shim, ...args], { encoding: 'utf8' })) as number[];
  assert.deepEqual(capacities(['proxy', 'laptop']), [Math.min(max, PROXY_PIPE_BYTES), Math.min(max, PROXY_PIPE_BYTES)]);
  assert.deepEqual(capacities(['tunnels']), [65536, 65536], "Linux's own pipe size for any other command");
});
