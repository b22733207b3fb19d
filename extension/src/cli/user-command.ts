import { RelayApi } from '../core/index.js';
import { info, UsageError } from './output.js';
import { clientOptions, parse, relayAndToken, requirePositional } from './options.js';

/** `tether user create|list|token|delete` (admin token). */
export async function userCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, clientOptions, 2);
  const action = requirePositional(positionals, 0, "user action ('create', 'list', 'token' or 'delete')");
  const { relay, token } = relayAndToken(values);
  const api = new RelayApi(relay, token);
  switch (action) {
    case 'create': {
      const user = await api.createUser(requirePositional(positionals, 1, 'user name'));
      info(`Created user ${user.name}. Its token (shown once):`);
      process.stdout.write(`${user.token}\n`);
      return;
    }
    case 'token': {
      const user = await api.rotateUserToken(requirePositional(positionals, 1, 'user name'));
      info(`New token for ${user.name} (the old one no longer works):`);
      process.stdout.write(`${user.token}\n`);
      return;
    }
    case 'list': {
      for (const user of await api.users()) process.stdout.write(`${user.name}\t${user.createdAt}\n`);
      return;
    }
    case 'delete': {
      const name = requirePositional(positionals, 1, 'user name');
      await api.deleteUser(name);
      info(`Deleted user ${name}`);
      return;
    }
    default:
      throw new UsageError(`unknown user action ${JSON.stringify(action)}`);
  }
}
