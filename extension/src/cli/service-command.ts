import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { assertTunnelName, createError, ErrorCode, isTetherError } from '@tether/shared';
import { parseHostPort, RelayApi } from '../core/index.js';
import type { ClientValues } from './flags.js';
import { relayEndpointsAndToken } from './options.js';
import { info } from './output.js';
import { describedShare, environmentFile, systemdUnit, unitName } from './service-unit.js';

/** Where systemd looks for a user's units, and where the token files go. */
function folders(): { units: string; config: string } {
  const base = process.env.XDG_CONFIG_HOME || join(os.homedir(), '.config');
  return { units: join(base, 'systemd', 'user'), config: join(base, 'tether') };
}

const envFileOf = (config: string, tunnel: string): string => join(config, `share-${tunnel}.env`);

function requireLinux(): void {
  if (process.platform !== 'linux') {
    throw createError(ErrorCode.INVALID_ARGUMENT, "tether service writes systemd user units, which only Linux has; elsewhere run 'tether share NAME' under your system's service manager (launchd, a Windows service)");
  }
}

/** Runs `systemctl --user ARGS`; the failure in words (no user systemd, unit refused). */
function systemctl(args: string[]): { ok: boolean; out: string; problem: string } {
  const r = spawnSync('systemctl', ['--user', ...args], { encoding: 'utf8' });
  if (r.error) return { ok: false, out: '', problem: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'systemctl is not installed' : r.error.message };
  return { ok: r.status === 0, out: r.stdout.trim(), problem: (r.stderr || r.stdout).trim().split('\n')[0] ?? '' };
}

/** The command that runs this CLI: this Node and this script (the global install's bin when run from it). */
function cliCommand(): { node: string; cli: string } {
  return { node: process.execPath, cli: resolve(process.argv[1] ?? 'tether') };
}

/**
 * `tether service install NAME [--target HOST:PORT] [--relay URL ...] [--no-start]`: a systemd
 * user unit that runs `tether share` with VS Code closed and after a reboot; the token goes to
 * a 0600 file beside it, never into the unit.
 */
export async function serviceInstallCommand(tunnel: string, values: ClientValues & { target?: string; 'no-start'?: boolean }): Promise<void> {
  requireLinux();
  assertTunnelName(tunnel);
  const target = parseHostPort(values.target ?? '127.0.0.1:22');
  const { endpoints, token } = relayEndpointsAndToken(values);
  // A token the relay refuses would only show later, in the journal: checked now.
  try {
    await new RelayApi(endpoints[0].url, token).whoami();
  } catch (err) {
    if (!(isTetherError(err) && err.code === ErrorCode.RELAY_UNREACHABLE)) throw err;
    info(`warning: ${err.message}; installing anyway (the service waits for the relay)`);
  }
  const { units, config } = folders();
  mkdirSync(units, { recursive: true });
  mkdirSync(config, { recursive: true, mode: 0o700 });
  const envFile = envFileOf(config, tunnel);
  writeFileSync(envFile, environmentFile(token, endpoints.map((e) => e.url)), { mode: 0o600 });
  chmodSync(envFile, 0o600);
  const unitFile = join(units, unitName(tunnel));
  writeFileSync(unitFile, systemdUnit({ tunnel, target, ...cliCommand(), envFile }));
  info(`wrote ${unitFile} (shares ${target.host}:${target.port} as ${tunnel}) and ${envFile} (its token, mode 0600)`);
  if (values['no-start'] === true) {
    info(`start it with: systemctl --user daemon-reload && systemctl --user enable --now ${unitName(tunnel)}`);
    return;
  }
  for (const args of [['daemon-reload'], ['enable', '--now', unitName(tunnel)]]) {
    const r = systemctl(args);
    if (!r.ok) {
      throw createError(
        ErrorCode.SERVICE_FAILED,
        `the unit is written, but 'systemctl --user ${args.join(' ')}' failed: ${r.problem}; where a user systemd runs, start it with 'systemctl --user enable --now ${unitName(tunnel)}'`,
      );
    }
  }
  info(`started ${unitName(tunnel)}: it shares ${tunnel} now and at every login ('loginctl enable-linger' keeps it running while you are logged out); logs: journalctl --user -u ${unitName(tunnel)}`);
}

/** `tether service uninstall NAME`: stops the unit and removes it and its token file. */
export function serviceUninstallCommand(tunnel: string): void {
  requireLinux();
  assertTunnelName(tunnel);
  const { units, config } = folders();
  const unitFile = join(units, unitName(tunnel));
  const envFile = envFileOf(config, tunnel);
  if (!existsSync(unitFile) && !existsSync(envFile)) {
    throw createError(ErrorCode.NOT_FOUND, `no service shares ${tunnel} ('tether service list' shows the installed ones)`);
  }
  const stopped = systemctl(['disable', '--now', unitName(tunnel)]);
  rmSync(unitFile, { force: true });
  rmSync(envFile, { force: true });
  if (stopped.ok) systemctl(['daemon-reload']);
  info(`removed ${unitFile} and ${envFile}${stopped.ok ? '' : ` (systemctl could not stop it: ${stopped.problem})`}`);
}

/** `tether service list`: one installed unit per line: tunnel, target, state. */
export function serviceListCommand(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): void {
  requireLinux();
  const { units } = folders();
  const files = existsSync(units) ? readdirSync(units).filter((f) => /^tether-share-.+\.service$/.test(f)).sort() : [];
  if (files.length === 0) {
    info("no Tether service is installed ('tether service install NAME' adds one)");
    return;
  }
  for (const file of files) {
    const share = describedShare(readFileSync(join(units, file), 'utf8'));
    const state = systemctl(['is-active', file]);
    // is-active prints the state and exits non-zero when it is not active; no output: no user systemd.
    write([share?.tunnel ?? file, share?.target ?? '?', state.out || `unknown (${state.problem || 'no user systemd'})`].join('\t'));
  }
}

