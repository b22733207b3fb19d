import { RelayApi } from '../core/index.js';
import type { ClientValues } from './flags.js';
import { info } from './output.js';
import { relayAndToken } from './options.js';

function api(values: ClientValues): RelayApi {
  const { relay, token } = relayAndToken(values);
  return new RelayApi(relay, token);
}

/** `tether user create NAME` (admin token): prints the new user's token on stdout. */
export async function userCreateCommand(name: string, values: ClientValues): Promise<void> {
  const user = await api(values).createUser(name);
  info(`Created user ${user.name}. Its token (shown once):`);
  process.stdout.write(`${user.token}\n`);
}

/** `tether user token NAME` (admin token): replaces the user's token and prints the new one. */
export async function userTokenCommand(name: string, values: ClientValues): Promise<void> {
  const user = await api(values).rotateUserToken(name);
  info(`New token for ${user.name} (the old one no longer works):`);
  process.stdout.write(`${user.token}\n`);
}

/** `tether user list` (admin token): NAME and creation time, tab-separated. */
export async function userListCommand(values: ClientValues): Promise<void> {
  for (const user of await api(values).users()) process.stdout.write(`${user.name}\t${user.createdAt}\n`);
}

/** `tether user delete NAME` (admin token): the user and the tunnels it owns. */
export async function userDeleteCommand(name: string, values: ClientValues): Promise<void> {
  await api(values).deleteUser(name);
  info(`Deleted user ${name}`);
}
