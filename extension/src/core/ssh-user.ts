/**
 * The SSH user of a tunnel when the `tether.ssh.user` setting is empty: asked the first time,
 * remembered per relay and tunnel, the last one typed offered for the next tunnel. Pure: the
 * vscode layer keeps the memory in globalState and shows the input box.
 */

/** Longest user name accepted (the setting's limit too). */
export const MAX_SSH_USER_LENGTH = 64;

/**
 * Why `value` cannot be an SSH user name, as a sentence to show while it is typed; undefined
 * when it can. Besides no spaces or control characters (and no `@` at either end), a name never starts with `-` (ssh
 * would read it as an option) and holds only characters that need no quoting in a shell or an
 * ssh_config file, so the copied command and the Host entry stay what they look like.
 */
export function sshUserProblem(value: string): string | undefined {
  if (value === '') return 'Type the user name to log in as.';
  if (/\s/.test(value)) return 'A user name has no spaces.';
  if (value.startsWith('@') || value.endsWith('@')) return 'Type the user name alone, without "@host": the tunnel is the host.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'A user name has no control characters.';
  if (value.startsWith('-')) return 'A user name cannot start with "-" (ssh would read it as an option).';
  const bad = /[^\p{L}\p{N}._$@-]/u.exec(value);
  if (bad) return `"${bad[0]}" cannot be in a user name: use letters, digits, ".", "_", "-" or "$".`;
  if (value.length > MAX_SSH_USER_LENGTH) return `A user name is at most ${MAX_SSH_USER_LENGTH} characters.`;
  return undefined;
}

/** What is kept between sessions: the user of each tunnel, and the last one chosen. */
export interface SshUserMemory {
  /** By sshUserKey(relay, tunnel). */
  byTunnel: Record<string, string>;
  last?: string;
}

export const EMPTY_SSH_USER_MEMORY: SshUserMemory = { byTunnel: {} };

/**
 * The memory key of a tunnel: the same name on two relays is two tunnels. The relay is taken
 * without a trailing slash, so http://r and http://r/ are one relay.
 */
export function sshUserKey(relay: string, tunnel: string): string {
  return `${relay.replace(/\/+$/, '')} ${tunnel}`;
}

/**
 * Reads what globalState holds, tolerating anything: a malformed or hand-edited value is
 * dropped rather than trusted, entry by entry (a remembered name that is not valid any more is
 * asked again).
 */
export function readSshUserMemory(stored: unknown): SshUserMemory {
  if (!stored || typeof stored !== 'object') return { byTunnel: {} };
  const { byTunnel, last } = stored as { byTunnel?: unknown; last?: unknown };
  const out: SshUserMemory = { byTunnel: {} };
  if (byTunnel && typeof byTunnel === 'object') {
    for (const [key, user] of Object.entries(byTunnel as Record<string, unknown>)) {
      if (typeof user === 'string' && sshUserProblem(user) === undefined) out.byTunnel[key] = user;
    }
  }
  if (typeof last === 'string' && sshUserProblem(last) === undefined) out.last = last;
  return out;
}

/** The memory with `user` remembered for the tunnel and as the last one chosen. */
export function rememberSshUser(memory: SshUserMemory, relay: string, tunnel: string, user: string): SshUserMemory {
  return { byTunnel: { ...memory.byTunnel, [sshUserKey(relay, tunnel)]: user }, last: user };
}

/** Where the user of one connection comes from. */
export type SshUserChoice =
  /** `tether.ssh.user` is set: it wins for every tunnel. */
  | { source: 'setting'; user: string }
  /** Chosen earlier for this tunnel: used without asking. */
  | { source: 'remembered'; user: string }
  /** Ask, with `suggested` in the box. */
  | { source: 'ask'; suggested: string };

export interface SshUserInputs {
  /** The valid value of `tether.ssh.user`; undefined when it is empty. */
  setting: string | undefined;
  memory: SshUserMemory;
  relay: string;
  tunnel: string;
  /** The local login name: the suggestion when nothing was chosen for any tunnel yet. */
  localUser: string;
  /** Change SSH User…: ask even when a user is remembered (the setting still wins). */
  reask?: boolean;
}

/**
 * The setting when it is set; else the user remembered for this tunnel; else ask, suggesting
 * this tunnel's user (when re-asked), the last one chosen for any tunnel, or the local user.
 */
export function chooseSshUser(i: SshUserInputs): SshUserChoice {
  if (i.setting) return { source: 'setting', user: i.setting };
  const remembered = i.memory.byTunnel[sshUserKey(i.relay, i.tunnel)];
  if (remembered && !i.reask) return { source: 'remembered', user: remembered };
  const local = sshUserProblem(i.localUser) === undefined ? i.localUser : '';
  return { source: 'ask', suggested: remembered ?? i.memory.last ?? local };
}

/**
 * A user name with `@` inside is most often "user@host" typed by habit, but can be a domain
 * account (user@domain, as Azure AD logins are): said as a warning the user may accept.
 */
export function sshUserWarning(value: string): string | undefined {
  if (sshUserProblem(value) || !value.includes('@')) return undefined;
  return 'Type the user name alone, without "@host": the tunnel is the host. A domain account (user@domain) is fine: press Enter to use it.';
}
