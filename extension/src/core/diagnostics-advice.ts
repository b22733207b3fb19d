import { classify, ErrorCode } from '@tether/shared';

/** What to do about the codes people meet most, in the words of the diagnostics panel and bundle. */
const ADVICE: Partial<Record<string, string>> = {
  [ErrorCode.RELAY_UNREACHABLE]: 'The relay does not answer: check the relay URL and your network; Tether keeps retrying with backoff.',
  [ErrorCode.NO_RELAY]: 'No relay of the pool was up in time: check that at least one relay in tether.relays is reachable.',
  [ErrorCode.CONNECTION_LOST]: 'The link to the relay broke: open streams resume through another relay of the pool when there is one.',
  [ErrorCode.GOING_AWAY]: 'The relay is restarting or draining: streams move to another relay; nothing to do.',
  [ErrorCode.TIMEOUT]: 'The relay went silent: check the network; tether.failover.detectMs sets how soon silence counts as a failure.',
  [ErrorCode.UNAUTHORIZED]: 'The relay refused the token: sign in again (Tether: Sign In to Relay).',
  [ErrorCode.FORBIDDEN]: 'The relay refused this action for your identity: ask the relay admin or the tunnel owner.',
  [ErrorCode.TUNNEL_FORBIDDEN]: 'You have no role on this tunnel that allows it: ask its owner (Tether: Request Access…).',
  [ErrorCode.TUNNEL_OFFLINE]: 'Nobody shares this tunnel right now: start sharing it on the host, then connect again.',
  [ErrorCode.TUNNEL_UNKNOWN]: 'No tunnel has this name on the relay: check the name in the Tether view.',
  [ErrorCode.TARGET_REFUSED]: 'Nothing listens on the shared port on the host: start the service there (sshd for SSH).',
  [ErrorCode.TARGET_UNREACHABLE]: 'The host cannot reach the shared address: check the share\'s target host and port.',
  [ErrorCode.RESUME_TIMEOUT]: 'No relay could take the stream back in time: connect again once a relay is reachable (tether.failover.resumeTimeoutMs sets the wait).',
  [ErrorCode.RATE_LIMITED]: 'The relay is rate-limiting you: Tether waits as long as the relay asks before trying again.',
  [ErrorCode.QUEUE_FULL]: 'Too many connections waited for a relay at once: try again once a relay is up.',
  [ErrorCode.QUOTA_EXCEEDED]: 'Your identity uses all its allowed links or tunnels on the relay: close some, or ask the relay admin.',
  [ErrorCode.ADDRESS_IN_USE]: 'The local port is taken by another program: stop it, or connect again for a new port.',
  [ErrorCode.SSH_AUTH_FAILED]: 'The SSH server refused the login: check tether.ssh.user and tether.ssh.identityFile (or the agent\'s keys).',
  [ErrorCode.HOST_KEY_CHANGED]: 'The host key differs from known_hosts: make sure the host is the one you expect before removing the old key.',
};

/** By class, for every other code. */
const BY_CLASS: Record<ReturnType<typeof classify>, string> = {
  'retryable': 'Transient: Tether retries by itself; check the relay and network if it persists.',
  'path-failure': 'The path to the relay broke: resumable streams move to another relay of the pool.',
  'moved': 'The stream moved to another relay on purpose: nothing to do.',
  'refusal': 'Refused for a reason retrying cannot fix: check your sign-in and your role on the tunnel.',
  'resume-refusal': 'The far end could not resume the stream (it restarted or dropped it): connect again.',
  'final': 'See the Tether log (Tether: Show Log) for the details around this error.',
};

/** What to do about an error with this code, in one sentence. */
export function adviceFor(code: string): string {
  return ADVICE[code] ?? BY_CLASS[classify(code)];
}
