import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import { Client, utils, type AnyAuthMethod, type ClientChannel, type NextAuthHandler, type ParsedKey, type PseudoTtyOptions, type ShellOptions } from 'ssh2';
import { createError, ErrorCode, isTetherError, type TetherError } from '@tether/shared';
import { addKnownHost, checkHostKey, fingerprint, keyTypeOf, knownKeyTypes, readKnownHosts, type KnownHostEntry } from './known-hosts.js';
import { probeAgent } from './agent-client.js';
import { DEFAULT_AGENT_TIMEOUT_MS, TimedAgent } from './agent-forwarding.js';
import { discardAudit, recordAudit, type AuditSink } from './audit-hook.js';

export interface HostKeyInfo {
  host: string;
  keyType: string;
  /** 'SHA256:…' as OpenSSH prints it. */
  fingerprint: string;
}

export type HostKeyDecision = 'accept-once' | 'accept-and-save' | 'reject';

export interface SshShellOptions {
  /** The byte stream to the SSH server, e.g. `new MuxDuplex(await connector.open(tunnel))`. */
  sock: Duplex;
  username: string;
  /** Name the host has in known_hosts and in messages (the tunnel name), written as given. */
  hostLabel: string;
  knownHostsFile: string;
  /** Private key file (OpenSSH or PEM); encrypted ones need `passphrase`. */
  identityFile?: string;
  passphrase?: string;
  /** SSH_AUTH_SOCK path; tried before the identity file when both are given. */
  agentSocket?: string;
  /** Called for a host key not in known_hosts; a changed or revoked key fails without asking. */
  confirmNewHostKey(info: HostKeyInfo): Promise<HostKeyDecision>;
  cols: number;
  rows: number;
  /** Default 'xterm-256color'. */
  term?: string;
  /** Runs this command instead of a login shell. */
  command?: string;
  /** Allocate a pty (default true; a terminal shows the output). False only makes sense with `command`. */
  pty?: boolean;
  /** Time for the handshake, authentication and opening the channel, not counting the host key prompt. Default 20000. */
  readyTimeoutMs?: number;
  /** After close(), how long to wait for the server to end the connection before dropping it. Default 3000. */
  closeTimeoutMs?: number;
  /**
   * Forward `agentSocket` to the far side (auth-agent-req@openssh.com on the session channel).
   * Off by default. A missing or dead agent (probed first), or a server that refuses, gives one
   * `onWarning` and the session opens without forwarding.
   */
  agentForward?: boolean;
  /** How long the agent has to answer one request (authentication and forwarded ones). Default 30000. */
  agentTimeoutMs?: number;
  /** Names the agent in audit records and warnings, e.g. 'gpg-agent' (default 'agent'). */
  agentName?: string;
  /** Where the session's audit records (agent forwarding start and stop) go. Default: nowhere. */
  auditSink?: AuditSink;
  /** Problems that do not stop the session (agent forwarding off, forwarded requests failing). */
  onWarning?: (warning: TetherError) => void;
  /** Emit the remote's stderr as 'stderr' instead of mixing it into 'data' (no pty: with one, the server merges them). */
  separateStderr?: boolean;
}

export interface SshShellEvents {
  /** Output: stdout and stderr, in arrival order (stdout only with `separateStderr`). */
  data: [Buffer];
  /** The remote's stderr, only with `separateStderr`. */
  stderr: [Buffer];
  /** Once, before 'close'. `code` is null when the server reported none (lost, or ended by close()). */
  exit: [code: number | null, signal: string | null];
  /** Once, when the connection is gone. */
  close: [];
  /** The connection broke while open (TETHER_ERR_CONNECTION_LOST); emitted only when someone listens. */
  error: [Error];
}

// ssh2's default order of host key algorithms (lib/protocol/constants.js), to put known types first.
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const algorithmsFor = (keyType: string): string[] => (keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType]);

const tilde = (path: string): string => {
  const home = homedir();
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
};

async function loadIdentity(file: string, passphrase: string | undefined): Promise<ParsedKey> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw createError(ErrorCode.IDENTITY_UNREADABLE, `cannot read identity file ${tilde(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // ssh2 may return an array (OpenSSH files can hold several keys) although its types do not say so.
  const parsed: ParsedKey | ParsedKey[] | Error = utils.parseKey(data, passphrase);
  if (parsed instanceof Error) {
    throw createError(ErrorCode.IDENTITY_UNREADABLE, `cannot use identity file ${tilde(file)}: ${parsed.message}`);
  }
  const key = ([] as ParsedKey[]).concat(parsed)[0];
  if (!key.isPrivateKey()) throw createError(ErrorCode.IDENTITY_UNREADABLE, `identity file ${tilde(file)} holds no private key`);
  return key;
}

/** A pausable deadline: the host key prompt waits for a person, so it does not count. */
class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private left: number;
  private started = 0;

  constructor(ms: number, private readonly onExpire: () => void) {
    this.left = ms;
    this.resume();
  }

  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.left -= Date.now() - this.started;
  }

  resume(): void {
    if (this.timer || this.left === Infinity) return;
    this.started = Date.now();
    this.timer = setTimeout(this.onExpire, Math.max(0, this.left));
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.left = Infinity;
  }
}

// Set by SshShell's static block: connect() builds shells while the constructor stays private.
let createShell: (client: Client, channel: ClientChannel, options: SshShellOptions, forwarding: boolean) => SshShell;

const agentLabel = (options: SshShellOptions): string => `${options.agentName ?? 'agent'} ${options.agentSocket ?? ''}`.trim();

/**
 * An interactive SSH session (or one command) over any Duplex, e.g. a Tether tunnel stream.
 * The server's key is checked against known_hosts; new keys go to `confirmNewHostKey`.
 */
export class SshShell extends EventEmitter<SshShellEvents> {
  private closing = false;
  private exited = false;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private closeTimer: NodeJS.Timeout | undefined;
  /** True while the local agent is forwarded to the far side. */
  readonly agentForwarding: boolean;

  private constructor(
    private readonly client: Client,
    private readonly channel: ClientChannel,
    private readonly sock: Duplex,
    private readonly label: string,
    private readonly closeTimeoutMs: number,
    options?: SshShellOptions,
    forwarding = false,
  ) {
    super();
    this.agentForwarding = forwarding;
    const stderrEvent = options?.separateStderr ? 'stderr' : 'data';
    // Output, exit and close can all arrive in the same chunk as the channel's confirmation,
    // before open()'s caller has had a chance to listen: they wait for the next turn of the
    // event loop (the caller's continuation runs before it), then go out in order.
    setImmediate(() => {
      this.started = true;
      for (const fire of this.early.splice(0)) fire();
    });
    channel.on('data', (chunk: Buffer) => this.later(() => this.emit('data', chunk)));
    channel.stderr.on('data', (chunk: Buffer) => this.later(() => this.emit(stderrEvent, chunk)));
    if (forwarding && options) {
      const record = (type: 'agent-forwarding-start' | 'agent-forwarding-stop'): void =>
        recordAudit(options.auditSink ?? discardAudit, { type, tunnel: label, user: options.username, agent: agentLabel(options), time: new Date().toISOString() });
      record('agent-forwarding-start');
      client.once('close', () => record('agent-forwarding-stop'));
    }
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exitCode = code;
      this.exitSignal = signal ?? null;
    });
    channel.once('close', () => {
      this.finishExit();
      this.endConnection();
    });
    let lastError: Error | undefined;
    client.on('error', (err: Error) => (lastError = err));
    client.once('close', () => {
      clearTimeout(this.closeTimer);
      const lost = !this.exited && !this.closing;
      this.later(() => {
        if (lost && this.listenerCount('error') > 0) {
          // The stream's own ending (resume gave up, the host went away) keeps its code, so the
          // terminal can say it in words; anything else is the SSH connection lost.
          const why = lastError ? `: ${lastError.message}` : '';
          this.emit('error', isTetherError(lastError) ? lastError : createError(ErrorCode.CONNECTION_LOST, `SSH connection to ${label} lost${why}`));
        }
        this.finishExit();
        this.emit('close');
      });
    });
  }

  private started = false;
  private readonly early: (() => void)[] = [];

  /** Runs `fire` now, or once the caller of open() could attach its listeners. */
  private later(fire: () => void): void {
    if (this.started) fire();
    else this.early.push(fire);
  }

  /** Connects, authenticates and opens the shell (or exec) channel; rejects with a coded TetherError. */
  static async open(options: SshShellOptions): Promise<SshShell> {
    const { sock, username, hostLabel: label, knownHostsFile } = options;
    const fail = (code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): TetherError => createError(code, message);
    // Watch the stream from the start: it may fail or close while the files are read, before
    // ssh2 listens (an unheard 'error' would crash the process, an unheard 'close' hang us).
    const early = { closed: false, error: undefined as Error | undefined };
    const onEarlyError = (err: Error): void => void (early.error ??= err);
    const onEarlyClose = (): void => void (early.closed = true);
    sock.on('error', onEarlyError);
    sock.once('close', onEarlyClose);
    try {
      const methods: { label: string; method: AnyAuthMethod }[] = [];
      const agentTimeoutMs = options.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS;
      const warn = (err: TetherError): void => options.onWarning?.(err);
      // One agent object for authentication and forwarding: every request it makes has a timeout.
      // Failures during authentication show in the auth error; once forwarding, the first failed
      // forwarded request gives one warning (the far side's client reports each of its own).
      const forwarded = { live: false, warned: false };
      const agent = options.agentSocket
        ? new TimedAgent({
            path: options.agentSocket,
            timeoutMs: agentTimeoutMs,
            onRequestFailed: (err) => {
              if (!forwarded.live || forwarded.warned) return;
              forwarded.warned = true;
              warn(createError(err.code, `forwarded agent requests fail: ${err.message}`));
            },
          })
        : undefined;
      if (agent) methods.push({ label: 'agent', method: { type: 'agent', username, agent } });
      let forward: TimedAgent | undefined;
      if (options.agentForward) {
        forward = await agentToForward(options, agent, Math.min(agentTimeoutMs, 5000), warn);
      }
      if (options.identityFile) {
        const key = await loadIdentity(options.identityFile, options.passphrase);
        methods.push({ label: `key file ${tilde(options.identityFile)}`, method: { type: 'publickey', username, key } });
      }
      if (methods.length === 0) {
        throw fail(ErrorCode.SSH_AUTH_FAILED, `no way to authenticate ${username} on ${label}: no SSH agent and no identity file`);
      }
      let known: KnownHostEntry[];
      try {
        known = await readKnownHosts(knownHostsFile);
      } catch (err) {
        throw fail(ErrorCode.INVALID_CONFIG, `cannot read ${tilde(knownHostsFile)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      if (early.closed || sock.destroyed) {
        const why = early.error ? `: ${early.error.message}` : '';
        throw isTetherError(early.error) ? early.error : fail(ErrorCode.SSH_CONNECT_FAILED, `SSH connection to ${label} closed before the handshake${why}`);
      }
      const shell = await new Promise<SshShell>((resolve, reject) => connect(options, methods, known, forward, resolve, reject));
      forwarded.live = shell.agentForwarding;
      return shell;
    } catch (err) {
      sock.destroy();
      throw err;
    } finally {
      sock.off('error', onEarlyError);
      sock.off('close', onEarlyClose);
    }
  }

  /** Sends input to the remote side. */
  write(data: string | Buffer): void {
    if (this.channel.writable) this.channel.write(data);
  }

  /** Sends EOF on the remote's stdin (the session stays open for output). */
  endInput(): void {
    if (this.channel.writable) this.channel.end();
  }

  /** Tells the remote pty the new size (ignored without a pty). */
  resize(cols: number, rows: number): void {
    this.channel.setWindow(rows, cols, 0, 0);
  }

  /** Ends the channel and the connection; 'exit' and 'close' follow. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.channel.close();
    this.endConnection();
  }

  private endConnection(): void {
    if (this.closeTimer) return;
    this.client.end();
    // A server that never answers our disconnect must not keep the tunnel stream open.
    this.closeTimer = setTimeout(() => this.sock.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private finishExit(): void {
    if (this.exited) return;
    this.exited = true;
    this.later(() => this.emit('exit', this.exitCode, this.exitSignal));
  }

  static {
    createShell = (client, channel, options, forwarding) =>
      new SshShell(client, channel, options.sock, options.hostLabel, options.closeTimeoutMs ?? 3000, options, forwarding);
  }
}


function connect(
  options: SshShellOptions,
  methods: { label: string; method: AnyAuthMethod }[],
  known: KnownHostEntry[],
  forward: TimedAgent | undefined,
  resolve: (shell: SshShell) => void,
  reject: (err: TetherError) => void,
): void {
  const { sock, username, hostLabel: label, knownHostsFile } = options;
  const client = new Client();
  let settled = false;
  let failure: TetherError | undefined;
  const settle = (err: TetherError): void => {
    failure ??= err;
    if (settled) return;
    settled = true;
    deadline.clear();
    reject(failure);
    client.end();
    sock.destroy();
  };
  const deadline = new Deadline(options.readyTimeoutMs ?? 20_000, () => {
    settle(createError(ErrorCode.SSH_CONNECT_FAILED, `no SSH session with ${label} within ${options.readyTimeoutMs ?? 20_000} ms`));
  });

  let acceptedKey: Buffer | undefined;
  const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
    // Re-keying presents the key again: it must be the one accepted at the start.
    if (acceptedKey) return verify(acceptedKey.equals(key));
    const info: HostKeyInfo = { host: label, keyType: keyTypeOf(key), fingerprint: fingerprint(key) };
    const accept = (): void => {
      if (settled) return;
      acceptedKey = key;
      verify(true);
    };
    const deny = (err: TetherError): void => {
      failure ??= err;
      if (!settled) verify(false);
    };
    const check = checkHostKey(known, label, key);
    const where = (line: number): string => `${tilde(knownHostsFile)}:${line}`;
    switch (check.status) {
      case 'known':
        return accept();
      case 'changed':
        return deny(
          createError(
            ErrorCode.HOST_KEY_CHANGED,
            `host key of ${label} has CHANGED (now ${info.keyType} ${info.fingerprint}; expected the key at ${where(check.line)}): ` +
              'someone may be intercepting the connection; if the host was reinstalled, remove that line',
          ),
        );
      case 'revoked':
        return deny(createError(ErrorCode.HOST_KEY_CHANGED, `host key of ${label} (${info.fingerprint}) is revoked at ${where(check.line)}`));
      case 'unknown':
        break;
    }
    deadline.pause();
    const decided = async (decision: HostKeyDecision): Promise<void> => {
      if (decision === 'reject') return deny(createError(ErrorCode.HOST_KEY_UNKNOWN, `host key of ${label} (${info.fingerprint}) was not accepted`));
      if (decision === 'accept-and-save') {
        try {
          await addKnownHost(knownHostsFile, label, key);
        } catch (err) {
          const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          return deny(isTetherError(err) ? err : createError(ErrorCode.INVALID_CONFIG, `cannot save the host key of ${label} to ${tilde(knownHostsFile)}: ${why}`));
        }
      }
      deadline.resume();
      accept();
    };
    options.confirmNewHostKey(info).then(decided).catch((err: unknown) => {
      const cause = err instanceof Error ? err.message : String(err);
      deny(isTetherError(err) ? err : createError(ErrorCode.HOST_KEY_UNKNOWN, `host key of ${label} (${info.fingerprint}) was not accepted: ${cause}`));
    });
  };

  const tried: string[] = [];
  let exhausted = false;
  const authHandler = (_left: unknown, _partial: unknown, next: NextAuthHandler): void => {
    const entry = methods.shift();
    if (!entry) {
      exhausted = true;
      // ssh2 takes false for "nothing left" although its types do not say so.
      return next(false as unknown as AnyAuthMethod);
    }
    tried.push(entry.label);
    next(entry.method);
  };
  const note = (err: Error): void => {
    if (tried.length > 0) tried[tried.length - 1] += ` (${err.message})`;
  };

  client.on('error', (err: Error & { level?: string }) => {
    if (settled) return;
    if (err.level === 'agent') return note(err);
    if (err.level === 'client-authentication' && !exhausted) return note(err);
    if (failure) return settle(failure);
    if (err.level === 'client-authentication') {
      return settle(createError(ErrorCode.SSH_AUTH_FAILED, `all authentication methods failed for ${username} (tried: ${tried.join(', ')})`));
    }
    if (isTetherError(err)) return settle(err);
    settle(createError(ErrorCode.SSH_CONNECT_FAILED, `SSH connection to ${label} failed: ${err.message}`));
  });
  client.once('close', () => {
    settle(failure ?? createError(ErrorCode.SSH_CONNECT_FAILED, `SSH connection to ${label} closed before the session opened`));
  });
  // A server that drops the connection during the handshake (sshd's MaxStartups or
  // LoginGraceTime, say) only half-closes a tunnel stream; ssh2 would then wait for the
  // deadline. The far end is gone: fail now.
  sock.once('end', () => {
    settle(failure ?? createError(ErrorCode.SSH_CONNECT_FAILED, `${label} closed the connection before the SSH session opened`));
  });
  client.once('ready', () => {
    const pty: PseudoTtyOptions = { term: options.term ?? 'xterm-256color', cols: options.cols, rows: options.rows };
    const open = (agentForward: boolean): void => {
      const opened = (err: Error | undefined, channel: ClientChannel): void => {
        if (settled) {
          channel?.close();
          return;
        }
        if (err && agentForward) {
          // ssh2 closes the channel when the server refuses auth-agent-req (OpenSSH's client
          // would carry on): open it again without forwarding, as OpenSSH's session would be.
          options.onWarning?.(createError(ErrorCode.FORBIDDEN, `agent forwarding is off: ${label} refused it (${err.message})`));
          return open(false);
        }
        if (err) return settle(createError(ErrorCode.SSH_CONNECT_FAILED, `cannot open ${options.command ? 'a command' : 'a shell'} on ${label}: ${err.message}`));
        settled = true;
        deadline.clear();
        resolve(createShell(client, channel, options, agentForward));
      };
      // ssh2 reads `agentForward` from these options although its types omit it for shell().
      const extra = agentForward ? ({ agentForward: true } as ShellOptions) : undefined;
      if (options.command !== undefined) client.exec(options.command, { pty: options.pty === false ? false : pty, ...extra }, opened);
      else if (extra) client.shell(options.pty === false ? false : pty, extra, opened);
      else client.shell(options.pty === false ? false : pty, opened);
    };
    open(forward !== undefined);
  });

  const preferred = knownKeyTypes(known, label).flatMap(algorithmsFor);
  const serverHostKey = [...new Set([...preferred, ...HOST_KEY_ALGORITHMS])];
  try {
    client.connect({
      sock,
      username,
      hostVerifier,
      authHandler,
      readyTimeout: 0, // our Deadline instead: it stops while a person reads the host key prompt
      // Only when forwarding: ssh2 then answers auth-agent@openssh.com channel opens through it.
      agent: forward,
      algorithms: preferred.length > 0 ? { serverHostKey: serverHostKey as never } : undefined,
    });
  } catch (err) {
    settle(createError(ErrorCode.SSH_CONNECT_FAILED, `SSH connection to ${label} failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}

/**
 * The agent to forward, once it answered a probe; otherwise one warning and undefined (the
 * session opens without forwarding).
 */
async function agentToForward(
  options: SshShellOptions,
  agent: TimedAgent | undefined,
  probeTimeoutMs: number,
  warn: (err: TetherError) => void,
): Promise<TimedAgent | undefined> {
  if (!agent || !options.agentSocket) {
    warn(createError(ErrorCode.NOT_FOUND, 'agent forwarding is off: no SSH agent to forward'));
    return undefined;
  }
  try {
    await probeAgent(options.agentSocket, probeTimeoutMs);
    return agent;
  } catch (err) {
    const code = isTetherError(err) ? err.code : ErrorCode.NOT_FOUND;
    warn(createError(code, `agent forwarding is off: ${agentLabel(options)} does not answer (${(err as Error).message})`));
    return undefined;
  }
}
