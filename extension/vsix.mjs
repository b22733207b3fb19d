// Packages the VS Code extension as tether-<version>.vsix at the repository root.
// vsce refuses scoped names like @tether/extension (the workspace name other packages import),
// so the package is built in a staging folder with its own manifest: the esbuild bundles,
// README, CHANGELOG, LICENSE and media. Nothing from node_modules goes in.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { options, webviewOptions } from './esbuild.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

/** The marketplace manifest: the VS Code fields of extension/package.json under the name vsce accepts. */
function vsixManifest(source) {
  const pick = ['displayName', 'description', 'version', 'publisher', 'license', 'icon', 'repository', 'categories', 'keywords', 'activationEvents', 'contributes'];
  const manifest = { name: 'tether' };
  for (const key of pick) if (source[key] !== undefined) manifest[key] = source[key];
  manifest.description = 'Share SSH and any TCP port through a WebSocket relay; reach them from a terminal, ssh or Remote-SSH.';
  manifest.engines = { vscode: source.engines.vscode };
  manifest.main = './extension.js';
  manifest.files = ['extension.js', 'cli.js', 'webview/**', 'media/**', 'README.md', 'CHANGELOG.md', 'LICENSE'];
  return manifest;
}

const stage = mkdtempSync(join(tmpdir(), 'tether-vsix-'));
try {
  const [{ metafile }, { metafile: webviews }] = await Promise.all([build({ ...options(stage), metafile: true }), build({ ...webviewOptions(stage), metafile: true })]);
  // Test fixtures live in src/test-support (and tests beside the code): none may reach the package.
  const testCode = [...Object.keys(metafile.inputs), ...Object.keys(webviews.inputs)].filter((input) => /(^|\/)test-support\/|\.test\.[cm]?[jt]s$/.test(input));
  if (testCode.length > 0) throw new Error(`test code would ship in the .vsix: ${testCode.join(', ')}`);
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(vsixManifest(pkg), null, 2)}\n`);
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE']) cpSync(join(here, file), join(stage, file));
  cpSync(join(here, 'media'), join(stage, 'media'), { recursive: true });
  const out = join(root, `tether-${pkg.version}.vsix`);
  const vsce = join(root, 'node_modules', '.bin', 'vsce');
  const result = spawnSync(vsce, ['package', '--no-dependencies', '--out', out], { cwd: stage, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`vsce failed (${result.status ?? result.signal}); staging folder kept at ${stage}`);
    process.exit(1);
  }
  rmSync(stage, { recursive: true, force: true });
} catch (err) {
  console.error(err);
  console.error(`staging folder kept at ${stage}`);
  process.exit(1);
}
