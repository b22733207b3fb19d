import { MIN_REPLAY_BUFFER_BYTES, ResumeDefaults, type ResumableOptions } from '@tether/shared';
import { parseEndpoint, type RelayEndpoint } from './endpoints.js';
import { PoolDefaults } from './pool-defaults.js';
import type { PoolTuning } from './pool-options.js';
import { parseRelayUrl } from './relay-url.js';
import { AGENT_CHOICES, type AgentChoice } from './ssh/agent-discovery.js';
import { readStartupShares, type StartupShare } from './startup-shares.js';

/** Log levels of the `tether.logLevel` setting, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys under the `tether.` section, as the extension manifest declares them. */
export const SettingKey = {
  relayUrl: 'relayUrl',
  relayUrls: 'relayUrls',
  relays: 'relays',
  failoverPoolSize: 'failover.poolSize',
  failoverDetectMs: 'failover.detectMs',
  failoverFailbackDelayMs: 'failover.failbackDelayMs',
  failoverQueueTimeoutMs: 'failover.queueTimeoutMs',
  failoverReplayBufferBytes: 'failover.replayBufferBytes',
  failoverResumeTimeoutMs: 'failover.resumeTimeoutMs',
  sshUser: 'ssh.user',
  sshTargetPort: 'ssh.targetPort',
  sshIdentityFile: 'ssh.identityFile',
  agentType: 'agent.type',
  agentForward: 'agent.forward',
  agentSocketPath: 'agent.socketPath',
  agentTimeout: 'agent.timeout',
  logLevel: 'logLevel',
  shareOnStartup: 'shareOnStartup',
} as const;

/** SSH agent use of the SSH terminal: which agent, whether to forward it, and its timeout. */
export interface AgentSettings {
  type: AgentChoice;
  /** Forward the agent to the remote side (RFC 4254 auth-agent-req); never unless true. */
  forward: boolean;
  /** Explicit agent socket or pipe, `~` expanded; it wins over discovery. */
  socketPath: string | undefined;
  /** Time one forwarded agent request may take, in ms. */
  timeoutMs: number;
}

/** Tuning of the relay pool (see RelayPoolOptions) and of resumable streams (see ResumableOptions). */
export interface FailoverSettings {
  /** Live relay sessions to keep; undefined: the pool's default for its kind. */
  poolSize: number | undefined;
  detectMs: number;
  failbackDelayMs: number;
  queueTimeoutMs: number;
  /** Bytes a stream keeps unacknowledged to replay after moving to another relay. */
  replayBufferBytes: number;
  /** How long a stream that lost its relay waits to be resumed before it fails. */
  resumeTimeoutMs: number;
}

/** The extension's settings, validated and with defaults filled in. */
export interface TetherSettings {
  /** Relays to offer at sign-in (http(s) form, no duplicates); the default relay first. */
  relayUrls: string[];
  /** Relay endpoints to fail over between (`tether.relays`); empty: the signed-in relay alone. */
  relays: RelayEndpoint[];
  failover: FailoverSettings;
  /** User name for SSH (terminal, copied commands, Remote-SSH): the setting, else the local user. */
  sshUser: string;
  /**
   * True when `tether.ssh.user` holds a valid name: it wins for every tunnel. False: the VS Code
   * layer asks per tunnel and remembers the answer (sshUser is then only the local user).
   */
  sshUserSet: boolean;
  /** Port of the local SSH server that "Share Local SSH Server" shares. */
  sshTargetPort: number;
  /** Private key for the SSH terminal, `~` expanded; undefined means the agent and default keys. */
  identityFile: string | undefined;
  agent: AgentSettings;
  logLevel: LogLevel;
  /** What to share whenever VS Code starts (or signs in) on this machine. */
  startupShares: StartupShare[];
}

/** A setting that was ignored, and why: shown to the user once, the default used instead. */
export interface SettingsProblem {
  key: string;
  message: string;
}

export interface SettingsEnvironment {
  home: string;
  /** The local login name: the default SSH user. */
  user: string;
}

const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._@-]{0,63}$/;

/** Expands a leading `~` or `~/` to `home`; other paths are returned unchanged. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return `${home}${path.slice(1)}`;
  return path;
}

/**
 * Reads the `tether.*` settings through `get` (the value of one key, undefined when unset) and
 * validates them. Bad values never throw: each becomes a problem and its default is used, so
 * one typo in settings.json cannot stop the extension from starting.
 */
/**
 * A relay URL in the settings must say its scheme: "garbage" or "relay.example" would quietly
 * become http://…, which is rarely what was meant. The problem in words, or undefined.
 */
function withoutScheme(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return undefined;
  return `relay URL ${JSON.stringify(trimmed)} has no scheme: write it as http://HOST:PORT or https://HOST (it is left out)`;
}

export function readSettings(get: (key: string) => unknown, env: SettingsEnvironment): { settings: TetherSettings; problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  const problem = (key: string, message: string): void => {
    problems.push({ key: `tether.${key}`, message });
  };

  const candidates: [key: string, value: unknown][] = [];
  const single = get(SettingKey.relayUrl);
  if (single !== undefined && single !== '') candidates.push([SettingKey.relayUrl, single]);
  const list = get(SettingKey.relayUrls);
  if (Array.isArray(list)) for (const value of list as unknown[]) candidates.push([SettingKey.relayUrls, value]);
  else if (list !== undefined) problem(SettingKey.relayUrls, 'expected a list of relay URLs');
  const relayUrls: string[] = [];
  for (const [key, value] of candidates) {
    if (typeof value !== 'string') {
      problem(key, `expected a relay URL, got ${typeof value}`);
      continue;
    }
    const unschemed = withoutScheme(value);
    if (unschemed) {
      problem(key, unschemed);
      continue;
    }
    try {
      const { http } = parseRelayUrl(value.trim());
      if (!relayUrls.includes(http)) relayUrls.push(http);
    } catch (err) {
      problem(key, (err as Error).message);
    }
  }

  const relays: RelayEndpoint[] = [];
  const specs = get(SettingKey.relays);
  if (Array.isArray(specs)) {
    for (const [index, spec] of (specs as unknown[]).entries()) {
      if (typeof spec !== 'string') {
        problem(SettingKey.relays, `expected URL[,priority=N][,weight=N], got ${typeof spec}`);
        continue;
      }
      const unschemed = withoutScheme(spec.split(',')[0]);
      if (unschemed) {
        problem(SettingKey.relays, unschemed);
        continue;
      }
      try {
        const endpoint = parseEndpoint(spec, index);
        if (relays.some((e) => e.url === endpoint.url)) problem(SettingKey.relays, `relay ${endpoint.url} is listed twice`);
        else relays.push(endpoint);
      } catch (err) {
        problem(SettingKey.relays, (err as Error).message);
      }
    }
  } else if (specs !== undefined) {
    problem(SettingKey.relays, 'expected a list of URL[,priority=N][,weight=N]');
  }

  const integer = (key: string, min: number, max: number, fallback: number): number => {
    const value = get(key);
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    if (value !== undefined) problem(key, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return fallback;
  };
  // 0 (the manifest's default) leaves the size to the pool (PoolDefaults.hostSize for sharing,
  // PoolDefaults.connectSize for connecting).
  const poolSize = integer(SettingKey.failoverPoolSize, 0, 16, 0);
  const failover: FailoverSettings = {
    poolSize: poolSize === 0 ? undefined : poolSize,
    detectMs: integer(SettingKey.failoverDetectMs, 300, 60_000, PoolDefaults.detectMs),
    failbackDelayMs: integer(SettingKey.failoverFailbackDelayMs, 0, 600_000, PoolDefaults.failbackDelayMs),
    queueTimeoutMs: integer(SettingKey.failoverQueueTimeoutMs, 100, 600_000, PoolDefaults.queueTimeoutMs),
    replayBufferBytes: integer(SettingKey.failoverReplayBufferBytes, MIN_REPLAY_BUFFER_BYTES, 256 * 1024 * 1024, ResumeDefaults.replayBufferBytes),
    resumeTimeoutMs: integer(SettingKey.failoverResumeTimeoutMs, 100, 600_000, ResumeDefaults.resumeTimeoutMs),
  };

  let sshUser = env.user;
  let sshUserSet = false;
  const user = get(SettingKey.sshUser);
  if (typeof user === 'string' && SSH_USER.test(user)) {
    sshUser = user;
    sshUserSet = true;
  }
  else if (user !== undefined && user !== '') problem(SettingKey.sshUser, `invalid SSH user name ${JSON.stringify(user)}`);

  let sshTargetPort = 22;
  const port = get(SettingKey.sshTargetPort);
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) sshTargetPort = port;
  else if (port !== undefined) problem(SettingKey.sshTargetPort, `expected a port from 1 to 65535, got ${JSON.stringify(port)}`);

  let identityFile: string | undefined;
  const identity = get(SettingKey.sshIdentityFile);
  if (typeof identity === 'string' && identity.trim() !== '') identityFile = expandHome(identity.trim(), env.home);
  else if (identity !== undefined && typeof identity !== 'string') problem(SettingKey.sshIdentityFile, 'expected a file path');

  const agent: AgentSettings = { type: 'auto', forward: false, socketPath: undefined, timeoutMs: 30_000 };
  const agentType = get(SettingKey.agentType);
  if (typeof agentType === 'string' && (AGENT_CHOICES as readonly string[]).includes(agentType)) agent.type = agentType as AgentChoice;
  else if (agentType !== undefined) problem(SettingKey.agentType, `expected one of ${AGENT_CHOICES.join(', ')}`);
  const forward = get(SettingKey.agentForward);
  if (typeof forward === 'boolean') agent.forward = forward;
  else if (forward !== undefined) problem(SettingKey.agentForward, 'expected true or false');
  const socketPath = get(SettingKey.agentSocketPath);
  if (typeof socketPath === 'string' && socketPath.trim() !== '') agent.socketPath = expandHome(socketPath.trim(), env.home);
  else if (socketPath !== undefined && typeof socketPath !== 'string') problem(SettingKey.agentSocketPath, 'expected a socket path');
  const timeout = get(SettingKey.agentTimeout);
  if (typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 100 && timeout <= 600_000) agent.timeoutMs = timeout;
  else if (timeout !== undefined) problem(SettingKey.agentTimeout, `expected milliseconds from 100 to 600000, got ${JSON.stringify(timeout)}`);

  let logLevel: LogLevel = 'info';
  const level = get(SettingKey.logLevel);
  if (typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level)) logLevel = level as LogLevel;
  else if (level !== undefined) problem(SettingKey.logLevel, `expected one of ${LOG_LEVELS.join(', ')}`);

  const startup = readStartupShares(get(SettingKey.shareOnStartup), sshTargetPort);
  for (const message of startup.problems) problem(SettingKey.shareOnStartup, message);

  return { settings: { relayUrls, relays, failover, sshUser, sshUserSet, sshTargetPort, identityFile, agent, logLevel, startupShares: startup.shares }, problems };
}

/** What a HostAgent or Connector of the extension is given: see `relayClientOptions`. */
export interface RelayClientOptions {
  endpoints: RelayEndpoint[];
  pool: PoolTuning;
  resumable: ResumableOptions;
}

/**
 * The relays, pool tuning and stream options for a client signed in to `signedIn` (http form).
 * With `tether.relays` empty that is the signed-in relay alone (still as an endpoint list, so
 * one relay and several take the same path). Otherwise it is the list, and the signed-in relay
 * is added after it (one priority below the least preferred) when the list leaves it out: the
 * token is known to work there, and a host registered there stays reachable for the people who
 * connect through it. Its order is the user's to choose, so it is never put first.
 */
export function relayClientOptions(settings: TetherSettings, signedIn: string): RelayClientOptions {
  const endpoints = settings.relays.map((e) => ({ ...e }));
  if (!endpoints.some((e) => e.url === signedIn)) {
    const last = endpoints.reduce((max, e) => Math.max(max, e.priority), -1);
    endpoints.push({ url: signedIn, priority: last + 1, weight: 1 });
  }
  const { poolSize, detectMs, failbackDelayMs, queueTimeoutMs, replayBufferBytes, resumeTimeoutMs } = settings.failover;
  return {
    endpoints,
    pool: {
      ...(poolSize === undefined ? {} : { size: poolSize }),
      detectMs,
      failbackDelayMs,
      queueTimeoutMs,
      // An editor waits for its relay at most 10 s between attempts (the pool's own cap,
      // PoolDefaults.backoffMaxMs, is 30 s).
      backoff: { maxMs: 10_000 },
    },
    resumable: { replayBufferBytes, resumeTimeoutMs },
  };
}

/** True when a message at `level` passes the `threshold` of the logLevel setting. */
export function logLevelEnabled(level: Exclude<LogLevel, 'off'>, threshold: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}
