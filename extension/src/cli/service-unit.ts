/**
 * The files of `tether service install`: a systemd user unit that runs `tether share` and the
 * environment file holding its token and relays. Pure text: service-command.ts writes them.
 */
import { CLI_NODE_FLAGS } from '../core/cli-node-flags.js';

/** The unit's file name for tunnel `name`. */
export const unitName = (name: string): string => `tether-share-${name}.service`;

/** A value that would change the file's meaning (a newline ends the line, NUL ends the file). */
function checkLine(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${what} holds a control character, which a systemd file cannot carry`);
}

/**
 * One ExecStart word: bare when it is plain, else in double quotes with `\` and `"` escaped;
 * `%` (systemd's specifiers) doubled and `$` (its variable expansion) doubled either way.
 */
export function execWord(word: string): string {
  checkLine(word, `the argument ${JSON.stringify(word)}`);
  const bare = /^[A-Za-z0-9_@%+=:,./-]+$/.test(word);
  const quoted = bare ? word : `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return quoted.replace(/%/g, '%%').replace(/\$/g, '$$$$');
}

/** `KEY="value"` for an EnvironmentFile (double quotes, `\` and `"` escaped). */
function envLine(key: string, value: string): string {
  checkLine(value, key);
  return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface ServiceSpec {
  tunnel: string;
  target: { host: string; port: number };
  /** The program and script that run the CLI: process.execPath and the CLI's path. */
  node: string;
  cli: string;
  envFile: string;
}

/**
 * The unit: `tether share` with restarts for crashes, not for refusals that a restart cannot fix.
 * Node runs with CLI_NODE_FLAGS: a share that runs for weeks is where they pay.
 */
export function systemdUnit(spec: ServiceSpec): string {
  const where = `${spec.target.host}:${spec.target.port}`;
  checkLine(spec.envFile, 'the environment file path');
  const exec = [spec.node, ...CLI_NODE_FLAGS, spec.cli, 'share', spec.tunnel, '--target', where].map(execWord).join(' ');
  return [
    `# Written by 'tether service install ${spec.tunnel}'; 'tether service uninstall ${spec.tunnel}' removes it.`,
    '[Unit]',
    `Description=Tether: share ${where} as tunnel ${spec.tunnel}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `EnvironmentFile=${spec.envFile.replace(/%/g, '%%')}`,
    `ExecStart=${exec}`,
    // An unreachable relay is waited for inside share; it exits 1 only when the relay refuses
    // for good (token replaced, name held by someone else) and 2 on a usage error.
    'Restart=on-failure',
    'RestartSec=5',
    'RestartPreventExitStatus=1 2',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** The environment file: the token and the relays (space-separated, as TETHER_RELAY takes them). */
export function environmentFile(token: string, relays: string[]): string {
  return [
    '# The token of tether share, for the unit beside it in ~/.config/systemd/user. Keep it private (mode 0600).',
    envLine('TETHER_TOKEN', token),
    envLine('TETHER_RELAY', relays.join(' ')),
    '',
  ].join('\n');
}

/** The tunnel and target a unit written by systemdUnit shares, read back from its Description. */
export function describedShare(unit: string): { tunnel: string; target: string } | undefined {
  const match = /^Description=Tether: share (\S+) as tunnel (\S+)$/m.exec(unit);
  return match ? { target: match[1], tunnel: match[2] } : undefined;
}
