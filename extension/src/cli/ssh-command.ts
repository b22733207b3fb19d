import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { assertTunnelName, createError, ErrorCode, isTetherError, MuxDuplex } from '@tether/shared';
import { Connector, webSocketFactory } from '../core/index.js';
import { describeAgent, discoverAgent, type AgentChoice, type FoundAgent } from '../core/ssh/agent-discovery.js';
import { SshShell, type HostKeyInfo } from '../core/ssh/ssh-shell.js';
import { formatError, info, UsageError } from './output.js';
import type { ClientValues, PoolValues } from './flags.js';
import { poolOptions, relayEndpointsAndToken, resumableOptions } from './options.js';

/** The flags of `tether ssh`, as given. */
export interface SshValues extends ClientValues, PoolValues {
  login?: string;
  identity?: string;
  'forward-agent'?: boolean;
  agent?: string;
  'agent-socket'?: string;
  'agent-timeout'?: string;
  'known-hosts'?: string;
  'accept-new'?: boolean;
}

/** Default identities, as OpenSSH tries them (the agent comes first). */
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** The first default key file that exists and needs no passphrase (encrypted ones are left to the agent). */
function defaultIdentity(): string | undefined {
  for (const name of DEFAULT_IDENTITIES) {
    const file = join(homedir(), '.ssh', name);
    if (!existsSync(file)) continue;
    try {
      if (!(utils.parseKey(readFileSync(file)) instanceof Error)) return file;
    } catch {
      // Unreadable: try the next one.
    }
  }
  return undefined;
}

/** --agent and --agent-timeout, checked. */
function agentSettings(values: SshValues): { agent: AgentChoice; agentTimeoutMs: number | undefined } {
  // The parser has checked --agent against AGENT_CHOICES.
  const agent = (values.agent ?? 'auto') as AgentChoice;
  let agentTimeoutMs: number | undefined;
  if (values['agent-timeout'] !== undefined) {
    agentTimeoutMs = Number(values['agent-timeout']);
    if (!Number.isInteger(agentTimeoutMs) || agentTimeoutMs <= 0) throw new UsageError('--agent-timeout must be a positive number of milliseconds');
  }
  return { agent, agentTimeoutMs };
}

/**
 * `tether ssh NAME [-l USER] [-i KEY] [-A] [--agent KIND] [--agent-socket PATH] [--agent-timeout MS]
 * [--known-hosts FILE] [--accept-new] [-- COMMAND…]`: an SSH client over the tunnel. Resolves
 * with the remote exit code.
 */
export async function sshCommand(tunnel: string, remoteCommand: string[], values: SshValues): Promise<number> {
  const { agent: agentChoice, agentTimeoutMs } = agentSettings(values);
  const command = remoteCommand.length > 0 ? remoteCommand.join(' ') : undefined;
  assertTunnelName(tunnel);
  const { endpoints, token } = relayEndpointsAndToken(values);
  const username = values.login ?? process.env.USER ?? userInfo().username;
  const knownHostsFile = values['known-hosts'] ?? join(homedir(), '.ssh', 'known_hosts');
  const forwardAgent = values['forward-agent'] === true;
  const explicitAgent = values.agent !== undefined || values['agent-socket'] !== undefined;

  // The agent logs in first (as with OpenSSH) and is what -A forwards. Looked for quietly
  // unless forwarding or an agent option asks for it.
  let agent: FoundAgent | undefined;
  try {
    agent = await discoverAgent({ agent: agentChoice, socketPath: values['agent-socket'] });
    if (forwardAgent) info(`tether: forwarding ${describeAgent(agent)}`);
  } catch (err) {
    if (forwardAgent) info(`tether: agent forwarding is off: ${formatError(err).replace(/^tether: /, '')}`);
    else if (explicitAgent) info(`tether: not using an agent: ${formatError(err).replace(/^tether: /, '')}`);
  }
  const identityFile = values.identity ?? defaultIdentity();

  let unknownKey: HostKeyInfo | undefined;
  const connector = new Connector(webSocketFactory({ relay: endpoints[0].url, token }), {
    endpoints,
    pool: poolOptions(values),
    resumable: resumableOptions(values),
  });
  const interactive = command === undefined;
  const tty = interactive && process.stdin.isTTY === true;
  let shell: SshShell;
  try {
    const sock = new MuxDuplex(await connector.open(tunnel));
    shell = await SshShell.open({
      sock,
      username,
      hostLabel: tunnel,
      knownHostsFile,
      identityFile,
      agentSocket: agent?.path,
      agentName: agent?.kind,
      agentForward: forwardAgent && agent !== undefined,
      agentTimeoutMs,
      onWarning: (warning) => info(formatError(warning)),
      confirmNewHostKey: async (key) => {
        if (values['accept-new']) {
          info(`tether: recording the host key of ${tunnel} (${key.keyType} ${key.fingerprint}) in ${knownHostsFile}`);
          return 'accept-and-save';
        }
        unknownKey = key;
        return 'reject';
      },
      cols: process.stdout.columns || 80,
      rows: process.stdout.rows || 24,
      term: process.env.TERM,
      command,
      // Like OpenSSH: a pty only for an interactive terminal; without one stderr stays separate.
      pty: tty,
      separateStderr: !tty,
    });
  } catch (err) {
    connector.close();
    if (unknownKey && isTetherError(err) && err.code === ErrorCode.HOST_KEY_UNKNOWN) {
      throw createError(
        ErrorCode.HOST_KEY_UNKNOWN,
        `host key of ${tunnel} is not in ${knownHostsFile}: ${unknownKey.keyType} ${unknownKey.fingerprint}; if that is the right key, run again with --accept-new to record it`,
      );
    }
    throw err;
  }
  return runSession(shell, connector, tty);
}

/** Joins the session to this terminal (or stdin/stdout) until the remote side exits. */
function runSession(shell: SshShell, connector: Connector, tty: boolean): Promise<number> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const onInput = (chunk: Buffer): void => shell.write(chunk);
    const onEnd = (): void => shell.endInput();
    const onResize = (): void => shell.resize(process.stdout.columns || 80, process.stdout.rows || 24);
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.on('end', onEnd);
    if (tty) process.on('SIGWINCH', onResize);
    shell.on('data', (chunk) => process.stdout.write(chunk));
    shell.on('stderr', (chunk) => process.stderr.write(chunk));
    let lost: Error | undefined;
    shell.on('error', (err) => (lost = err));
    let code: number | null = null;
    shell.on('exit', (exitCode) => (code = exitCode));
    shell.once('close', () => {
      if (tty) stdin.setRawMode(false);
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      stdin.pause();
      process.off('SIGWINCH', onResize);
      connector.close();
      if (lost) info(formatError(lost));
      // As OpenSSH: the remote exit code, or 255 when the session ended without one.
      resolve(code ?? 255);
    });
  });
}
