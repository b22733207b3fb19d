import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliShimPath, writeCliShim } from './cli-shim.js';

test('the shim runs the CLI it names with its arguments, and follows the CLI to a new version', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'tether-shim-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
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
