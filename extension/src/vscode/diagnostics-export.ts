import os from 'node:os';
import * as vscode from 'vscode';
import { buildBundle, bundleText } from '../core/index.js';
import type { Auth } from './auth.js';
import type { DiagnosticsSources } from './diagnostics-sources.js';
import type { Logger } from './logger.js';
import { Cancelled, guarded, type Notifier } from './notify.js';

/**
 * Tether: Export Diagnostics: the JSON bundle for a bug report (core/diagnostics-bundle.ts builds
 * it and takes the secrets out) written where the user picks.
 */
export async function exportDiagnostics(context: vscode.ExtensionContext, auth: Auth, sources: DiagnosticsSources, logger: Logger): Promise<vscode.Uri | undefined> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({
    title: 'Tether: Export Diagnostics',
    defaultUri: vscode.Uri.joinPath(folder, `tether-diagnostics-${stamp}.json`),
    filters: { JSON: ['json'] },
    saveLabel: 'Export',
  });
  if (!target) return undefined;
  const credentials = auth.credentials;
  const { events, errors } = sources.model.history();
  const bundle = buildBundle({
    createdAt: new Date().toISOString(),
    versions: {
      extension: String((context.extension.packageJSON as { version?: string }).version ?? ''),
      vscode: vscode.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
    },
    // Every tether.* setting as VS Code resolves it (defaults included); the bundle redacts it.
    settings: JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('tether'))) as Record<string, unknown>,
    relay: credentials?.relay,
    pools: sources.pools(),
    connections: sources.connectionPaths(),
    agents: sources.model.agents(),
    events,
    errors,
    secrets: credentials ? [credentials.token] : [],
  });
  await vscode.workspace.fs.writeFile(target, Buffer.from(bundleText(bundle), 'utf8'));
  logger.info(`diagnostics exported to ${target.fsPath}`);
  return target;
}

/** The command: exports, then says where the file went. */
export function registerExportCommand(context: vscode.ExtensionContext, auth: Auth, sources: DiagnosticsSources, notifier: Notifier, logger: Logger): vscode.Disposable {
  return vscode.commands.registerCommand('tether.exportDiagnostics', guarded(notifier, 'Exporting diagnostics', async () => {
    const written = await exportDiagnostics(context, auth, sources, logger);
    if (!written) throw new Cancelled();
    notifier.info(`Tether: diagnostics written to ${written.fsPath} (tokens and invite codes left out).`);
  }));
}
