import * as vscode from 'vscode';
import { logLevelEnabled, type LogLevel } from '../core/index.js';

/**
 * The "Tether" LogOutputChannel, filtered by `tether.logLevel`. Tokens never reach it: callers
 * log relay URLs, tunnel names and error messages only.
 */
export class Logger implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Tether', { log: true });
  threshold: LogLevel = 'info';

  trace(message: string): void {
    if (logLevelEnabled('trace', this.threshold)) this.channel.trace(message);
  }
  debug(message: string): void {
    if (logLevelEnabled('debug', this.threshold)) this.channel.debug(message);
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
