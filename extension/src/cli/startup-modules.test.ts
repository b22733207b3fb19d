import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { closedPort } from '../test-support/testing.js';

const MAIN = join(__dirname, 'main.js');

// Records every module the CLI asks for (Module._load), then runs it with the given arguments
// and prints the list as JSON on stderr when the process exits.
const RECORDER = `
const Module = require('node:module');
const load = Module._load;
const asked = new Set();
Module._load = function (request, ...rest) { asked.add(request); return load.call(this, request, ...rest); };
process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify([...asked]) + '\\n'));
process.argv = [process.argv[0], ${JSON.stringify(MAIN)}, ...process.argv.slice(1)];
require(${JSON.stringify(MAIN)});
`;

/** The modules `tether ARGS` loads before it gives up on a relay nobody listens at. */
function modulesOf(args: string[], relay: string): string[] {
  const r = spawnSync(process.execPath, ['-e', RECORDER, ...args], {
    env: { ...process.env, TETHER_RELAY: relay, TETHER_TOKEN: 'not-a-real-token', NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 15_000,
  });
  const line = /^MODULES (.*)$/m.exec(r.stderr);
  assert.ok(line, `no module list; stderr: ${r.stderr}`);
  return JSON.parse(line[1]) as string[];
}

// tether proxy starts once per ssh connection and share/connect carry bulk data: neither may pay
// for ssh2, OpenTelemetry or the whole core (core/index.js). Loading ssh2 made the data path of
// a share and a connector cost more CPU per GiB, besides the start-up (docs/benchmarks.md).
for (const args of [['proxy', 'box'], ['connect', 'box', '--listen', '127.0.0.1:0']]) {
  test(`tether ${args[0]} loads neither ssh2, OpenTelemetry nor the core barrel`, async () => {
    const loaded = modulesOf(args, `http://127.0.0.1:${await closedPort()}`);
    assert.ok(loaded.includes('ws'), 'the recorder saw the CLI load its WebSocket client');
    for (const heavy of ['ssh2', '@opentelemetry/api']) assert.ok(!loaded.includes(heavy), `${heavy} was loaded`);
    assert.deepEqual(loaded.filter((m) => /core\/index\.js$/.test(m)), [], 'the core barrel was loaded');
  });
}
