// Runs the end-to-end suites (test/e2e: real sshd, relay, CLI and ssh processes) and the CLI's
// unit tests under c8, and checks line coverage of the `tether` command-line tool.
// c8 sets NODE_V8_COVERAGE for the test runner; every process the suites start inherits it
// (fixtures.mjs passes the environment on, and ssh hands it to its `tether proxy` ProxyCommand),
// so each `tether` process writes its own V8 coverage when it exits, and c8 merges them all into
// one report per folder (coverage/e2e). A process killed with SIGKILL writes none: the suites
// that kill relays on purpose count only the processes that end normally.
import { spawnSync } from 'node:child_process';

const c8 = 'node_modules/.bin/c8';
const run = (args) => spawnSync(args[0], args.slice(1), { stdio: 'inherit' }).status ?? 1;
// Include/exclude must apply after source maps turn dist/*.js into src/*.ts, or nothing matches.
const where = ['--exclude-after-remap', '--temp-directory=coverage/e2e/tmp', '--report-dir=coverage/e2e'];
const product = ['--exclude=**/*.test.ts', '--exclude=**/test-support/**'];

const testStatus = run([
  c8, ...where, '--reporter=text-summary', '--reporter=text', '--reporter=json-summary',
  '--include=shared/src/**', '--include=relay/src/**', '--include=extension/src/core/**', '--include=extension/src/cli/**', ...product,
  process.execPath, '--test', '--test-concurrency=1', 'test/e2e/', 'extension/dist/cli/',
]);

// The CLI is exercised mostly here, as separate processes; npm test gates the other folders.
// (`report --check-coverage`: c8 12's `check-coverage` ignores --exclude-after-remap, so its
// src/ patterns would match nothing and pass.)
console.log('coverage of extension/src/cli:');
const coverageStatus = run([c8, 'report', '--check-coverage', ...where, '--lines=80', '--reporter=text-summary', '--include=extension/src/cli/**', ...product]);
if (coverageStatus !== 0) console.error('coverage: extension/src/cli is below 80% of lines (end-to-end suites and CLI unit tests together)');
process.exit(testStatus || coverageStatus);
