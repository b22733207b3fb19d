// The build context of deploy/Dockerfile with BUILD=prebuilt: this workspace as already built
// here (dist folders, node_modules with better-sqlite3 compiled for this node), without sources.
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORKSPACES = ['shared', 'relay', 'extension', 'webview'];

export function stagePrebuiltContext(root) {
  const dir = mkdtempSync(join(tmpdir(), 'tether-image-'));
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(dir, f));
  cpSync(join(root, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  for (const ws of WORKSPACES) {
    mkdirSync(join(dir, ws), { recursive: true });
    cpSync(join(root, ws, 'package.json'), join(dir, ws, 'package.json'));
    for (const sub of ['dist', 'node_modules', 'bin']) {
      if (existsSync(join(root, ws, sub))) cpSync(join(root, ws, sub), join(dir, ws, sub), { recursive: true, verbatimSymlinks: true });
    }
  }
  return dir;
}
