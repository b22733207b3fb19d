/** A coded error of the relay's API (`{ code, message }`), shown as it came, never a stack. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The session's CSRF token: held in memory only (never in storage), echoed on every mutation. */
let csrf: string | undefined;

/** Called when the relay says the session is gone (401): the shell shows the sign-in form. */
let onSignedOut: () => void = () => undefined;

export const session = {
  set(token: string | undefined): void {
    csrf = token;
  },
  onSignedOut(listener: () => void): void {
    onSignedOut = listener;
  },
};

const SAFE = new Set(['GET', 'HEAD']);

/** Calls the relay's API with the session cookie (same origin) and, on mutations, the CSRF header. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method) && csrf !== undefined) headers['x-tether-csrf'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the relay did not answer (is it running?)');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = json as { code?: unknown; message?: unknown } | undefined;
    const code = typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`;
    const message = typeof err?.message === 'string' ? err.message : res.statusText || 'request failed';
    if (res.status === 401 && !path.startsWith('/admin/api/session')) {
      csrf = undefined;
      onSignedOut();
    }
    throw new ApiError(res.status, code, message);
  }
  return json as T;
}

/** A query string of the parameters that have a value. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
