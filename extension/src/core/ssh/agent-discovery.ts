/**
 * Finds a working SSH agent: ssh-agent (SSH_AUTH_SOCK), gpg-agent (its ssh socket, from gpgconf)
 * or PuTTY's pageant (its Unix socket, or its named pipe on Windows). Every candidate is probed
 * (connect + SSH_AGENTC_REQUEST_IDENTITIES within a timeout) before it is chosen.
 *
 * Order for `auto` (AUTO_ORDER): an explicit socket path always wins; then SSH_AUTH_SOCK, since
 * that is the agent the user's own OpenSSH uses; then gpg-agent; then pageant.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createError, ErrorCode } from '@tether/shared';
import { probeAgent, type AgentProbe } from './agent-client.js';

export type AgentKind = 'ssh-agent' | 'gpg-agent' | 'pageant';
export type AgentChoice = 'auto' | AgentKind;
export const AGENT_CHOICES: readonly AgentChoice[] = ['auto', 'ssh-agent', 'gpg-agent', 'pageant'];
export const AUTO_ORDER: readonly AgentKind[] = ['ssh-agent', 'gpg-agent', 'pageant'];
/** Default time a candidate has to answer the probe. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface AgentCandidate {
  kind: AgentKind;
  /** Unix socket path or Windows named pipe (`\\.\pipe\…`). */
  path: string;
  /** Where the path came from, for messages: 'SSH_AUTH_SOCK', 'gpgconf', '--agent-socket', … */
  source: string;
}

export interface FoundAgent extends AgentCandidate {
  keys: number;
}

/** What discovery reads from the machine; tests replace parts of it. */
export interface DiscoveryEnvironment {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  username: string;
  /** What `gpgconf --list-dirs agent-ssh-socket` prints, or undefined when it cannot run. */
  gpgSshSocket(): Promise<string | undefined>;
  /** Entries of a folder (name and modification time), [] when it does not exist. */
  listDir(dir: string): Promise<{ name: string; mtimeMs: number }[]>;
  probe(path: string, timeoutMs: number): Promise<AgentProbe>;
}

export interface DiscoverOptions {
  /** Default 'auto'. */
  agent?: AgentChoice;
  /** Explicit socket or pipe: it wins, and is the only candidate. */
  socketPath?: string;
  probeTimeoutMs?: number;
  environment?: Partial<DiscoveryEnvironment>;
  /**
   * How the user names the agent kind and the socket, for the advice when no agent is found:
   * the CLI's flags by default; VS Code passes its settings.
   */
  optionNames?: { agent: string; socket: string };
}

const CLI_OPTION_NAMES = { agent: '--agent', socket: '--agent-socket' };

function runGpgconf(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('gpgconf', ['--list-dirs', 'agent-ssh-socket'], { env, timeout: 5000 }, (err, stdout) => {
      const path = stdout?.toString().trim();
      resolve(err || !path ? undefined : path);
    });
  });
}

async function listDir(dir: string): Promise<{ name: string; mtimeMs: number }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  // Named pipes have no useful mtime; stat only what stat can answer.
  return Promise.all(names.map(async (name) => ({ name, mtimeMs: await stat(join(dir, name)).then((s) => s.mtimeMs, () => 0) })));
}

function defaultEnvironment(): DiscoveryEnvironment {
  return {
    env: process.env,
    platform: process.platform,
    username: safeUsername(),
    gpgSshSocket: () => runGpgconf(process.env),
    listDir,
    probe: probeAgent,
  };
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

/** Windows Pageant's pipe: `pageant.<user>.<64 hex>` (see pageantPipes). */
const PAGEANT_PIPE = /^pageant\.(.+)\.([0-9a-f]{64})$/;

/**
 * Pageant on Windows listens on `\\.\pipe\pageant.<user>.<hash>` (PuTTY's
 * windows/utils/agent_named_pipe_name.c), where <hash> is the hex SHA-256 of the string
 * "Pageant" after CryptProtectMemory(CRYPTPROTECTMEMORY_CROSS_PROCESS): a per-user secret of
 * Windows that Node cannot compute without native code. So the name is not derived but found:
 * the pipe namespace is listed and entries of that shape are taken, the current user's first
 * (PuTTY's user part is the UPN's name part or the logon name, so others are kept as a fallback).
 */
export function pageantPipes(entries: string[], username: string): string[] {
  const matches = entries.map((name) => ({ name, m: PAGEANT_PIPE.exec(name) })).filter((e) => e.m);
  const mine = (user: string): boolean => user.toLowerCase() === username.toLowerCase();
  matches.sort((a, b) => Number(mine(b.m![1])) - Number(mine(a.m![1])));
  return matches.map((e) => `\\\\.\\pipe\\${e.name}`);
}

/**
 * Unix PuTTY (0.78, measured on Debian 12) creates `/tmp/pageant.<user>/pageant.<pid>` whatever
 * XDG_RUNTIME_DIR or TMPDIR say; `--symlink PATH` adds a link to it, and `eval $(pageant -T)` sets
 * SSH_AUTH_SOCK to it. The newest socket comes first.
 */
async function pageantUnixSockets(environment: DiscoveryEnvironment): Promise<string[]> {
  // PuTTY writes '/tmp' literally: TMPDIR does not move it (measured).
  const dir = `/tmp/pageant.${environment.username}`;
  const entries = await environment.listDir(dir);
  return entries
    .filter((e) => /^pageant\.\d+$/.test(e.name))
    .sort((a, b) => b.mtimeMs - a.mtimeMs)
    .map((e) => join(dir, e.name));
}

/** The candidates of one kind of agent, in the order they are tried (not probed yet). */
export async function agentCandidates(kind: AgentKind, environment: DiscoveryEnvironment): Promise<AgentCandidate[]> {
  switch (kind) {
    case 'ssh-agent': {
      const out: AgentCandidate[] = [];
      const sock = environment.env.SSH_AUTH_SOCK;
      if (sock) out.push({ kind, path: sock, source: 'SSH_AUTH_SOCK' });
      // Windows' own OpenSSH agent service.
      if (environment.platform === 'win32') out.push({ kind, path: '\\\\.\\pipe\\openssh-ssh-agent', source: 'OpenSSH for Windows' });
      return out;
    }
    case 'gpg-agent': {
      const path = await environment.gpgSshSocket();
      return path ? [{ kind, path, source: 'gpgconf --list-dirs agent-ssh-socket' }] : [];
    }
    case 'pageant': {
      if (environment.platform === 'win32') {
        const pipes = pageantPipes((await environment.listDir('\\\\.\\pipe\\')).map((e) => e.name), environment.username);
        return pipes.map((path) => ({ kind, path, source: 'Pageant named pipe' }));
      }
      return (await pageantUnixSockets(environment)).map((path) => ({ kind, path, source: 'PuTTY pageant socket' }));
    }
  }
}

/**
 * Finds and probes an agent. Resolves with the first that answers; rejects with
 * TETHER_ERR_NOT_FOUND naming every candidate tried and why each failed.
 */
export async function discoverAgent(options: DiscoverOptions = {}): Promise<FoundAgent> {
  const environment: DiscoveryEnvironment = { ...defaultEnvironment(), ...options.environment };
  const choice = options.agent ?? 'auto';
  if (!AGENT_CHOICES.includes(choice)) {
    throw createError(ErrorCode.INVALID_ARGUMENT, `unknown agent ${JSON.stringify(choice)} (expected one of ${AGENT_CHOICES.join(', ')})`);
  }
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  let candidates: AgentCandidate[];
  if (options.socketPath) {
    candidates = [{ kind: choice === 'auto' ? 'ssh-agent' : choice, path: options.socketPath, source: '--agent-socket' }];
  } else {
    candidates = [];
    for (const kind of choice === 'auto' ? AUTO_ORDER : [choice]) candidates.push(...(await agentCandidates(kind, environment)));
  }
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const { keys } = await environment.probe(candidate.path, timeoutMs);
      return { ...candidate, keys };
    } catch (err) {
      // The message only: the caller prints one code, this error's, once. The path is named
      // once (the probe's messages name it already).
      const why = err instanceof Error ? err.message : String(err);
      const where = why.includes(candidate.path) ? '' : ` at ${candidate.path}`;
      failures.push(`${candidate.kind}${where} (${candidate.source}): ${why}`);
    }
  }
  throw createError(ErrorCode.NOT_FOUND, noAgentMessage(choice, failures, options.socketPath !== undefined, environment, options.optionNames ?? CLI_OPTION_NAMES));
}

/** Where each kind of agent is looked for, for the message when none is there. */
function lookedFor(kind: AgentKind, environment: DiscoveryEnvironment): string {
  switch (kind) {
    case 'ssh-agent':
      return environment.platform === 'win32' ? 'no SSH_AUTH_SOCK' : 'SSH_AUTH_SOCK is not set';
    case 'gpg-agent':
      return 'gpgconf names no gpg-agent ssh socket';
    case 'pageant':
      return environment.platform === 'win32' ? 'no pageant named pipe' : `no pageant socket in /tmp/pageant.${environment.username}`;
  }
}

/**
 * What was wrong and what to do: every candidate tried and why it failed, or where each kind
 * was looked for; with --agent KIND while SSH_AUTH_SOCK is set, a pointer to that agent.
 */
function noAgentMessage(
  choice: AgentChoice,
  failures: string[],
  explicitSocket: boolean,
  environment: DiscoveryEnvironment,
  names: { agent: string; socket: string },
): string {
  const kinds = choice === 'auto' ? AUTO_ORDER : [choice];
  const wanted = choice === 'auto' ? `any of ${AUTO_ORDER.join(', ')}` : choice;
  const found = failures.length > 0 ? `tried ${failures.join('; ')}` : `none found (${kinds.map((k) => lookedFor(k, environment)).join('; ')})`;
  let todo: string;
  if (explicitSocket) todo = `check the ${names.socket} path`;
  else if (choice !== 'auto' && choice !== 'ssh-agent' && environment.env.SSH_AUTH_SOCK) {
    todo = `SSH_AUTH_SOCK is set (${environment.env.SSH_AUTH_SOCK}): to use that agent, choose ssh-agent or auto with ${names.agent}`;
  } else if (choice === 'pageant') todo = 'start pageant with the keys to use';
  else if (choice === 'gpg-agent') todo = "enable gpg-agent's ssh support (enable-ssh-support in gpg-agent.conf)";
  else todo = `start an agent and add a key (eval $(ssh-agent); ssh-add), or name its socket with ${names.socket}`;
  return `no working SSH agent (${wanted}): ${found}; ${todo}`;
}

/** `ssh-agent at /tmp/x (SSH_AUTH_SOCK, 1 key)` */
export function describeAgent(agent: FoundAgent): string {
  return `${agent.kind} at ${agent.path} (${agent.source}, ${agent.keys} key${agent.keys === 1 ? '' : 's'})`;
}
