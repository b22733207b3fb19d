import { RelayApi, type SessionInfo } from '../core/index.js';
import type { ClientValues } from './flags.js';
import { info } from './output.js';
import { relayAndToken } from './options.js';

function api(values: ClientValues): RelayApi {
  const { relay, token } = relayAndToken(values);
  return new RelayApi(relay, token);
}

/** One session as a tab-separated line: ID, TUNNEL, USER, SOURCE, PATH, STARTED, UP, DOWN, PROTOCOL. */
export function sessionLine(s: SessionInfo): string {
  return [s.id, s.tunnel, s.user, s.source, s.path.join('>'), s.startedAt, s.up, s.down, s.protocol ?? '-'].join('\t');
}

/** `tether session list [--tunnel NAME] [--user NAME]` (admin token): every stream of the relay's nodes. */
export async function sessionListCommand(values: ClientValues & { tunnel?: string; user?: string }): Promise<void> {
  const answer = await api(values).sessions({ tunnel: values.tunnel, user: values.user });
  for (const s of answer.sessions) process.stdout.write(`${sessionLine(s)}\n`);
  if (answer.total > answer.sessions.length) info(`… and ${answer.total - answer.sessions.length} more (the first ${answer.sessions.length} are listed)`);
  for (const u of answer.unreachable) info(`relay node ${u.node} did not answer, its sessions are missing: ${u.error}`);
  if (answer.total === 0 && answer.unreachable.length === 0) info('No sessions: nobody is connected through a tunnel right now');
}

/** `tether session end ID` (admin token): resets that stream on its node. */
export async function sessionEndCommand(id: string, values: ClientValues): Promise<void> {
  await api(values).endSession(id);
  info(`Ended session ${id}`);
}
