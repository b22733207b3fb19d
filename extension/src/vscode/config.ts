import os from 'node:os';
import * as vscode from 'vscode';
import { readSettings, type TetherSettings } from '../core/index.js';
import type { Logger } from './logger.js';

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'root';
  }
}

/** The `tether.*` settings, re-read on change; bad values are reported once and defaulted. */
export class Config implements vscode.Disposable {
  settings: TetherSettings;
  private readonly changed = new vscode.EventEmitter<TetherSettings>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private lastProblems = '';

  constructor(private readonly logger: Logger) {
    this.settings = this.read();
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('tether')) return;
      const before = this.settings;
      this.settings = this.read();
      const changed = (Object.keys(this.settings) as (keyof TetherSettings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(this.settings[k]));
      if (changed.length > 0) this.logger.info(`settings changed: ${changed.join(', ')}`);
      this.changed.fire(this.settings);
    });
  }

  private read(): TetherSettings {
    const section = vscode.workspace.getConfiguration('tether');
    const { settings, problems } = readSettings((key) => section.get(key), { home: os.homedir(), user: localUser() });
    this.logger.threshold = settings.logLevel;
    const text = problems.map((p) => `${p.key}: ${p.message}`).join('; ');
    if (text && text !== this.lastProblems) {
      this.logger.warn(`settings: ${text}`);
      void vscode.window.showWarningMessage(`Tether is ignoring invalid settings (${text}).`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'tether.');
      });
    }
    this.lastProblems = text;
    return settings;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
