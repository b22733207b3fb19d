import { ErrorCode, type ErrorCodeString, type TetherError } from '@tether/shared';
import { statusFor } from '../../http-errors.js';
import type { HeaderFields } from './ingress-types.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Does the client read pages (a browser) rather than JSON (an API client)? */
export function wantsHtml(headers: HeaderFields): boolean {
  const accept = headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

const TITLES: Partial<Record<ErrorCodeString, string>> = {
  [ErrorCode.TUNNEL_OFFLINE]: 'This tunnel is offline',
  [ErrorCode.TUNNEL_UNKNOWN]: 'No such tunnel',
  [ErrorCode.UNAUTHORIZED]: 'Sign-in needed',
  [ErrorCode.TUNNEL_FORBIDDEN]: 'Not allowed',
  [ErrorCode.TARGET_REFUSED]: 'The service is not answering',
  [ErrorCode.TARGET_UNREACHABLE]: 'The service is not answering',
  [ErrorCode.RATE_LIMITED]: 'Too many requests',
};

/** The status an ingress error is answered with (a tunnel or service that fails is the gateway's 502/503). */
export function ingressStatus(err: TetherError): number {
  if (err.code === ErrorCode.TUNNEL_OFFLINE || err.code === ErrorCode.GOING_AWAY) return 503;
  if (err.code === ErrorCode.TARGET_REFUSED || err.code === ErrorCode.TARGET_UNREACHABLE || err.code === ErrorCode.PEER_GONE || err.code === ErrorCode.CONNECTION_LOST || err.code === ErrorCode.STREAM_CLOSED) return 502;
  if (err.code === ErrorCode.TIMEOUT) return 504;
  return statusFor(err.code);
}

/** A page for people, or the usual `{code, message}` JSON for programs. */
export function errorBody(err: TetherError, html: boolean, extra = ''): { type: string; body: string } {
  if (!html) return { type: 'application/json; charset=utf-8', body: JSON.stringify({ code: err.code, message: err.message }) };
  const title = TITLES[err.code] ?? 'The request could not be served';
  return { type: 'text/html; charset=utf-8', body: page(title, `<p>${escape(err.message)}.</p>${extra}<p class="code">${escape(err.code)}</p>`) };
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Tether</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}.code{color:#656d76;font:13px ui-monospace,monospace}input,button{font:inherit;padding:.4rem .6rem}input[type=password]{width:100%;box-sizing:border-box;margin:.5rem 0}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>
`;
}

/** The sign-in form of a private or access-token tunnel. */
export function signInPage(tunnel: string, access: 'private' | 'token', next: string, error?: string): string {
  const what = access === 'token' ? 'the access token its owner gave you' : 'your Tether token (tether user token prints one)';
  return page(`Sign in to ${tunnel}`, `${error ? `<p role="alert"><strong>${escape(error)}.</strong></p>` : ''}<form method="post" action="/.tether/sign-in">
<label for="token">To open tunnel <strong>${escape(tunnel)}</strong>, enter ${what}:</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="512" autofocus>
<input type="hidden" name="next" value="${escape(next)}">
<button type="submit">Sign in</button></form>`);
}
