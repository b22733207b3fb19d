#!/usr/bin/env node
import { appendFileSync } from 'node:fs';
import { setDebugSink } from '@tether/shared';
import { exitCodeOf, formatError } from './output.js';
import { run } from './program.js';

// TETHER_DEBUG=1 traces stream moves (resume, reattach) on stderr; TETHER_DEBUG=FILE appends them to FILE.
const debug = process.env.TETHER_DEBUG;
if (debug) {
  const started = Date.now();
  const stamp = (line: string): string => `${new Date().toISOString()} +${Date.now() - started}ms [${process.pid}] ${line}\n`;
  setDebugSink(debug === '1' || debug === 'stderr' ? (line) => process.stderr.write(stamp(line)) : (line) => appendFileSync(debug, stamp(line)));
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exit(exitCodeOf(err));
  },
);
