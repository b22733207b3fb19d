import type { Connector } from '../core/connector.js';
import { UdpListener } from '../core/udp-listener.js';
import { describeUdpStats } from '../core/udp-stats.js';
import { parseDuration } from './duration.js';
import { info } from './output.js';

/** `--udp-idle-timeout` of share and connect, in ms (undefined: the default). */
export function udpIdleTimeout(values: { 'udp-idle-timeout'?: string }): number | undefined {
  const given = values['udp-idle-timeout'];
  return given === undefined ? undefined : parseDuration(given, '--udp-idle-timeout');
}

/**
 * `tether connect NAME --udp`: listens for datagrams on host:port and carries each client's as a
 * flow to the tunnel (docs/udp.md). Resolves the listener once bound; says what it carried and
 * dropped when `report` is called (on exit).
 */
export async function listenUdp(connector: Connector, tunnel: string, host: string, port: number, idleTimeoutMs: number | undefined): Promise<{ listener: UdpListener; port: number; report: () => void }> {
  const listener = new UdpListener({ tunnel, host, port, idleTimeoutMs, session: async () => (await connector.session()).session });
  const bound = await listener.listen();
  // One line per failed flow open: the client retries (DNS does), and its next datagram after a
  // moment tries again.
  listener.on('flowError', (remote, err) => info(`${remote}: could not reach tunnel ${tunnel}: ${err.message} [${err.code}]`));
  listener.on('socketError', (err) => info(`UDP socket error: ${err.message}`));
  return { listener, port: bound, report: () => info(`udp: ${describeUdpStats(listener.stats)}`) };
}
