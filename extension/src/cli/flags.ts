import { Argument, Option, type Command } from 'commander';
import { ResumeDefaults } from '@tether/shared';
// The defaults' own modules, not core/index.js: help and completion must not load the client core.
import { PoolDefaults } from '../core/pool-defaults.js';

export const DEFAULT_RELAY = 'http://127.0.0.1:8080';

/** `tether relay --log-level` (pino's levels). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** `tether relay --log-format`: one readable line per entry, or pino's JSON lines. */
export const LOG_FORMATS = ['pretty', 'json'] as const;

/** What the help says about an option's value when it is not given. */
export interface Shown {
  default?: string | number;
  env?: string;
  choices?: readonly string[];
  /** The value is a file or folder (shells complete paths). */
  path?: boolean;
  /** The flag may be given more than once: its value is the list of values, in order. */
  repeatable?: boolean;
}

/** An option whose help line carries its default and environment variable (the code applies them). */
export class FlagOption extends Option {
  constructor(
    flags: string,
    /** The description without the default and variable (shell completion shows this). */
    readonly summary: string,
    readonly shown: Shown = {},
  ) {
    const description = summary;
    const extra = [
      shown.choices && `one of ${shown.choices.join(', ')}`,
      shown.default !== undefined && `default: ${shown.default}`,
      shown.env && `env: ${shown.env}`,
    ].filter(Boolean);
    super(flags, extra.length > 0 ? `${description} (${extra.join('; ')})` : description);
    if (shown.choices) this.choices(shown.choices);
    if (shown.repeatable) this.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  }
}

const pathArguments = new WeakSet<Argument>();

/** An argument that is a file or folder (shells complete paths), e.g. `audit verify <file>`. */
export function pathArgument(name: string, description: string): Argument {
  const argument = new Argument(name, description);
  pathArguments.add(argument);
  return argument;
}

export const isPathArgument = (argument: Argument | undefined): boolean => argument !== undefined && pathArguments.has(argument);

/** --relay (repeatable) and --token, as given. */
export interface ClientValues {
  relay?: string[];
  token?: string;
}

/** The relay pool's flags, as given (strings: options.ts checks them). */
export interface PoolValues {
  pool?: string;
  'detect-ms'?: string;
  'failback-ms'?: string;
  'queue-timeout-ms'?: string;
  'replay-buffer'?: string;
  'resume-timeout-ms'?: string;
  'no-resume'?: boolean;
}

export function addClientOptions(cmd: Command, tokenIs = 'your token'): Command {
  return cmd
    .optionsGroup('Relay options:')
    .addOption(new FlagOption(
      '--relay <url>',
      'relay to use, URL[,priority=N][,weight=N]; repeat it to fail over between relays that share one user store',
      { default: DEFAULT_RELAY, env: 'TETHER_RELAY (several separated by spaces)', repeatable: true },
    ))
    .addOption(new FlagOption('--token <token>', tokenIs, { env: 'TETHER_TOKEN' }));
}

/** The relay pool's flags (share, connect, proxy, ssh). */
export function addPoolOptions(cmd: Command): Command {
  return cmd
    .optionsGroup('Failover options:')
    .addOption(new FlagOption('--pool <n>', 'relay sessions kept open', {
      default: `${PoolDefaults.hostSize} sharing, ${PoolDefaults.connectSize} connecting, at most the relays given`,
    }))
    .addOption(new FlagOption('--detect-ms <ms>', 'silence after which a relay counts as dead', { default: PoolDefaults.detectMs }))
    .addOption(new FlagOption('--failback-ms <ms>', 'how long a recovered relay must stay up before new streams go back to it', { default: PoolDefaults.failbackDelayMs }))
    .addOption(new FlagOption('--queue-timeout-ms <ms>', 'how long a new connection waits for a relay', { default: PoolDefaults.queueTimeoutMs }))
    .addOption(new FlagOption('--replay-buffer <bytes>', 'unacknowledged bytes each stream keeps to resume through another relay', { default: ResumeDefaults.replayBufferBytes }))
    .addOption(new FlagOption('--resume-timeout-ms <ms>', 'how long a stream that lost its relay waits to resume through another', { default: ResumeDefaults.resumeTimeoutMs }))
    .addOption(new FlagOption('--no-resume', 'open plain streams, which end with their relay'));
}

/**
 * The options given to `cmd` and to the commands above it (`tether user --token T create NAME`),
 * keyed by flag name as the user spells them (`'detect-ms'`, `'no-resume'`); options not given
 * are left out. The nearest command wins.
 */
export function flagValues<T>(cmd: Command): T {
  const values: Record<string, unknown> = {};
  const chain: Command[] = [];
  for (let at: Command | null = cmd; at; at = at.parent) chain.unshift(at);
  for (const command of chain) {
    for (const option of command.options) {
      const value: unknown = command.getOptionValue(option.attributeName());
      if (value === undefined || option.long === undefined) continue;
      // A negatable flag (--no-resume) is stored as resume: false; its default is true.
      if (option.negate) {
        if (value === false) values[option.long.slice(2)] = true;
      } else {
        values[option.long.slice(2)] = value;
      }
    }
  }
  return values as T;
}

/** `--otlp URL`: send OpenTelemetry spans to this OTLP/HTTP collector (docs/tracing.md). */
export function otlpOption(): FlagOption {
  return new FlagOption('--otlp <url>', 'send OpenTelemetry traces to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (docs/tracing.md)', { default: 'off', env: 'OTEL_EXPORTER_OTLP_ENDPOINT' });
}
