#!/usr/bin/env node
import { exitCodeOf, formatError } from './output.js';
import { run } from './program.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exit(exitCodeOf(err));
  },
);
