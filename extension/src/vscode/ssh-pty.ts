import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { SshShell, type SshShellOptions } from '../core/index.js';

export interface SshPtyOptions {
  tunnel: string;
  /** Opens the byte stream to the tunnel's SSH server. */
  open(): Promise<Duplex>;
  shell: Omit<SshShellOptions, 'sock' | 'cols' | 'rows'>;
  /** Told about a failure to connect (the terminal shows it too). */
  onFailure(err: unknown): void;
}

const red = (text: string): string => `\x1b[31m${text}\x1b[0m`;
const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');

/** An SSH session in a VS Code terminal: output, input, resize, the exit code and a clean close. */
export class SshPty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private readonly decoder = new StringDecoder('utf8');
  private shell: SshShell | undefined;
  private dimensions: vscode.TerminalDimensions = { columns: 80, rows: 24 };
  private closedByUser = false;
  private failed = false;
  private exitCode: number | undefined;

  constructor(private readonly options: SshPtyOptions) {}

  open(initial: vscode.TerminalDimensions | undefined): void {
    if (initial) this.dimensions = initial;
    this.writeEmitter.fire(`Connecting to ${this.options.shell.username}@${this.options.tunnel} through Tether…\r\n`);
    void this.start();
  }

  private async start(): Promise<void> {
    let shell: SshShell;
    try {
      const sock = await this.options.open();
      shell = await SshShell.open({ ...this.options.shell, sock, cols: this.dimensions.columns, rows: this.dimensions.rows });
    } catch (err) {
      if (this.closedByUser) return;
      this.failed = true;
      this.writeEmitter.fire(`${red(crlf((err as Error).message))}\r\n\r\nPress any key to close this terminal.\r\n`);
      this.options.onFailure(err);
      return;
    }
    if (this.closedByUser) {
      shell.close();
      return;
    }
    this.shell = shell;
    shell.on('data', (chunk) => this.writeEmitter.fire(this.decoder.write(chunk)));
    shell.on('error', (err) => this.writeEmitter.fire(`\r\n${red(err.message)}\r\n`));
    shell.on('exit', (code, signal) => {
      // A shell killed by a signal reports no code; use the shell convention 128 + n for "failed".
      this.exitCode = code ?? (signal ? 129 : undefined);
    });
    shell.on('close', () => {
      const rest = this.decoder.end();
      if (rest) this.writeEmitter.fire(rest);
      if (!this.closedByUser) this.closeEmitter.fire(this.exitCode);
    });
    // The panel may have been resized while connecting.
    shell.resize(this.dimensions.columns, this.dimensions.rows);
  }

  handleInput(data: string): void {
    if (this.failed) {
      this.closeEmitter.fire(1);
      return;
    }
    this.shell?.write(data);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.dimensions = dimensions;
    this.shell?.resize(dimensions.columns, dimensions.rows);
  }

  close(): void {
    this.closedByUser = true;
    this.shell?.close();
  }
}
