#!/usr/bin/env node
import { connectCommand, proxyCommand, shareCommand, tunnelCommand, tunnelsCommand } from './client-commands.js';
import { EXIT_FAILURE, EXIT_USAGE, formatError, UsageError } from './output.js';
import { sshCommand } from './ssh-command.js';
import { statusCommand } from './status-command.js';
import { USAGE } from './usage.js';
import { userCommand } from './user-command.js';

/** A command resolves when done; a number is its exit code (`tether ssh` returns the remote's). */
const commands: Record<string, (args: string[]) => Promise<void | number>> = {
  // Loaded on demand: the relay pulls in fastify and SQLite, which every `tether proxy` run
  // (started by ssh for each connection) would otherwise pay for at startup.
  relay: async (args) => (await import('./relay-command.js')).relayCommand(args),
  user: userCommand,
  share: shareCommand,
  connect: connectCommand,
  proxy: proxyCommand,
  tunnels: tunnelsCommand,
  tunnel: tunnelCommand,
  ssh: sshCommand,
  status: statusCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return (await command(rest)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exit(err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE);
  },
);
