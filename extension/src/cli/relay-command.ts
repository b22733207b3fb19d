import { startRelay } from '@tether/relay';
import { info, UsageError } from './output.js';
import { parse } from './options.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `tether relay`: runs until SIGINT/SIGTERM, then sends GOAWAY and drains. */
export async function relayCommand(args: string[]): Promise<void> {
  const { values } = parse(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    data: { type: 'string' },
    'admin-token': { type: 'string' },
    'log-level': { type: 'string' },
    'audit-file': { type: 'string' },
    limit: { type: 'string', multiple: true },
  }, 0);
  const port = values.port === undefined ? Number(process.env.TETHER_PORT ?? 8080) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${values.port}`);
  const level = values['log-level'] ?? process.env.TETHER_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const limits: Record<string, number> = {};
  for (const spec of values.limit ?? []) {
    const match = /^([A-Za-z]+)=(\d+)$/.exec(spec);
    if (!match) throw new UsageError(`--limit takes NAME=INTEGER (e.g. --limit maxLinksPerUser=100), got ${JSON.stringify(spec)}`);
    limits[match[1]] = Number(match[2]);
  }
  const relay = await startRelay({
    limits,
    host: values.host ?? process.env.TETHER_HOST ?? '127.0.0.1',
    port,
    dataDir: values.data ?? process.env.TETHER_DATA,
    adminToken: values['admin-token'] ?? process.env.TETHER_ADMIN_TOKEN,
    auditFile: values['audit-file'] ?? process.env.TETHER_AUDIT_FILE,
    // Logs go to stderr: stdout carries only the URL line that scripts and tests read.
    logger: { level, stream: process.stderr },
  });
  info(`Tether relay listening on ${relay.url}`);
  if (relay.auditFile) info(`Audit events appended to ${relay.auditFile} (JSON lines, mode 0600)`);
  if (relay.adminTokenFile) {
    info(`Admin token ${relay.adminTokenGenerated ? 'generated and saved' : 'read from'}: ${relay.adminTokenFile} (mode 0600)`);
    info(`  export TETHER_RELAY=${relay.url} TETHER_TOKEN=$(cat ${relay.adminTokenFile})`);
  } else {
    info('Admin token: the one given with --admin-token / TETHER_ADMIN_TOKEN');
  }
  // The line scripts and tests wait for, on stdout.
  process.stdout.write(`${relay.url}\n`);

  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) process.exit(130);
    info(`${signal}: draining (GOAWAY sent); press Ctrl-C again to exit now`);
    relay.shutdown().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  await new Promise<never>(() => undefined);
}
