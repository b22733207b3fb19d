import { Argument, type Command } from 'commander';
import { UdpDefaults } from '@tether/shared';
// Only the list of agent kinds: the module is small and loads no SSH library.
import { AGENT_CHOICES } from '../core/ssh/agent-discovery.js';
import { addClientOptions, addPoolOptions, FlagOption, flagValues, LOG_FORMATS, LOG_LEVELS, otlpOption } from './flags.js';
import { UsageError } from './output.js';
import { addAuditCommands } from './audit-program.js';
import { addAnalyticsCommands } from './analytics-program.js';
import { addReportCommands } from './report-program.js';
import { addSharingCommands, addTunnelSetCommand } from './sharing-program.js';
import type { SshValues } from './ssh-command.js';

/** What a command's action sees besides its own arguments. */
export interface RunContext {
  /** The whole command line, as given (ssh needs to know what came after `--`). */
  argv: readonly string[];
  /** The exit code of the command that ran (ssh's is the remote command's). */
  code: number;
}

/** Arguments whose values are tunnel names (shells complete them from `tether tunnels`). */
export const TUNNEL_ARGUMENT = 'tunnel name';

/** `user create`, `share`: the command's names from below `tether`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let at: Command | null = cmd; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The Examples section of a command's help: what each does, then the command line. */
export function examples(cmd: Command, lines: [command: string, what: string][]): Command {
  const body = lines.map(([command, what]) => `  # ${what}\n  ${command}\n`).join('\n');
  return cmd.addHelpText('after', `\nExamples:\n${body}`);
}

/**
 * Runs `fn` with the command's arguments as an action of `cmd`: an extra argument is a usage
 * error naming it, and a usage error from `fn` points at this command's help.
 */
export function action(ctx: RunContext, cmd: Command, fn: (args: string[]) => Promise<void | number>): Command {
  return cmd.action(async () => {
    const declared = cmd.registeredArguments;
    const extra = declared.at(-1)?.variadic ? [] : cmd.args.slice(declared.length);
    try {
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      ctx.code = (await fn(cmd.args)) ?? 0;
    } catch (err) {
      if (err instanceof UsageError && err.command === undefined) err.command = commandPath(cmd);
      throw err;
    }
  });
}

/** A command that only groups sub-actions: run alone or with an unknown action, a usage error. */
export function group(cmd: Command, what: string): Command {
  return cmd.action(() => {
    const names = cmd.commands.map((c) => c.name());
    const given = cmd.args[0];
    const choices = `${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names.at(-1)}`;
    throw new UsageError(given === undefined ? `missing ${what}: ${choices}` : `unknown ${what} ${JSON.stringify(given)}: ${choices}`, commandPath(cmd));
  });
}

function addRelayCommand(program: Command, ctx: RunContext): void {
  const relay = program
    .command('relay')
    .summary('run a relay')
    .description('Run a relay: its HTTP API and WebSocket endpoints on one port, users and tunnels in SQLite in a data folder, or in Redis shared by several relays (--redis).\nThe first line on stdout is a URL clients can use; logs go to stderr.')
    .addOption(new FlagOption('--host <host>', 'address to listen on; 0.0.0.0 is every interface', { default: '127.0.0.1', env: 'TETHER_HOST' }))
    .addOption(new FlagOption('--port <port>', 'port to listen on; 0 picks a free one', { default: 8080, env: 'TETHER_PORT' }))
    .addOption(new FlagOption('--data <dir>', 'data folder (created with mode 0700)', { default: './tether-data', env: 'TETHER_DATA', path: true }))
    .addOption(new FlagOption('--admin-token <token>', "the admin token; a flag shows in ps, prefer the variable or the data folder's file", {
      default: 'read from DIR/admin-token, generated there on first start',
      env: 'TETHER_ADMIN_TOKEN',
    }))
    .addOption(new FlagOption('--log-level <level>', 'log level', { choices: LOG_LEVELS, default: 'info', env: 'TETHER_LOG_LEVEL' }))
    .addOption(new FlagOption('--log-format <format>', 'logs as one readable line each, or JSON lines', {
      choices: LOG_FORMATS,
      default: 'pretty on a terminal, else json',
      env: 'TETHER_LOG_FORMAT',
    }))
    .addOption(new FlagOption('--audit-file <file>', 'also append every audit event to FILE as plain JSON lines (mode 0600)', { env: 'TETHER_AUDIT_FILE', path: true }))
    .addOption(new FlagOption('--audit-keys <file>', 'keys of the signed audit log (created when missing, mode 0600); on Redis give every node the same file', {
      default: 'DIR/audit-keys.json; none on Redis',
      env: 'TETHER_AUDIT_KEYS',
      path: true,
    }))
    .addOption(new FlagOption('--audit-fail-closed', 'refuse requests and stream opens while the audit log cannot be written', { env: 'TETHER_AUDIT_FAIL_CLOSED' }))
    .addOption(new FlagOption('--audit-retention <duration>', 'archive, then prune audit records older than this (e.g. 365d), hourly', { default: 'kept for ever', env: 'TETHER_AUDIT_RETENTION' }))
    .addOption(new FlagOption('--audit-archive <dir>', 'where pruned audit records are archived as JSON lines', { default: 'DIR/audit-archive; required on Redis with a retention', env: 'TETHER_AUDIT_ARCHIVE', path: true }))
    .addOption(new FlagOption('--audit-syslog <url>', 'forward the audit log to a syslog collector: tcp://HOST:PORT or tls://HOST:PORT (RFC 5424, octet-counted)', { env: 'TETHER_AUDIT_SYSLOG' }))
    .addOption(new FlagOption('--audit-syslog-format <format>', 'the messages sent to --audit-syslog', { choices: ['rfc5424', 'cef'], default: 'rfc5424', env: 'TETHER_AUDIT_SYSLOG_FORMAT' }))
    .addOption(new FlagOption('--audit-syslog-ca <file>', "with tls://: the PEM of the CA that signed the collector's certificate", { default: "the system's CAs", env: 'TETHER_AUDIT_SYSLOG_CA', path: true }))
    .addOption(new FlagOption('--audit-hec <url>', 'forward the audit log to a Splunk HTTP Event Collector, e.g. https://splunk:8088', { env: 'TETHER_AUDIT_HEC' }))
    .addOption(new FlagOption('--audit-hec-token <token>', "the collector's token; a flag shows in ps, prefer the variable", { env: 'TETHER_AUDIT_HEC_TOKEN' }))
    .addOption(new FlagOption('--audit-hec-ca <file>', "with https://: the PEM of the CA that signed the collector's certificate", { default: "the system's CAs", env: 'TETHER_AUDIT_HEC_CA', path: true }))
    .addOption(new FlagOption('--audit-hec-index <index>', 'the Splunk index of the events', { default: "the token's", env: 'TETHER_AUDIT_HEC_INDEX' }))
    .addOption(new FlagOption('--limit <name=n>', 'set one of the limits of docs/relay.md, e.g. maxLinksPerUser=100', { repeatable: true }))
    .addOption(new FlagOption('--rate-limits <file|off>', 'rate limit rules over the defaults, as JSON (docs/rate-limits.md); off for none', { default: 'the defaults', env: 'TETHER_RATE_LIMITS', path: true }))
    .addOption(new FlagOption('--rate-limit-shadow', 'count and log what the rate limits would refuse, without refusing it', { env: 'TETHER_RATE_LIMIT_SHADOW' }))
    .addOption(new FlagOption('--metrics-port <port>', 'also serve GET /metrics WITHOUT authentication on this port, for Prometheus (docs/metrics.md); the main port serves it to the admin token only', { env: 'TETHER_METRICS_PORT' }))
    .addOption(new FlagOption('--metrics-tunnel-labels <n>', 'also count stream opens and bytes per tunnel name, for at most N tunnels (the rest under _other): tunnel names then show in the metrics', { default: 'off', env: 'TETHER_METRICS_TUNNEL_LABELS' }))
    .addOption(new FlagOption('--analytics-retention <spec>', 'how long usage roll-ups are kept, STEP=DURATION pairs (docs/analytics.md)', { default: 'minute=48h,hour=90d,day=730d', env: 'TETHER_ANALYTICS_RETENTION' }))
    .addOption(new FlagOption('--metrics-host <host>', 'address of the --metrics-port listener: keep it on loopback or a monitoring network', { default: '127.0.0.1', env: 'TETHER_METRICS_HOST' }))
    .addOption(otlpOption())
    .optionsGroup('HTTP ingress and TLS (docs/http.md):')
    .addOption(new FlagOption('--public-domain <domain>', 'reach tunnels shared with --http at NAME.DOMAIN on this port (localhost works on one machine: http://NAME.localhost:PORT)', { env: 'TETHER_PUBLIC_DOMAIN' }))
    .addOption(new FlagOption('--tls-cert <file>', 'listen with TLS, this certificate chain (PEM); h2 and http/1.1 by ALPN', { env: 'TETHER_TLS_CERT', path: true }))
    .addOption(new FlagOption('--tls-key <file>', 'the private key of --tls-cert (PEM, unencrypted)', { env: 'TETHER_TLS_KEY', path: true }))
    .addOption(new FlagOption('--http-cache <size>', 'memory of the HTTP cache on this node, for tunnels shared with --cache', { default: '256MB', env: 'TETHER_HTTP_CACHE' }))
    .optionsGroup('Cluster options (docs/cluster.md):')
    .addOption(new FlagOption('--redis <url>', 'keep users, tokens and tunnel names in this Redis, shared by every node given it, instead of SQLite; needs --cluster-secret and --admin-token', { env: 'TETHER_REDIS_URL' }))
    .addOption(new FlagOption('--redis-cluster <urls>', 'the same in a Redis Cluster: comma-separated seed node URLs', { env: 'TETHER_REDIS_CLUSTER' }))
    .addOption(new FlagOption('--cluster-secret <secret>', 'required with Redis: the same secret (16+ characters) on every node; a flag shows in ps, prefer the variable', { env: 'TETHER_CLUSTER_SECRET' }))
    .addOption(new FlagOption('--node-id <id>', "with Redis: this node's id in the node registry (letters, digits, . _ -)", { default: 'a random one at every start', env: 'TETHER_NODE_ID' }))
    .addOption(new FlagOption('--advertise <url>', 'with Redis: how other nodes reach this one; required with --host 0.0.0.0', { default: 'http://HOST:PORT', env: 'TETHER_ADVERTISE_URL' }));
  examples(relay, [
    ['tether relay', 'on 127.0.0.1:8080, data in ./tether-data'],
    ['tether relay --host 0.0.0.0 --port 443', 'reachable from other machines'],
    ['tether relay --log-format json 2>relay.log', 'JSON log lines for a collector'],
    ['tether relay --limit maxLinksPerUser=100', 'raise a limit'],
    ['TETHER_ADMIN_TOKEN=… TETHER_CLUSTER_SECRET=… tether relay --redis redis://10.0.0.5:6379', 'a node of a cluster on one Redis'],
  ]);
  // Loaded on demand: the relay pulls in fastify and SQLite, which every `tether proxy` run
  // (started by ssh for each connection) would otherwise pay for at startup.
  action(ctx, relay, async () => (await import('./relay-command.js')).relayCommand(flagValues(relay)));
}

function addUserCommands(program: Command, ctx: RunContext): void {
  const token = 'the admin token';
  const user = addClientOptions(program.command('user').summary('manage users (with the admin token)'), token)
    .description('Create, list, re-key, block and delete users, and give them the admin role (with the admin token).');
  group(user, 'user action');
  examples(user, [
    ['tether user create alice', "create alice and print her token"],
    ['tether user list', 'every user and when it was created'],
  ]);

  const create = addClientOptions(user.command('create').description('Create a user and print its token (shown once) on stdout.').argument('<name>', 'user name'), token);
  examples(create, [['TETHER_TOKEN=$(cat tether-data/admin-token) tether user create alice', "prints alice's token"]]);
  action(ctx, create, async ([name]) => (await import('./user-command.js')).userCreateCommand(name, flagValues(create)));

  const list = addClientOptions(user.command('list').description('List users: name and creation time, tab-separated.'), token);
  examples(list, [['tether user list', 'one user per line']]);
  action(ctx, list, async () => (await import('./user-command.js')).userListCommand(flagValues(list)));

  const rekey = addClientOptions(user.command('token').description("Replace a user's token and print the new one (the old one stops working at once).").argument('<name>', 'user name'), token);
  examples(rekey, [['tether user token alice', 'a new token for alice']]);
  action(ctx, rekey, async ([name]) => (await import('./user-command.js')).userTokenCommand(name, flagValues(rekey)));

  const remove = addClientOptions(user.command('delete').description('Delete a user and the tunnels it owns.').argument('<name>', 'user name'), token);
  examples(remove, [['tether user delete alice', 'alice and her tunnels']]);
  action(ctx, remove, async ([name]) => (await import('./user-command.js')).userDeleteCommand(name, flagValues(remove)));

  for (const blocked of [true, false]) {
    const cmd = addClientOptions(user.command(blocked ? 'block' : 'unblock')
      .description(blocked ? "Block a user on the relay: its token is refused and its connections close, on every node, until unblocked." : 'Unblock a user: its token works again.')
      .argument('<name>', 'user name'), token);
    examples(cmd, [[`tether user ${blocked ? 'block' : 'unblock'} alice`, blocked ? 'alice is locked out' : 'alice may come back']]);
    action(ctx, cmd, async ([name]) => (await import('./user-command.js')).userBlockCommand(name, blocked, flagValues(cmd)));
  }

  const role = addClientOptions(user.command('role')
    .description("Make a user an admin of the relay (its token does what the admin token does: the dashboard, users, every tunnel), or a member again.")
    .argument('<name>', 'user name')
    .argument('<role>', 'admin or member'), token);
  examples(role, [['tether user role carol admin', 'carol may sign in to the admin dashboard']]);
  action(ctx, role, async ([name, to]) => (await import('./user-command.js')).userRoleCommand(name, to, flagValues(role)));
}

function addSessionCommands(program: Command, ctx: RunContext): void {
  const token = 'the admin token';
  const session = addClientOptions(program.command('session').summary('see and end the streams through the relay (with the admin token)'), token)
    .description("See every stream through the relay's nodes, and end one (with the admin token; docs/admin-api.md).");
  group(session, 'session action');
  examples(session, [
    ['tether session list --tunnel laptop', "who is connected to laptop"],
    ['tether session end node-a:12:3', 'end that stream'],
  ]);
  const list = addClientOptions(session.command('list')
    .description('List streams, newest first: ID, tunnel, user, source address, node path, start, bytes up, bytes down, protocol; tab-separated.')
    .addOption(new FlagOption('--tunnel <name>', 'only streams to this tunnel'))
    .addOption(new FlagOption('--user <name>', "only this user's streams")), token);
  examples(list, [['tether session list --user bob', "bob's streams"]]);
  action(ctx, list, async () => (await import('./session-command.js')).sessionListCommand(flagValues(list)));
  const end = addClientOptions(session.command('end')
    .description('End one stream (an ID from tether session list): both ends are reset, an ssh over it ends.')
    .argument('<id>', 'session id, NODE:LINK:STREAM'), token);
  examples(end, [['tether session end node-a:12:3', 'that stream ends']]);
  action(ctx, end, async ([id]) => (await import('./session-command.js')).sessionEndCommand(id, flagValues(end)));
}

function addClusterCommands(program: Command, ctx: RunContext): void {
  const token = 'the admin token';
  const cluster = addClientOptions(program.command('cluster').summary('see the nodes of a relay cluster (with the admin token)'), token)
    .description('See the relay nodes that share one Redis (with the admin token; docs/cluster.md).');
  group(cluster, 'cluster action');
  examples(cluster, [['tether cluster status', 'every live node, one per line']]);

  const status = addClientOptions(cluster.command('status').description('List the live nodes: id, advertise URL, version, links, streams and the age of the last heartbeat, tab-separated.'), token);
  examples(status, [['TETHER_RELAY=http://10.0.0.5:8080 tether cluster status', 'e.g. node-a  http://10.0.0.5:8080  0.1.0  3  5  1.2s']]);
  action(ctx, status, async () => (await import('./cluster-command.js')).clusterStatusCommand(flagValues(status)));
}

/** `--metrics-port`/`--metrics-host` of `tether share` and `tether connect` (docs/metrics.md, "Clients"). */
function addMetricsOptions(cmd: Command): Command {
  return cmd
    .optionsGroup('Metrics options:')
    .addOption(new FlagOption('--metrics-port <port>', 'serve GET /metrics for Prometheus on this port: the relay pool, RTT, streams, resumes'))
    .addOption(new FlagOption('--metrics-host <host>', 'address of the --metrics-port listener', { default: '127.0.0.1' }));
}

function addClientCommands(program: Command, ctx: RunContext): void {
  const share = program
    .command('share')
    .summary('share a local TCP service as a tunnel')
    .description("Share a local TCP service (by default this machine's SSH server) as tunnel NAME, until Ctrl-C.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(new FlagOption('--target <host:port>', 'the service to share', { default: '127.0.0.1:22' }))
    .addOption(otlpOption())
    .optionsGroup('Service options:')
    .addOption(new FlagOption('--http [origin]', "also reach it at http(s)://NAME.DOMAIN through the relay's HTTP ingress; origin: how the relay speaks to it, http1 or h2c (gRPC servers)", { default: 'off; http1 when given alone' }))
    .addOption(new FlagOption('--access <mode>', 'who may use the HTTP URL: private (users with connect, by token or sign-in), token (a per-tunnel access token), public', { choices: ['private', 'token', 'public'], default: 'private' }))
    .addOption(new FlagOption('--access-token <token>', 'the per-tunnel access token for --access token (default: a new one, printed once)', { env: 'TETHER_ACCESS_TOKEN' }))
    .addOption(new FlagOption('--cache <size>', "let the relay cache cacheable HTTP responses, up to this much per relay node (e.g. 64MB)"))
    .addOption(new FlagOption('--compress', 'let the relay compress HTTP responses the service did not (br or gzip)'))
    .addOption(new FlagOption('--allow <protocols>', 'carry only streams of these protocols, comma-separated: ssh, tls, http, http1, h2, unknown'))
    .addOption(new FlagOption('--udp', 'a UDP service: carry datagrams, not a TCP stream'))
    .addOption(new FlagOption('--udp-idle-timeout <duration>', 'with --udp: a flow with no datagram for this long ends (e.g. 30s)', { default: `${UdpDefaults.idleTimeoutMs / 1000}s` }));
  addMetricsOptions(addPoolOptions(addClientOptions(share)));
  examples(share, [
    ['tether share laptop', "this machine's SSH server, as tunnel laptop"],
    ['tether share laptop --allow ssh', 'SSH only: any other kind of stream is refused'],
    ['tether share web --target 127.0.0.1:3000', 'any TCP service'],
    ['tether share web --target 127.0.0.1:3000 --http --access public', 'a web app at http://web.DOMAIN for anyone'],
    ['tether share api --target 127.0.0.1:50051 --http h2c', 'a gRPC server at https://api.DOMAIN'],
    ['tether share dns --target 127.0.0.1:53 --udp', 'a UDP service'],
    ['tether share laptop --relay https://a.example --relay https://b.example', 'through two relays, failing over'],
  ]);
  action(ctx, share, async ([name]) => (await import('./client-commands.js')).shareCommand(name, flagValues(share)));

  const connect = program
    .command('connect')
    .summary('carry connections to a local port to a tunnel')
    .description('Listen on a local port and carry every connection to tunnel NAME, until Ctrl-C.')
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(new FlagOption('--listen <host:port>', 'where to listen; port 0 picks a free one', { default: '127.0.0.1:2222' }))
    .addOption(new FlagOption('--udp', 'a UDP tunnel: listen for datagrams on --listen'))
    .addOption(new FlagOption('--udp-idle-timeout <duration>', "with --udp: a client's flow with no datagram for this long ends (e.g. 30s)", { default: `${UdpDefaults.idleTimeoutMs / 1000}s` }))
    .addOption(otlpOption());
  addMetricsOptions(addPoolOptions(addClientOptions(connect)));
  examples(connect, [
    ['tether connect laptop', 'then: ssh -p 2222 me@127.0.0.1'],
    ['tether connect dns --udp --listen 127.0.0.1:5353', 'then: dig @127.0.0.1 -p 5353 example.test'],
    ['tether connect web --listen 127.0.0.1:8000', 'then open http://127.0.0.1:8000'],
  ]);
  action(ctx, connect, async ([name]) => (await import('./client-commands.js')).connectCommand(name, flagValues(connect)));

  const proxy = program
    .command('proxy')
    .summary("carry stdin/stdout to a tunnel (ssh's ProxyCommand)")
    .description("Carry stdin and stdout to tunnel NAME: for ssh's ProxyCommand. The ssh user is the account on the shared machine.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(otlpOption());
  addPoolOptions(addClientOptions(proxy));
  examples(proxy, [
    ["ssh -o ProxyCommand='tether proxy laptop' me@laptop", 'me: your account on the shared machine'],
    ['scp -o ProxyCommand="tether proxy %n" notes.txt me@laptop:', 'scp, rsync and git work the same way'],
  ]);
  action(ctx, proxy, async ([name]) => (await import('./proxy-command.js')).proxyCommand(name, flagValues(proxy)));

  const ssh = program
    .command('ssh')
    .summary("SSH to a tunnel with Tether's own client (agent forwarding)")
    .description('SSH to tunnel NAME: a shell, or the COMMAND after -- (its exit code is the exit code).\nHost keys are checked against ~/.ssh/known_hosts.')
    .argument('<name>', TUNNEL_ARGUMENT)
    .argument('[command...]', 'remote command, after --')
    .usage('[options] <name> [-- command...]')
    .addOption(new FlagOption('-l, --login <user>', 'user name on the far side', { default: 'your local user name' }))
    .addOption(new FlagOption('-i, --identity <file>', 'private key', { default: 'the agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa', path: true }))
    .addOption(new FlagOption('-A, --forward-agent', 'forward the SSH agent to the far side'))
    .addOption(new FlagOption('--agent <kind>', 'which agent; auto tries SSH_AUTH_SOCK, then gpg-agent, then pageant', { choices: AGENT_CHOICES, default: 'auto' }))
    .addOption(new FlagOption('--agent-socket <path>', 'this agent socket or pipe (wins over --agent)', { path: true }))
    // DEFAULT_AGENT_TIMEOUT_MS, written out: its module loads ssh2 (a test holds them equal).
    .addOption(new FlagOption('--agent-timeout <ms>', 'how long one forwarded agent request may take', { default: 30000 }))
    .addOption(new FlagOption('--known-hosts <file>', 'known hosts file', { default: '~/.ssh/known_hosts', path: true }))
    .addOption(new FlagOption('--accept-new', "record an unknown host key (a changed one always stops)"));
  addPoolOptions(addClientOptions(ssh));
  examples(ssh, [
    ['tether ssh laptop -l me -A', 'a shell, with your agent forwarded'],
    ['tether ssh laptop -l me -- uname -a', 'one command; exits with its exit code'],
  ]);
  action(ctx, ssh, async (operands) => {
    // Commander drops the `--`: what came after it in the command line is the remote command.
    const split = ctx.argv.indexOf('--');
    const after = split === -1 ? [] : ctx.argv.slice(split + 1);
    const remote = after.length >= operands.length ? operands.slice(1) : after;
    const extra = operands.slice(1, operands.length - remote.length);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])} (put the remote command after --)`);
    return (await import('./ssh-command.js')).sshCommand(operands[0], remote, flagValues<SshValues>(ssh));
  });

  const tunnels = addClientOptions(program
    .command('tunnels')
    .summary('list the tunnels you may use')
    .description('List the tunnels you may use, one per line: NAME, online or offline, OWNER, your ROLE (owner, admin, connect, view or relay-admin); tab-separated, a header only on a terminal.')
    .addOption(new FlagOption('--json', "the relay's answer as one JSON document, for scripts")));
  examples(tunnels, [
    ['tether tunnels', 'every tunnel you may use'],
    ["tether tunnels | awk '$2 == \"online\" { print $1 }'", 'the names of those online'],
    ["tether tunnels --json | jq -r '.tunnels[] | select(.role == \"owner\") | .name'", 'the names of your own'],
  ]);
  action(ctx, tunnels, async () => (await import('./client-commands.js')).tunnelsCommand(flagValues(tunnels)));

  const tunnel = addClientOptions(program.command('tunnel').summary("release a tunnel name, purge its HTTP cache, or change its sharing settings").description('Manage a tunnel name, its HTTP cache and its sharing settings.'));
  group(tunnel, 'tunnel action');
  examples(tunnel, [
    ['tether tunnel delete web', 'release the name web'],
    ['tether tunnel purge docs', "empty docs's HTTP cache"],
    ['tether tunnel set laptop --approval required', 'newcomers need approval'],
  ]);
  const remove = addClientOptions(tunnel
    .command('delete')
    .description("Release a tunnel name you own (the admin: anyone's), so that anyone may share it; not while it is shared.")
    .argument('<name>', TUNNEL_ARGUMENT));
  examples(remove, [['tether tunnel delete web', 'web is free again']]);
  action(ctx, remove, async ([name]) => (await import('./client-commands.js')).tunnelDeleteCommand(name, flagValues(remove)));
  const purge = addClientOptions(tunnel
    .command('purge')
    .description("Empty the tunnel's HTTP cache (a tunnel shared with --http --cache) on every relay node: the next requests go to the service (docs/http-cache.md).")
    .argument('<name>', TUNNEL_ARGUMENT));
  examples(purge, [['tether tunnel purge docs', 'after publishing a new version of the site']]);
  action(ctx, purge, async ([name]) => (await import('./client-commands.js')).tunnelPurgeCommand(name, flagValues(purge)));
  const disable = addClientOptions(tunnel
    .command('disable')
    .description("Disable a tunnel on every relay node (with the admin token): its connections end, and nobody shares or reaches it until enabled.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(new FlagOption('--reason <text>', 'why, shown to whoever is refused (200 characters at most)')));
  examples(disable, [['tether tunnel disable web --reason "abuse report #12"', 'web is off until enabled']]);
  action(ctx, disable, async ([name]) => (await import('./client-commands.js')).tunnelDisableCommand(name, true, flagValues(disable)));
  const enable = addClientOptions(tunnel
    .command('enable')
    .description('Enable a disabled tunnel again (with the admin token).')
    .argument('<name>', TUNNEL_ARGUMENT));
  examples(enable, [['tether tunnel enable web', 'web may be shared again']]);
  action(ctx, enable, async ([name]) => (await import('./client-commands.js')).tunnelDisableCommand(name, false, flagValues(enable)));
  addTunnelSetCommand(tunnel, ctx);

  const status = addClientOptions(program
    .command('status')
    .summary('check the relays: which one is used and why')
    .description("Connect to every relay given: which one new streams use and why, and each one's state, round-trip time and last error.\nExit code 0 when at least one relay is up.")
    .addOption(new FlagOption('--watch', 'print every change until Ctrl-C'))
    .addOption(new FlagOption('--json', 'one JSON object per state, for scripts')));
  examples(status, [
    ['tether status --relay https://a.example --relay https://b.example', 'both relays, side by side'],
    ['tether status --watch --json', 'follow failovers as JSON lines'],
  ]);
  action(ctx, status, async () => (await import('./status-command.js')).statusCommand(flagValues(status)));
}

function addServiceCommands(program: Command, ctx: RunContext): void {
  const service = program
    .command('service')
    .summary('keep sharing as a systemd user service')
    .description('Install, list and remove systemd user units that run tether share: sharing that survives closing VS Code, logging out (with lingering) and rebooting. Linux only.');
  group(service, 'service action');
  examples(service, [
    ['tether service install laptop', "share this machine's SSH server as laptop, from now on"],
    ['tether service list', 'the installed ones and their state'],
  ]);
  const install = addClientOptions(service
    .command('install')
    .description("Write ~/.config/systemd/user/tether-share-NAME.service (the token goes to ~/.config/tether/share-NAME.env, mode 0600), then enable and start it. The token is checked with the relay first.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(new FlagOption('--target <host:port>', 'the service to share', { default: '127.0.0.1:22' }))
    .addOption(new FlagOption('--no-start', 'only write the files; print the systemctl command that starts it')));
  examples(install, [
    ['tether service install laptop', 'shares 127.0.0.1:22 as laptop at every login'],
    ['tether service install web --target 127.0.0.1:3000 --no-start', 'write the unit only'],
    ['loginctl enable-linger "$USER"', 'keep user services running while logged out'],
  ]);
  action(ctx, install, async ([name]) => (await import('./service-command.js')).serviceInstallCommand(name, flagValues(install)));
  const uninstall = service.command('uninstall').description('Stop and disable the unit that shares NAME, and remove it and its token file.').argument('<name>', TUNNEL_ARGUMENT);
  examples(uninstall, [['tether service uninstall laptop', 'laptop is no longer shared by a service']]);
  action(ctx, uninstall, async ([name]) => (await import('./service-command.js')).serviceUninstallCommand(name));
  const list = service.command('list').description('List the installed units, one per line: NAME, HOST:PORT and the state systemd reports (tab-separated).');
  examples(list, [['tether service list', 'e.g. laptop  127.0.0.1:22  active']]);
  action(ctx, list, async () => (await import('./service-command.js')).serviceListCommand());
}

/** Every command of `tether` except help and completion, in the order the help lists them. */
export function addCommands(program: Command, ctx: RunContext): void {
  program.commandsGroup('Relay:');
  addRelayCommand(program, ctx);
  program.commandsGroup('Admin (with the admin token):');
  addUserCommands(program, ctx);
  addSessionCommands(program, ctx);
  addClusterCommands(program, ctx);
  addAuditCommands(program, ctx);
  addReportCommands(program, ctx);
  program.commandsGroup('Share and reach tunnels:');
  addClientCommands(program, ctx);
  addServiceCommands(program, ctx);
  program.commandsGroup('Share with your team:');
  addSharingCommands(program, ctx);
  program.commandsGroup('Usage (your tunnels; all with the admin token):');
  addAnalyticsCommands(program, ctx);
}

/** `tether completion SHELL` */
export function addCompletionCommand(program: Command, ctx: RunContext, write: (text: string) => void): void {
  const completion = program
    .command('completion')
    .summary('print a shell completion script')
    .description('Print a completion script for bash, zsh or fish: commands, options, and tunnel names from `tether tunnels` when TETHER_TOKEN is set.')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']));
  examples(completion, [
    ['echo \'eval "$(tether completion bash)"\' >> ~/.bashrc', 'bash'],
    ['echo \'eval "$(tether completion zsh)"\' >> ~/.zshrc', 'zsh (after compinit)'],
    ['tether completion fish > ~/.config/fish/completions/tether.fish', 'fish'],
  ]);
  action(ctx, completion, async ([shell]) => {
    const { completionScript } = await import('./completion.js');
    write(completionScript(program, shell as 'bash' | 'zsh' | 'fish'));
  });
}
