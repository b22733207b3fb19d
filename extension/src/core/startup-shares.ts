import { checkTunnelName } from '@tether/shared';

/** A share the `tether.shareOnStartup` setting asks for whenever VS Code starts signed in. */
export interface StartupShare {
  name: string;
  host: string;
  port: number;
}

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

/**
 * Reads `tether.shareOnStartup`: a list whose entries are a tunnel name (the local SSH server,
 * `sshPort`, is shared under it) or `{ name, port?, host? }` (port defaults to `sshPort`, host to
 * 127.0.0.1). Each bad entry is a problem in words and is left out; a name listed twice is kept
 * once (the first).
 */
export function readStartupShares(value: unknown, sshPort: number): { shares: StartupShare[]; problems: string[] } {
  const shares: StartupShare[] = [];
  const problems: string[] = [];
  if (value === undefined || value === null) return { shares, problems };
  if (!Array.isArray(value)) return { shares, problems: ['expected a list of tunnel names or { "name", "port", "host" } entries'] };
  for (const entry of value as unknown[]) {
    const spec = typeof entry === 'string' ? { name: entry } : entry;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      problems.push(`expected a tunnel name or { "name", "port", "host" }, got ${JSON.stringify(entry)}`);
      continue;
    }
    const { name, port = sshPort, host = '127.0.0.1' } = spec as { name?: unknown; port?: unknown; host?: unknown };
    const invalid = checkTunnelName(typeof name === 'string' ? name.trim() : name);
    if (invalid) {
      problems.push(invalid.message);
      continue;
    }
    const tunnel = (name as string).trim();
    if (!isPort(port)) {
      problems.push(`${tunnel}: expected a port from 1 to 65535, got ${JSON.stringify(port)}`);
      continue;
    }
    if (typeof host !== 'string' || host.trim() === '' || /\s/.test(host.trim())) {
      problems.push(`${tunnel}: expected a host name or address, got ${JSON.stringify(host)}`);
      continue;
    }
    if (shares.some((s) => s.name === tunnel)) {
      problems.push(`${tunnel} is listed twice (the first entry is used)`);
      continue;
    }
    shares.push({ name: tunnel, host: host.trim(), port });
  }
  return { shares, problems };
}

/** The setting's list with `share` added (or its entry for the same name replaced), as stored. */
export function withStartupShare(value: unknown, share: StartupShare): unknown[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [];
  const nameOf = (e: unknown): unknown => (typeof e === 'string' ? e.trim() : (e as { name?: unknown } | null)?.name);
  return [...list.filter((e) => nameOf(e) !== share.name), { name: share.name, host: share.host, port: share.port }];
}

/** The setting's list without the entry for `name`. */
export function withoutStartupShare(value: unknown, name: string): unknown[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [];
  return list.filter((e) => (typeof e === 'string' ? e.trim() : (e as { name?: unknown } | null)?.name) !== name);
}
