import { assertTunnelName, type TetherError } from '@tether/shared';
import { Connector, HostAgent, parseHostPort, RelayApi, webSocketFactory } from '../core/index.js';
import { info } from './output.js';
import { clientOptions, parse, relayAndToken, requirePositional } from './options.js';

function onSignals(stop: () => void): void {
  let count = 0;
  const handler = (): void => {
    if (++count > 1) process.exit(130);
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** `tether share NAME [--target HOST:PORT]` */
export async function shareCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...clientOptions, target: { type: 'string' } }, 1);
  const tunnel = requirePositional(positionals, 0, 'tunnel name');
  assertTunnelName(tunnel);
  const target = parseHostPort(values.target ?? '127.0.0.1:22');
  const { relay, token } = relayAndToken(values);
  const agent = new HostAgent({ tunnel, target, factory: webSocketFactory({ relay, token }) });
  agent.on('disconnected', (err, retryIn) => {
    info(retryIn === undefined ? `disconnected: ${err.message} [${err.code}]` : `disconnected: ${err.message} [${err.code}]; reconnecting in ${(retryIn / 1000).toFixed(1)} s`);
  });
  agent.on('ready', () => info(`Sharing ${target.host}:${target.port} as tunnel ${tunnel} via ${relay}`));
  const failed = new Promise<never>((_, reject) => agent.once('error', reject));
  await agent.start();
  onSignals(() => {
    info('Stopping: letting open streams finish (Ctrl-C again to exit now)');
    agent.stop().then(() => process.exit(0), () => process.exit(1));
  });
  await failed;
}

/** `tether connect NAME --listen HOST:PORT` */
export async function connectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...clientOptions, listen: { type: 'string' } }, 1);
  const tunnel = requirePositional(positionals, 0, 'tunnel name');
  assertTunnelName(tunnel);
  const listen = parseHostPort(values.listen ?? '127.0.0.1:2222', '127.0.0.1', 0);
  const { relay, token } = relayAndToken(values);
  // Fail fast, with the relay's own words, on a bad token or a tunnel we may not use.
  const status = await new RelayApi(relay, token).tunnel(tunnel);
  const connector = new Connector(webSocketFactory({ relay, token }));
  await connector.session();
  const server = await connector.listen(tunnel, listen.host, listen.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  info(`Listening on ${listen.host}:${port}: connections go to tunnel ${tunnel} via ${relay}${status.online ? '' : ' (the tunnel is offline right now)'}`);
  info(`  ssh -p ${port} USER@${listen.host}`);
  connector.on('connectionError', (remote, err: TetherError) => info(`${remote}: ${err.message} [${err.code}]`));
  connector.on('listenError', (err) => info(`listener error: ${err.message}`));
  onSignals(() => {
    connector.close();
    process.exit(0);
  });
  await new Promise<never>(() => undefined);
}

/** `tether proxy NAME`: stdin/stdout, for ssh's ProxyCommand. */
export async function proxyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, clientOptions, 1);
  const tunnel = requirePositional(positionals, 0, 'tunnel name');
  assertTunnelName(tunnel);
  const { relay, token } = relayAndToken(values);
  const connector = new Connector(webSocketFactory({ relay, token }));
  const err = await connector.pipe(tunnel, process.stdin, process.stdout);
  connector.close();
  if (err) throw err;
}

/** `tether tunnels` */
export async function tunnelsCommand(args: string[]): Promise<void> {
  const { values } = parse(args, clientOptions, 0);
  const { relay, token } = relayAndToken(values);
  for (const t of await new RelayApi(relay, token).tunnels()) {
    process.stdout.write(`${t.name}\t${t.online ? 'online' : 'offline'}\t${t.owner}\n`);
  }
}
