import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RELAY_NODE_FLAGS } from './node-flags.js';

const root = join(__dirname, '..', '..');

test('npm start runs the relay with the relay node flags', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts.start.split(/\s+/);
  assert.equal(words[0], 'node');
  assert.deepEqual(words.slice(1, 1 + RELAY_NODE_FLAGS.length), [...RELAY_NODE_FLAGS]);
  assert.equal(words.at(-1), 'relay');
});

test('the container image runs its entrypoint with the relay node flags', () => {
  const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
  const line = dockerfile.split('\n').find((l) => l.startsWith('ENTRYPOINT '));
  assert.ok(line, 'the Dockerfile has an ENTRYPOINT');
  const words = JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
  assert.equal(words[0], 'node');
  assert.deepEqual(words.slice(1, 1 + RELAY_NODE_FLAGS.length), [...RELAY_NODE_FLAGS]);
  assert.match(words.at(-1) ?? '', /tether\.js$/);
});

test('with the relay node flags a process starts with a young generation of 16 MiB or more', () => {
  const script = "process.stdout.write(String(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size))";
  const size = (flags: readonly string[]): number => Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
  assert.ok(size(RELAY_NODE_FLAGS) >= 16 * 1024 * 1024, `young generation of ${size(RELAY_NODE_FLAGS)} bytes`);
  assert.ok(size([]) < 16 * 1024 * 1024, 'without them it starts smaller (else the flags are not needed)');
});
