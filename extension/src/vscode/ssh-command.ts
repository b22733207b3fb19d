/** Ready-to-paste `ssh` lines for a tunnel (no 'vscode' here: unit-tested). */

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The host key alias (and ProxyCommand host name) of a tunnel, shared with Remote-SSH entries. */
export const hostAlias = (tunnel: string): string => `tether-${tunnel}`;

export interface SshCommandOptions {
  tunnel: string;
  user: string;
  identityFile?: string;
}

/** `ssh` to a local listener; HostKeyAlias keeps known_hosts right when the port changes. */
export function localPortCommand(o: SshCommandOptions & { port: number }): string {
  const words = ['ssh', '-p', String(o.port), '-o', `HostKeyAlias=${hostAlias(o.tunnel)}`];
  if (o.identityFile) words.push('-i', o.identityFile);
  words.push(`${o.user}@127.0.0.1`);
  return words.map(shellQuote).join(' ');
}

/**
 * `ssh` with the tether CLI as ProxyCommand. The token is not in the line: the CLI reads
 * TETHER_TOKEN from the environment, so the copied text can be shared and logged.
 */
export function proxyCommand(o: SshCommandOptions & { cli: string[]; relay: string }): string {
  const proxy = [...o.cli, 'proxy', o.tunnel, '--relay', o.relay].map(shellQuote).join(' ');
  const words = ['ssh', '-o', `ProxyCommand=${proxy}`];
  if (o.identityFile) words.push('-i', o.identityFile);
  words.push(`${o.user}@${hostAlias(o.tunnel)}`);
  return words.map(shellQuote).join(' ');
}

/** `export TETHER_TOKEN=…`: the line that lets the tether CLI in a ProxyCommand act as you. */
export function tokenExport(token: string): string {
  return `export TETHER_TOKEN=${shellQuote(token)}`;
}
