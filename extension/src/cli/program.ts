import { Command, CommanderError } from 'commander';
import { addCommands, addCompletionCommand, commandPath, examples, type RunContext } from './commands.js';
import { EXIT_USAGE, UsageError } from './output.js';
import { version } from '../core/client-version.js';

/** Where help, completion scripts and the parser's own output go. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A reader that went away (`tether help | head`) is not an error; anything else is reported. */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') return;
  process.stderr.write(`tether: cannot write to stdout: ${err.message}\n`);
  process.exit(1);
}

const processIo: Io = {
  out: (text) => {
    if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
    process.stdout.write(text);
  },
  err: (text) => process.stderr.write(text),
};

/** "Did you mean …?" as commander words it, when it has a suggestion. */
function suggestion(message: string): string {
  const match = /\(Did you mean (.+)\?\)/.exec(message);
  return match ? `; did you mean ${match[1]}?` : '';
}

/**
 * Commander's errors in Tether's words, as a usage error pointing at `cmd`'s help (commander's
 * own text names an option by its flags and the argument by its placeholder).
 */
export function usageErrorFrom(err: CommanderError, cmd: Command): UsageError {
  const quoted = [...err.message.matchAll(/'([^']*)'/g)].map((m) => m[1]);
  const longFlag = (flags: string): string => /--[\w-]+/.exec(flags)?.[0] ?? flags;
  const where = commandPath(cmd);
  const message = (() => {
    switch (err.code) {
      case 'commander.unknownCommand':
        return `unknown command ${JSON.stringify(quoted[0])}${suggestion(err.message)}`;
      case 'commander.unknownOption':
        return `unknown option ${quoted[0]}${where ? ` for 'tether ${where}'` : ''}${suggestion(err.message)}`;
      case 'commander.missingArgument': {
        const argument = cmd.registeredArguments.find((a) => a.name() === quoted[0]);
        return `missing ${argument?.description || quoted[0]}`;
      }
      case 'commander.optionMissingArgument':
        return `${longFlag(quoted[0])} needs a value (${quoted[0]})`;
      case 'commander.invalidArgument': {
        const choices = /Allowed choices are (.+)\.$/.exec(err.message)?.[1];
        // "option '--agent <kind>' argument 'x' is invalid" or "command-argument value 'x' is invalid for argument 'shell'"
        const [subject, value] = err.message.includes('command-argument') ? [quoted[1], quoted[0]] : [longFlag(quoted[0]), quoted[1]];
        return choices ? `${subject} must be one of ${choices}, got ${JSON.stringify(value)}` : `${subject}: ${JSON.stringify(value)} is not valid`;
      }
      default:
        return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    }
  })();
  return new UsageError(message, where);
}

/** The widest a command's term may be in the help's list of commands. */
const TERM_WIDTH = 40;

/** Every command below `cmd`, `cmd` first. */
function commandTree(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(commandTree)];
}

/** The `tether` command tree; actions record their exit code in `ctx`. */
export function buildProgram(ctx: RunContext = { argv: [], code: 0 }, io: Io = processIo): Command {
  const program = new Command('tether')
    .description('Tether carries SSH, and any other TCP service, over WebSocket through a relay.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // Our own `help [command...]`, which reaches sub-actions (`tether help user create`).
    .helpCommand(false)
    // Options of tether itself come before the command: `tether share -V` is share's option.
    .enablePositionalOptions()
    // Extra arguments are refused by each action, naming the first one.
    .allowExcessArguments()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => undefined })
    .configureHelp({
      // Defaults, variables and choices are in each option's description (FlagOption).
      optionDescription: (option) => option.description,
      // `share <name>`, `user create|list|token|delete`: what to type, without [options].
      // `members <name>|remove|…`: a group that also runs on its own shows its argument first.
      subcommandTerm: (cmd) => {
        const usage = cmd.usage().replace(/^\[options\] ?/, '').replace(/\[command\] ?/, '');
        if (cmd.commands.length === 0) return `${cmd.name()} ${usage}`.trimEnd();
        // A long list (audit's seven actions) is cut so the descriptions keep their column.
        const term = `${cmd.name()} ${[...(cmd.registeredArguments.length > 0 ? [usage.trim()] : []), ...cmd.commands.map((c) => c.name())].join('|')}`;
        return term.length <= TERM_WIDTH ? term : `${term.slice(0, term.lastIndexOf('|', TERM_WIDTH - 2))}|…`;
      },
    });
  addCommands(program, ctx);

  program.commandsGroup('More:');
  addCompletionCommand(program, ctx, io.out);
  const help = program
    .command('help')
    .summary('show the help of a command')
    .description("Show the help of tether or of one of its commands: its options, defaults and examples (as COMMAND --help does).")
    .argument('[command...]', 'the command, e.g. share or user create')
    .action((names: string[]) => {
      let target = program;
      for (const name of names) {
        const next = target.commands.find((c) => c.name() === name);
        if (!next) throw new UsageError(`no command ${JSON.stringify(names.join(' '))}`, '');
        target = next;
      }
      target.outputHelp();
    });
  examples(help, [
    ['tether help share', 'the options of share, with their defaults'],
    ['tether help user create', 'the same as tether user create --help'],
  ]);
  program.addHelpText('after', `
Every client command takes --relay URL (repeatable: failover between relays that share one
user store) and --token TOKEN, defaulting to TETHER_RELAY and TETHER_TOKEN.
Tunnel and user names: 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter
or digit.

Examples:
  tether relay                                     # a relay on 127.0.0.1:8080
  tether user create alice                         # with the admin token: alice's token
  tether share laptop                              # as alice, on the machine to reach
  ssh -o ProxyCommand='tether proxy laptop' me@laptop

Run 'tether help COMMAND' (or 'tether COMMAND --help') for its options and examples.
`);

  for (const cmd of commandTree(program)) {
    cmd.exitOverride((err) => {
      // Help and --version end the run with exit code 0; everything else is a usage error.
      if (err.exitCode === 0) throw err;
      throw usageErrorFrom(err, cmd);
    });
  }
  return program;
}

/**
 * Runs `tether` with `argv` (the arguments after `tether`): resolves with the exit code; a
 * failure rejects (a UsageError for a command line that cannot run).
 */
export async function run(argv: readonly string[], io: Io = processIo): Promise<number> {
  const ctx: RunContext = { argv, code: 0 };
  const program = buildProgram(ctx, io);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    throw err;
  }
  return ctx.code;
}
