import { RelayApi } from '../core/index.js';
import type { ClientValues } from './flags.js';
import { relayAndToken } from './options.js';

/** Seconds with one decimal: the age of a heartbeat. */
const age = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** `tether cluster status` (admin token): one tab-separated line per live node. */
export async function clusterStatusCommand(values: ClientValues): Promise<void> {
  const { relay, token } = relayAndToken(values);
  for (const node of await new RelayApi(relay, token).clusterNodes()) {
    process.stdout.write(`${node.id}\t${node.advertise}\t${node.version}\t${node.links}\t${node.streams}\t${age(node.ageMs)}\n`);
  }
}
