import { serveClientMetrics, type ClientMetricsSource } from './client-metrics.js';
import { assertTunnelName, createError, describeTunnelSettings, ErrorCode, type TetherError } from '@tether/shared';
import { preferServing } from '../core/endpoints.js';
import { HostAgent } from '../core/host-agent.js';
import type { PoolState } from '../core/pool-state.js';
import { describePoolReason } from '../core/pool-reason.js';
import { RelayApi } from '../core/relay-api.js';
import { webSocketFactory } from '../core/relay-session.js';
import { parseHostPort } from '../core/relay-url.js';
import { describeStreamEnd } from '../core/stream-end.js';
import { targetListens } from '../core/target-probe.js';
import { describeUdpStats } from '../core/udp-stats.js';
import { clientConnector, clientTracing } from './client-connector.js';
import type { ClientValues, PoolValues } from './flags.js';
import { info, UsageError } from './output.js';
import { printListing } from './sharing-commands.js';
import { tunnelsTable } from './sharing-format.js';
import { reportShare } from './share-report.js';
import { shareSettings, type ShareServiceValues } from './share-settings.js';
import { poolOptions, relayEndpointsAndToken, resumableOptions } from './options.js';
import { listenUdp, udpIdleTimeout } from './udp-connect.js';
import { keepHeapFloor } from './heap-floor.js';
import { tuneMalloc } from './malloc-tuning.js';

function onSignals(stop: () => void): void {
  let count = 0;
  const handler = (): void => {
    if (++count > 1) process.exit(130);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Prints a line whenever the relay new streams go to changes, and why. */
function reportFailover(): (state: PoolState) => void {
  let active: string | undefined;
  let first = true;
  return (state) => {
    if (state.active === active) return;
    active = state.active;
    if (first && active) {
      first = false;
      return;
    }
    const why = describePoolReason(state.reason);
    info(active ? `relay: now using ${active} (${why})` : `relay: none reachable (${why}); new connections wait up to the queue timeout`);
  };
}

/** `--metrics-port P [--metrics-host H]` of share and connect. */
interface MetricsValues {
  'metrics-port'?: string;
  'metrics-host'?: string;
}

/**
 * Serves the client's metrics when --metrics-port asks for them (no environment variable: the
 * relay's TETHER_METRICS_PORT must not make every client on the machine take that port).
 */
async function startClientMetrics(values: MetricsValues, role: 'connect' | 'share', source: ClientMetricsSource): Promise<void> {
  const given = values['metrics-port'];
  if (given === undefined) return;
  const port = Number(given);
  if (!/^\d+$/.test(given) || port < 1 || port > 65535) throw new UsageError(`--metrics-port must be 1-65535, got ${JSON.stringify(given)}`);
  const host = values['metrics-host'] ?? '127.0.0.1';
  await serveClientMetrics(port, host, role, source);
  info(`Metrics for scrapers at http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
}

/** `tether share NAME [--target HOST:PORT] [--relay URL ...]` */
export async function shareCommand(tunnel: string, values: ClientValues & PoolValues & MetricsValues & ShareServiceValues & { target?: string; otlp?: string; 'udp-idle-timeout'?: string }): Promise<void> {
  assertTunnelName(tunnel);
  await tuneMalloc();
  keepHeapFloor();
  const target = parseHostPort(values.target ?? '127.0.0.1:22');
  const { settings, accessToken, madeToken } = shareSettings(values);
  const idleTimeoutMs = udpIdleTimeout(values);
  if (idleTimeoutMs !== undefined && !settings?.udp) throw new UsageError('--udp-idle-timeout applies to a UDP service: add --udp');
  const { endpoints, token } = relayEndpointsAndToken(values);
  const tracing = await clientTracing(values);
  const agent = new HostAgent({
    tunnel,
    target,
    endpoints,
    factory: webSocketFactory({ relay: endpoints[0].url, token, settings }),
    // Unreachable relays at start are waited for (and reported), as when they are lost later.
    pool: { ...poolOptions(values), keepTrying: true },
    resumable: resumableOptions(values) || undefined,
    tracer: tracing?.tracer,
    udp: settings?.udp ? { idleTimeoutMs } : undefined,
  });
  agent.on('disconnected', (err, retryIn) => {
    // Retries are reported from the pool's state (reportShare), one line per failed attempt.
    if (retryIn === undefined) info(`disconnected: ${err.message} [${err.code}]`);
  });
  reportShare(agent, target, endpoints.length > 1);
  await startClientMetrics(values, 'share', { state: () => agent.state(), events: agent });
  const relays = endpoints.map((e) => e.url).join(', ');
  let announced = false;
  const urls = new Set<string>();
  agent.on('ready', (publicUrl) => {
    if (publicUrl && !urls.has(publicUrl)) {
      urls.add(publicUrl);
      info(`Reachable at ${publicUrl}`);
    }
    if (announced) return;
    announced = true;
    const extra = describeTunnelSettings(settings);
    info(`Sharing ${settings?.udp ? 'udp ' : ''}${target.host}:${target.port} as tunnel ${tunnel} via ${relays}${extra ? ` (${extra})` : ''}`);
    if (madeToken) info(`Access token (shown once; give it to those who may use the URL): ${accessToken}`);
  });
  // A UDP service cannot be probed: nothing answers a datagram that is not a request.
  if (!settings?.udp && !(await targetListens(target))) {
    info(`warning: nothing listens on ${target.host}:${target.port} yet; connections through ${tunnel} are refused until something does`);
  }
  const failed = new Promise<never>((_, reject) => agent.once('error', reject));
  // Before start(): a signal that comes as soon as "Sharing" is printed must stop us cleanly.
  onSignals(() => {
    info('Stopping: letting open streams finish (Ctrl-C again to exit now)');
    if (agent.udp) info(`udp: ${describeUdpStats(agent.udp.stats)}`);
    // The spans still buffered are sent before exiting.
    agent.stop().then(async () => {
      await tracing?.shutdown();
      process.exit(0);
    }, () => process.exit(1));
  });
  // The agent's retry timers do not hold the process: sharing (or waiting for a relay to share
  // through) does, until stopped or failed.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  failed.catch(() => clearInterval(keepAlive));
  try {
    await agent.start();
  } catch (err) {
    clearInterval(keepAlive);
    throw err;
  }
  await failed.catch((err: TetherError) => {
    // Every relay now refuses us (a replaced token, say): say that sharing stopped, and why.
    throw createError(err.code, `stopped sharing ${tunnel}: ${err.message}`);
  });
}

/** `tether connect NAME [--listen HOST:PORT] [--relay URL ...]` */
export async function connectCommand(tunnel: string, values: ClientValues & PoolValues & MetricsValues & { listen?: string; otlp?: string; udp?: boolean; 'udp-idle-timeout'?: string }): Promise<void> {
  assertTunnelName(tunnel);
  await tuneMalloc();
  keepHeapFloor();
  const listen = parseHostPort(values.listen ?? '127.0.0.1:2222', '127.0.0.1', 0);
  const idleTimeoutMs = udpIdleTimeout(values);
  if (idleTimeoutMs !== undefined && !values.udp) throw new UsageError('--udp-idle-timeout applies to a UDP tunnel: add --udp');
  const first = relayEndpointsAndToken(values);
  // Fail fast, with the relay's own words, on a bad token or a tunnel we may not use.
  const status = await new RelayApi(first.endpoints[0].url, first.token).tunnel(tunnel).catch((err: TetherError) => {
    // The first relay may be the one that is down; the pool reaches the others.
    if (err.code !== 'TETHER_ERR_RELAY_UNREACHABLE') throw err;
    return undefined;
  });
  // A cluster names the nodes that serve the tunnel: those of our relays are preferred.
  const tracing = await clientTracing(values);
  const { connector, relay } = clientConnector(values, (endpoints) => preferServing(endpoints, status?.servedBy), tracing);
  let stopping = false;
  const failover = reportFailover();
  connector.on('state', (state) => {
    // Closing on a signal drops every relay: that is no failover to report.
    if (!stopping) failover(state);
  });
  await startClientMetrics(values, 'connect', { state: () => connector.state(), openStreams: () => connector.openStreams, events: connector });
  await connector.session();
  const udp = values.udp ? await listenUdp(connector, tunnel, listen.host, listen.port, idleTimeoutMs) : undefined;
  const server = udp ? undefined : await connector.listen(tunnel, listen.host, listen.port);
  const address = server?.address();
  const port = udp?.port ?? (typeof address === 'object' && address ? address.port : listen.port);
  // Before "Listening" is printed: a signal sent as soon as it is read must stop us cleanly.
  onSignals(() => {
    stopping = true;
    info('Stopping: open connections are closed');
    udp?.report();
    udp?.listener.close();
    connector.close();
    // The spans still buffered are sent before exiting (the shutdown never rejects).
    if (tracing) void tracing.shutdown().then(() => process.exit(0));
    else process.exit(0);
  });
  const via = `via ${connector.state()?.active ?? relay}${status && !status.online ? ' (the tunnel is offline right now)' : ''}`;
  if (udp) {
    info(`Listening for UDP on ${listen.host}:${port}: datagrams go to tunnel ${tunnel} ${via}`);
    info(`  each client address is one flow; idle flows end after ${Math.round(udp.listener.idleTimeoutMs / 1000)} s`);
  } else {
    info(`Listening on ${listen.host}:${port}: connections go to tunnel ${tunnel} ${via}`);
    info(`  ssh -p ${port} USER@${listen.host}`);
  }
  connector.on('connectionError', (remote, err: TetherError) => info(`${remote}: could not reach tunnel ${tunnel}: ${err.message} [${err.code}]`));
  connector.on('listenError', (err) => info(`listener error: ${err.message}`));
  connector.on('streamDetached', (name, err) => info(`${name}: relay path lost (${err.code}); resuming through another relay`));
  connector.on('streamResumed', (name) => info(`${name}: stream resumed`));
  connector.on('connectionClosed', (remote, err) => {
    // A local client that went away is its own business; anything else ended its session.
    if (err && !(err.code === ErrorCode.CANCELLED && /^local /.test(err.message))) info(`${remote}: ${describeStreamEnd(tunnel, err)} [${err.code}]`);
  });
  await new Promise<never>(() => undefined);
}

/** `tether tunnel delete NAME`: releases a tunnel name. */
export async function tunnelDeleteCommand(name: string, values: ClientValues): Promise<void> {
  const { endpoints, token } = relayEndpointsAndToken(values);
  await new RelayApi(endpoints[0].url, token).deleteTunnel(name);
  info(`Deleted tunnel ${name}: the name is free again`);
}

/** `tether tunnel purge NAME`: empties the tunnel's HTTP cache on every relay node. */
export async function tunnelPurgeCommand(name: string, values: ClientValues): Promise<void> {
  assertTunnelName(name);
  const { endpoints, token } = relayEndpointsAndToken(values);
  const purged = await new RelayApi(endpoints[0].url, token).purgeTunnelCache(name);
  info(`Purged the HTTP cache of tunnel ${name}: ${purged} response${purged === 1 ? '' : 's'} dropped on this relay, the other nodes told to drop theirs`);
}

/** `tether tunnel disable NAME [--reason TEXT]` and `tether tunnel enable NAME` (admin token). */
export async function tunnelDisableCommand(name: string, disabled: boolean, values: ClientValues & { reason?: string }): Promise<void> {
  assertTunnelName(name);
  const { endpoints, token } = relayEndpointsAndToken(values);
  await new RelayApi(endpoints[0].url, token).setTunnelDisabled(name, disabled ? (values.reason ?? '') : null);
  info(disabled
    ? `Disabled tunnel ${name} on every relay node: its connections were ended, and nobody shares or reaches it until tether tunnel enable ${name}`
    : `Enabled tunnel ${name}: it may be shared and reached again`);
}

/**
 * `tether tunnels`: one tab-separated line per tunnel on stdout (NAME, online|offline, OWNER,
 * ROLE), for scripts and shell completion (which read the first column); a header only on a
 * terminal, and a hint on stderr when there is nothing to list. `--json`: the relay's answer.
 */
export async function tunnelsCommand(values: ClientValues & { json?: boolean }): Promise<void> {
  const { endpoints, token } = relayEndpointsAndToken(values);
  const tunnels = await new RelayApi(endpoints[0].url, token).tunnels();
  printListing(values, { tunnels }, tunnelsTable(tunnels), "No tunnels yet: share one with 'tether share NAME'");
}
