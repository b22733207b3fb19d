import * as vscode from 'vscode';
import { logLevelEnabled, type LogLevel } from '../core/index.js';

/**
 * The "Tether" LogOutputChannel, filtered by `tether.logLevel`. Tokens never reach it: callers
 * log relay URLs, tunnel names and error messages only.
 */
export class Logger implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Tether', { log: true });
  threshold: LogLevel = 'info';

  // tether.logLevel asks for debug or trace lines; VS Code's own level for the channel (info by
  // default, set with "Developer: Set Log Level…") would drop them: they are then written as info,
  // marked with their level, so the setting does what it says.
  trace(message: string): void {
    if (!logLevelEnabled('trace', this.threshold)) return;
    if (this.channel.logLevel <= vscode.LogLevel.Trace) this.channel.trace(message);
    else this.channel.info(`[trace] ${message}`);
  }
  debug(message: string): void {
    if (!logLevelEnabled('debug', this.threshold)) return;
    if (this.channel.logLevel <= vscode.LogLevel.Debug) this.channel.debug(message);
    else this.channel.info(`[debug] ${message}`);
  }
  info(message: string): void {
    if (logLevelEnabled('info', this.threshold)) this.channel.info(message);
  }
  warn(message: string): void {
    if (logLevelEnabled('warn', this.threshold)) this.channel.warn(message);
  }
  error(message: string): void {
    if (logLevelEnabled('error', this.threshold)) this.channel.error(message);
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
