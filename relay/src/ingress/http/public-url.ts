import type { IncomingMessage } from 'node:http';

/**
 * The URL the HTTP ingress serves the tunnel of a host's upgrade at (`/v1/host?tunnel=NAME&http=…`),
 * or undefined for any other upgrade: the scheme the relay listens with, NAME.DOMAIN, and the port
 * the host reached the relay on when it is not the scheme's default.
 */
export function publicUrlOf(request: IncomingMessage, domain: string, secure: boolean): string | undefined {
  const url = new URL(request.url ?? '/', 'http://relay');
  if (url.pathname !== '/v1/host' || !url.searchParams.get('http')) return undefined;
  const tunnel = url.searchParams.get('tunnel') ?? '';
  if (!/^[a-z0-9-]{1,63}$/.test(tunnel)) return undefined;
  const port = /:(\d{1,5})$/.exec(String(request.headers.host ?? ''))?.[1];
  const scheme = secure ? 'https' : 'http';
  const shown = port && port !== (secure ? '443' : '80') ? `:${port}` : '';
  return `${scheme}://${tunnel}.${domain}${shown}`;
}
