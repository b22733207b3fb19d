import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { ErrorCode, isRefusal, isTetherError } from '@tether/shared';
import { describeStreamEnd, SshShell, VSCODE_HINTS, type SshShellOptions } from '../core/index.js';

export interface SshPtyOptions {
  tunnel: string;
  /** Opens the byte stream to the tunnel's SSH server. */
  open(): Promise<Duplex>;
  shell: Omit<SshShellOptions, 'sock' | 'cols' | 'rows'>;
  /** Told about a failure to connect (the terminal shows it too). */
  onFailure(err: unknown): void;
  /**
   * Asked when the key needs a passphrase (with the error that said so): the terminal waits,
   * then tries again with it; undefined (dismissed) fails as before.
   */
  askPassphrase?(err: unknown): Promise<string | undefined>;
  /** Told when an open session ends without an exit status (its connection was lost). */
  onLost?(reason: string): void;
  /** Told when a session opens (its shell) and when it ends (undefined): for the diagnostics panel. */
  onSession?(shell: SshShell | undefined): void;
}

/** The key needs a passphrase that was not given (or was wrong). */
export const needsPassphrase = (err: unknown): boolean => isTetherError(err) && /passphrase|encrypted/i.test(err.message);

/** Codes of a stream that ended under the session, which describeStreamEnd words. */
const STREAM_ENDS = new Set<string>([ErrorCode.RESUME_TIMEOUT, ErrorCode.RESUME_UNKNOWN, ErrorCode.RESUME_SECRET, ErrorCode.RESUME_OFFSET, ErrorCode.TUNNEL_OFFLINE, ErrorCode.TUNNEL_FORBIDDEN]);

const red = (text: string): string => `\x1b[31m${text}\x1b[0m`;
const yellow = (text: string): string => `\x1b[33m${text}\x1b[0m`;
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
  /** The session ended without an exit status: Enter reconnects, any other key closes. */
  private lost = false;
  private exitCode: number | undefined;
  private lastError: Error | undefined;
  private passphrase: string | undefined;
  private passphraseAsked = false;
  /** The terminal had a session that was lost: a failed attempt to reconnect leaves it retryable. */
  private hadSession = false;

  constructor(private readonly options: SshPtyOptions) {}

  open(initial: vscode.TerminalDimensions | undefined): void {
    if (initial) this.dimensions = initial;
    this.writeEmitter.fire(`Connecting to ${this.options.shell.username}@${this.options.tunnel} through Tether…\r\n`);
    void this.start();
  }

  private async start(): Promise<void> {
    let shell: SshShell;
    this.exitCode = undefined;
    this.lastError = undefined;
    try {
      const sock = await this.options.open();
      const passphrase = this.passphrase ?? this.options.shell.passphrase;
      shell = await SshShell.open({ ...this.options.shell, passphrase, sock, cols: this.dimensions.columns, rows: this.dimensions.rows });
    } catch (err) {
      if (this.closedByUser) return;
      if (needsPassphrase(err) && !this.passphraseAsked && this.options.askPassphrase) {
        // Asked here, once, and tried again in this same terminal.
        this.passphraseAsked = true;
        this.writeEmitter.fire('The key is protected by a passphrase: type it in the box at the top of the window.\r\n');
        const passphrase = await this.options.askPassphrase(err);
        if (passphrase !== undefined && !this.closedByUser) {
          this.passphrase = passphrase;
          this.writeEmitter.fire(`Connecting to ${this.options.shell.username}@${this.options.tunnel} through Tether…\r\n`);
          return this.start();
        }
      }
      if (this.hadSession) {
        // A reconnect that failed (the relay is still down, say): Enter tries again.
        this.lost = true;
        this.writeEmitter.fire(`${red(crlf((err as Error).message))}\r\n${yellow('Press Enter to try again, or any other key to close this terminal.')}\r\n`);
        this.options.onLost?.((err as Error).message);
        return;
      }
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
    this.hadSession = true;
    this.options.onSession?.(shell);
    shell.on('data', (chunk) => this.writeEmitter.fire(this.decoder.write(chunk)));
    shell.on('error', (err) => {
      this.lastError = err;
    });
    shell.on('exit', (code, signal) => {
      // A shell killed by a signal reports no code; use the shell convention 128 + n for "failed".
      this.exitCode = code ?? (signal ? 129 : undefined);
    });
    shell.on('close', () => {
      const rest = this.decoder.end();
      if (rest) this.writeEmitter.fire(rest);
      this.shell = undefined;
      this.options.onSession?.(undefined);
      if (this.closedByUser) return;
      // A shell that exited closes its terminal, as a local one does.
      if (this.exitCode !== undefined) {
        this.closeEmitter.fire(this.exitCode);
        return;
      }
      // The connection went: keep the terminal and its scrollback, say why, offer to reconnect.
      const reason = this.lostReason();
      // Refused for good (access removed or blocked): reconnecting cannot help, so it is not offered.
      const refused = this.lastError !== undefined && isTetherError(this.lastError) && isRefusal(this.lastError);
      if (refused) this.failed = true;
      else this.lost = true;
      const next = refused ? 'Press any key to close this terminal.' : 'Press Enter to reconnect, or any other key to close this terminal.';
      this.writeEmitter.fire(`\r\n${yellow(crlf(`[Tether] The SSH session to ${this.options.tunnel} ended: ${reason}`))}\r\n${yellow(next)}\r\n`);
      this.options.onLost?.(reason);
    });
    // The panel may have been resized while connecting.
    shell.resize(this.dimensions.columns, this.dimensions.rows);
  }

  handleInput(data: string): void {
    if (this.failed) {
      this.closeEmitter.fire(1);
      return;
    }
    if (this.lost) {
      this.lost = false;
      if (!data.includes('\r')) {
        this.closeEmitter.fire(1);
        return;
      }
      this.writeEmitter.fire(`\r\nReconnecting to ${this.options.shell.username}@${this.options.tunnel} through Tether…\r\n`);
      void this.start();
      return;
    }
    this.shell?.write(data);
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    this.dimensions = dimensions;
    this.shell?.resize(dimensions.columns, dimensions.rows);
  }

  /** Why the session ended without an exit status, in words. */
  private lostReason(): string {
    const err = this.lastError;
    // The stream's own ending (resume gave up, host gone) in words; an SSH-level error as it is.
    if (err && isTetherError(err)) return `${STREAM_ENDS.has(err.code) ? describeStreamEnd(this.options.tunnel, err, VSCODE_HINTS) : err.message} [${err.code}]`;
    if (err) return err.message;
    return 'the connection closed without an exit status (the share was stopped, or the relay or the host went away)';
  }

  close(): void {
    this.closedByUser = true;
    this.shell?.close();
  }
}
