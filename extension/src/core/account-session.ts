/**
 * The Tether identity as VS Code's Accounts menu knows it (an AuthenticationSession), and what
 * changed between two sign-in states; vscode-free so it is unit-tested (auth-provider.ts uses it).
 */

/** Who is signed in where, with the token (the fields of the extension's Credentials). */
export interface SignedIn {
  relay: string;
  user: string;
  token: string;
}

/** The shape of vscode.AuthenticationSession. */
export interface AccountSession {
  id: string;
  accessToken: string;
  account: { id: string; label: string };
  scopes: readonly string[];
}

/** The shape of vscode.AuthenticationProviderAuthenticationSessionsChangeEvent. */
export interface SessionChange {
  added: AccountSession[];
  removed: AccountSession[];
  changed: AccountSession[];
}

/** "alice @ relay.example.com:8080"; just the host when the user name is not known. */
export function accountLabel(relay: string, user: string): string {
  const host = relay.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  return user ? `${user} @ ${host}` : host;
}

/** One session per relay and user: its id stays the same while the token is replaced. */
export function accountSession(signedIn: SignedIn): AccountSession {
  const label = accountLabel(signedIn.relay, signedIn.user);
  return { id: `${signedIn.relay}#${signedIn.user}`, accessToken: signedIn.token, account: { id: label, label }, scopes: [] };
}

/**
 * The event for going from `previous` to `next` (undefined: signed out); undefined when nothing
 * the Accounts menu shows or hands out changed. Another relay or user is a removal and an addition.
 */
export function sessionChange(previous: AccountSession | undefined, next: AccountSession | undefined): SessionChange | undefined {
  if (previous?.id === next?.id && previous?.accessToken === next?.accessToken) return undefined;
  if (previous && next && previous.id === next.id) return { added: [], removed: [], changed: [next] };
  return { added: next ? [next] : [], removed: previous ? [previous] : [], changed: [] };
}
