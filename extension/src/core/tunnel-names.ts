/**
 * Tunnel names the VS Code extension proposes when sharing: pure, so they are tested without
 * VS Code.
 */

/** A tunnel name suggestion from the host name, cut to the relay's rule. */
export function suggestedName(hostname: string): string {
  const name = hostname.toLowerCase().split('.')[0].replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return name || 'my-machine';
}

/**
 * A name to propose for sharing `where`: the host name, unless this window already shares
 * another service under it; then the host name with the port, and a number if need be.
 */
export function proposedName(hostname: string, port: number, taken: Map<string, string>, where: string): string {
  const base = suggestedName(hostname);
  const free = (name: string): boolean => !taken.has(name) || taken.get(name) === where;
  if (free(base)) return base;
  const withPort = `${base.slice(0, 57)}-${port}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? withPort : `${withPort.slice(0, 62 - String(n).length)}-${n}`;
    if (free(name)) return name;
  }
}
