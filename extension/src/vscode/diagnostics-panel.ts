import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { readDiagnosticsMessage, type DiagnosticsUpdate } from '../core/index.js';
import type { DiagnosticsSources } from './diagnostics-sources.js';
import type { Logger } from './logger.js';

/** The bundled webview script, next to extension.js (esbuild.mjs writes it). */
const SCRIPT = ['webview', 'diagnostics.js'];

/**
 * Tether: Show Diagnostics: one panel, live while it is visible. The model samples RTT and
 * throughput only while the panel is open, and the panel's one-second timer runs only while it
 * is visible: with no panel there is no timer and nothing is sampled (events are still kept).
 */
export class DiagnosticsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ready = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly sources: DiagnosticsSources,
    private readonly logger: Logger,
  ) {}

  register(): vscode.Disposable[] {
    return [vscode.commands.registerCommand('tether.showDiagnostics', () => this.open())];
  }

  open(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, SCRIPT[0]);
    const panel = vscode.window.createWebviewPanel('tether.diagnostics', 'Tether Diagnostics', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [root],
      retainContextWhenHidden: true,
    });
    this.panel = panel;
    this.ready = false;
    this.sources.model.sampling = true;
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        const message = readDiagnosticsMessage(raw);
        if (!message) {
          this.logger.warn('diagnostics panel: dropped a message that is not part of the protocol');
          return;
        }
        switch (message.type) {
          case 'ready':
            this.ready = true;
            this.follow();
            break;
          case 'clear':
            this.sources.model.clear();
            this.post();
            break;
          case 'export':
            void vscode.commands.executeCommand('tether.exportDiagnostics');
            break;
        }
      }),
      panel.onDidChangeViewState(() => this.follow()),
      panel.onDidDispose(() => this.closed()),
    );
    panel.webview.html = this.html(panel.webview);
  }

  /** Runs the timer while the panel is visible and ready; stops it otherwise. */
  private follow(): void {
    const live = this.panel?.visible === true && this.ready;
    if (live && !this.timer) {
      this.post();
      this.timer = setInterval(() => this.post(), this.sources.model.intervalMs);
    } else if (!live && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private post(): void {
    if (!this.panel || !this.ready) return;
    const update: DiagnosticsUpdate = { type: 'view', view: this.sources.view() };
    void this.panel.webview.postMessage(update);
  }

  private closed(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.panel = undefined;
    this.sources.model.sampling = false;
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...SCRIPT));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Tether Diagnostics</title>
</head>
<body>
<main id="app" data-nonce="${nonce}"><p>Loading diagnostics…</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    this.closed();
  }
}
