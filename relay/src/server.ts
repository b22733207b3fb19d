import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createError, ErrorCode } from '@tether/shared';
import { buildApp, type RelayApp } from './app.js';
import type { RelayLimits } from './config.js';
import { JsonLinesAuditSink } from './audit/json-lines-sink.js';
import { generateToken } from './tokens.js';

export interface StartRelayOptions {
  host?: string;
  port?: number;
  /** Data folder (created with mode 0700): the SQLite file and a generated admin token live here. */
  dataDir?: string;
  /** Admin token; when absent, read from or generated into `<dataDir>/admin-token` (mode 0600). */
  adminToken?: string;
  limits?: Partial<RelayLimits>;
  logger?: boolean | Record<string, unknown>;
  /** Appends every audit event to this file as JSON lines (mode 0600); none when absent. */
  auditFile?: string;
}

export interface RunningRelay extends RelayApp {
  /** http://host:port of the relay. */
  url: string;
  /** Where the admin token is stored, when it came from the data folder. */
  adminTokenFile: string | undefined;
  adminTokenGenerated: boolean;
  /** Where audit events go, when an audit file was asked for. */
  auditFile: string | undefined;
}

/** Admin token from the option, else from the data folder, else a new one saved there. */
export function resolveAdminToken(dataDir: string, given: string | undefined): { token: string; file: string | undefined; generated: boolean } {
  if (given !== undefined) {
    if (given.length < 16) throw createError(ErrorCode.INVALID_CONFIG, 'the admin token must be at least 16 characters');
    return { token: given, file: undefined, generated: false };
  }
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw createError(ErrorCode.INVALID_CONFIG, `${file} does not hold a valid admin token`);
    return { token, file, generated: false };
  }
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, generated: true };
}

/** Starts a relay on the embedded store and listens. */
export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  const dataDir = resolve(options.dataDir ?? 'tether-data');
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw createError(ErrorCode.INVALID_CONFIG, `cannot create data folder ${dataDir}: ${(err as Error).message}`);
  }
  const admin = resolveAdminToken(dataDir, options.adminToken);
  const auditFile = options.auditFile === undefined ? undefined : resolve(options.auditFile);
  // Built here, not by buildApp, so the app leaves it open: closed below once the app is.
  const audit = auditFile === undefined ? undefined : new JsonLinesAuditSink(auditFile, (err) => relay.app.log.error({ err, auditFile }, 'audit file unwritable: audit events are dropped'));
  const relay = await buildApp({
    databaseFile: join(dataDir, 'tether.db'),
    adminToken: admin.token,
    limits: options.limits,
    logger: options.logger ?? true,
    audit,
  });
  if (audit) relay.app.addHook('onClose', () => audit.close());
  const host = options.host ?? '127.0.0.1';
  try {
    await relay.app.listen({ host, port: options.port ?? 8080 });
  } catch (err) {
    await relay.app.close();
    const e = err as NodeJS.ErrnoException;
    throw createError(ErrorCode.INVALID_CONFIG, `cannot listen on ${host}:${options.port ?? 8080}: ${e.code ?? e.message}`);
  }
  const address = relay.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 8080;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { ...relay, url: `http://${shownHost}:${port}`, adminTokenFile: admin.file, adminTokenGenerated: admin.generated, auditFile };
}
