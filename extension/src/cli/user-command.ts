import { createError, ErrorCode } from '@tether/shared';
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

/** `tether user list` (admin token): NAME, creation time, role and `blocked` or `-`, tab-separated. */
export async function userListCommand(values: ClientValues): Promise<void> {
  for (const user of await api(values).users()) process.stdout.write(`${user.name}\t${user.createdAt}\t${user.role ?? 'member'}\t${user.blockedAt ? `blocked since ${user.blockedAt}` : '-'}\n`);
}

/** `tether user block|unblock NAME` (admin token). */
export async function userBlockCommand(name: string, blocked: boolean, values: ClientValues): Promise<void> {
  await api(values).setUserBlocked(name, blocked);
  info(blocked ? `Blocked user ${name}: its token is refused and its connections were closed, on every relay node` : `Unblocked user ${name}: its token works again`);
}

/** `tether user role NAME admin|member` (admin token). */
export async function userRoleCommand(name: string, role: string, values: ClientValues): Promise<void> {
  if (role !== 'admin' && role !== 'member') throw createError(ErrorCode.INVALID_ARGUMENT, `the role is admin or member, not ${role}`);
  await api(values).setUserRole(name, role);
  info(role === 'admin' ? `${name} is an admin of the relay: its token does what the admin token does` : `${name} is a member again`);
}

/** `tether user delete NAME` (admin token): the user and the tunnels it owns. */
export async function userDeleteCommand(name: string, values: ClientValues): Promise<void> {
  await api(values).deleteUser(name);
  info(`Deleted user ${name}`);
}
