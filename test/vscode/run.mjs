// `npm run test:vscode`: installs code-server into its own folder (once), builds the workspace
// and the extension's .vsix (`npm run package`), then runs the real-VS-Code suite one file at a
// time. TETHER_VSCODE_SUITE=smoke runs only the harness smoke test (no .vsix needed).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const suite = process.env.TETHER_VSCODE_SUITE ?? 'all';
if (!['all', 'smoke'].includes(suite)) {
  console.error(`test:vscode: TETHER_VSCODE_SUITE must be 'all' or 'smoke', not '${suite}'`);
  process.exit(2);
}

function step(what, command, args) {
  const started = performance.now();
  console.error(`test:vscode: ${what}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`test:vscode: ${what} failed (${r.status ?? r.signal}) after ${seconds}s`);
    process.exit(1);
  }
  console.error(`test:vscode: ${what}: ${seconds}s`);
}

// Screenshots of this run only.
rmSync(join(root, 'test-output/vscode'), { recursive: true, force: true });
step('install code-server 4.100.3 (skipped when installed)', 'bash', [join(here, 'install-code-server.sh')]);
step('build (tsc -b)', 'npx', ['tsc', '-b']);
if (suite === 'all') step('package the extension (npm run package)', 'npm', ['run', 'package']);
const files = suite === 'smoke' ? ['smoke.test.mjs'] : readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
step(`run ${files.join(', ')}`, process.execPath, ['--test', '--test-concurrency=1', ...files.map((f) => join(here, f))]);
