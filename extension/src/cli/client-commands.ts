import { assertTunnelName, type TetherError } from '@tether/shared';
import { Connector, describePoolReason, HostAgent, parseHostPort, RelayApi, webSocketFactory, type PoolState } from '../core/index.js';
import type { ClientValues, PoolValues } from './flags.js';
import { info } from './output.js';
import { poolOptions, relayEndpointsAndToken, resumableOptions } from './options.js';

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

/** One line per failed connection attempt (or lost session) of any relay, with the next retry. */
function reportRetries(named: boolean): (state: PoolState) => void {
  const shown = new Map<string, string>();
  return (state) => {
    const now = Date.now();
    for (const e of state.endpoints) {
      if ((e.state !== 'down' && e.state !== 'failed') || !e.lastError || e.retryInMs === undefined) continue;
      // The retry's due time tells one failure from the next.
      const key = `${e.lastError.code}|${e.lastError.message}|${Math.round((now + e.retryInMs) / 250)}`;
      if (shown.get(e.url) === key) continue;
      shown.set(e.url, key);
      info(`disconnected${named ? ` from ${e.url}` : ''}: ${e.lastError.message} [${e.lastError.code}]; reconnecting in ${(e.retryInMs / 1000).toFixed(1)} s`);
    }
  };
}

/** A Connector over every --relay given, with the pool and resume flags. */
function clientConnector(values: Parameters<typeof relayEndpointsAndToken>[0] & Parameters<typeof poolOptions>[0]): { connector: Connector; relay: string; token: string } {
  const { endpoints, token } = relayEndpointsAndToken(values);
  const connector = new Connector(webSocketFactory({ relay: endpoints[0].url, token }), {
    endpoints,
    pool: poolOptions(values),
    resumable: resumableOptions(values),
  });
  return { connector, relay: endpoints[0].url, token };
}

/** `tether share NAME [--target HOST:PORT] [--relay URL ...]` */
export async function shareCommand(tunnel: string, values: ClientValues & PoolValues & { target?: string }): Promise<void> {
  assertTunnelName(tunnel);
  const target = parseHostPort(values.target ?? '127.0.0.1:22');
  const { endpoints, token } = relayEndpointsAndToken(values);
  const agent = new HostAgent({
    tunnel,
    target,
    endpoints,
    factory: webSocketFactory({ relay: endpoints[0].url, token }),
    pool: poolOptions(values),
    resumable: resumableOptions(values) || undefined,
  });
  agent.on('disconnected', (err, retryIn) => {
    // Retries are reported from the pool's state (below), one line per failed attempt.
    if (retryIn === undefined) info(`disconnected: ${err.message} [${err.code}]`);
  });
  agent.on('state', reportRetries(endpoints.length > 1));
  const relays = endpoints.map((e) => e.url).join(', ');
  let announced = false;
  agent.on('ready', () => {
    if (announced) return;
    announced = true;
    info(`Sharing ${target.host}:${target.port} as tunnel ${tunnel} via ${relays}`);
  });
  const failed = new Promise<never>((_, reject) => agent.once('error', reject));
  // Before start(): a signal that comes as soon as "Sharing" is printed must stop us cleanly.
  onSignals(() => {
    info('Stopping: letting open streams finish (Ctrl-C again to exit now)');
    agent.stop().then(() => process.exit(0), () => process.exit(1));
  });
  await agent.start();
  // The agent's retry timers do not hold the process: sharing does, until stopped or failed.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  failed.catch(() => clearInterval(keepAlive));
  await failed;
}

/** `tether connect NAME [--listen HOST:PORT] [--relay URL ...]` */
export async function connectCommand(tunnel: string, values: ClientValues & PoolValues & { listen?: string }): Promise<void> {
  assertTunnelName(tunnel);
  const listen = parseHostPort(values.listen ?? '127.0.0.1:2222', '127.0.0.1', 0);
  const { connector, relay, token } = clientConnector(values);
  // Fail fast, with the relay's own words, on a bad token or a tunnel we may not use.
  const status = await new RelayApi(relay, token).tunnel(tunnel).catch((err: TetherError) => {
    // The first relay may be the one that is down; the pool reaches the others.
    if (err.code !== 'TETHER_ERR_RELAY_UNREACHABLE') throw err;
    return undefined;
  });
  connector.on('state', reportFailover());
  await connector.session();
  const server = await connector.listen(tunnel, listen.host, listen.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  info(`Listening on ${listen.host}:${port}: connections go to tunnel ${tunnel} via ${connector.state()?.active ?? relay}${status && !status.online ? ' (the tunnel is offline right now)' : ''}`);
  info(`  ssh -p ${port} USER@${listen.host}`);
  connector.on('connectionError', (remote, err: TetherError) => info(`${remote}: ${err.message} [${err.code}]`));
  connector.on('listenError', (err) => info(`listener error: ${err.message}`));
  connector.on('streamDetached', (name, err) => info(`${name}: relay path lost (${err.code}); resuming through another relay`));
  connector.on('streamResumed', (name) => info(`${name}: stream resumed`));
  onSignals(() => {
    connector.close();
    process.exit(0);
  });
  await new Promise<never>(() => undefined);
}

/** `tether proxy NAME`: stdin/stdout, for ssh's ProxyCommand. */
export async function proxyCommand(tunnel: string, values: ClientValues & PoolValues): Promise<void> {
  assertTunnelName(tunnel);
  const { connector } = clientConnector(values);
  const err = await connector.pipe(tunnel, process.stdin, process.stdout);
  connector.close();
  if (err) throw err;
}

/** `tether tunnel delete NAME`: releases a tunnel name. */
export async function tunnelDeleteCommand(name: string, values: ClientValues): Promise<void> {
  const { endpoints, token } = relayEndpointsAndToken(values);
  await new RelayApi(endpoints[0].url, token).deleteTunnel(name);
  info(`Deleted tunnel ${name}: the name is free again`);
}

/**
 * `tether tunnels`: one tab-separated line per tunnel on stdout (NAME, online|offline, OWNER),
 * for scripts and shell completion; a header only on a terminal, and a hint on stderr when
 * there is nothing to list.
 */
export async function tunnelsCommand(values: ClientValues): Promise<void> {
  const { endpoints, token } = relayEndpointsAndToken(values);
  const tunnels = await new RelayApi(endpoints[0].url, token).tunnels();
  if (tunnels.length === 0) {
    info("No tunnels yet: share one with 'tether share NAME'");
    return;
  }
  if (process.stdout.isTTY) process.stdout.write('NAME\tSTATE\tOWNER\n');
  for (const t of tunnels) {
    process.stdout.write(`${t.name}\t${t.online ? 'online' : 'offline'}\t${t.owner}\n`);
  }
}
