import { ResumeDefaults } from '@tether/shared';
import { PoolDefaults } from '../core/index.js';

export const USAGE = `Usage: tether <command> [options]

Relay
  tether relay [--host H] [--port P] [--data DIR] [--admin-token T] [--log-level L] [--audit-file F]
               [--limit NAME=N]...
      Run a relay (embedded SQLite store in DIR, default ./tether-data; 127.0.0.1:8080).
      --limit sets one of the relay's limits (docs/relay.md), e.g. --limit maxLinksPerUser=100.
      --admin-token shows in ps: prefer TETHER_ADMIN_TOKEN or the token file in DIR.

Admin (with the admin token)
  tether user create NAME       create a user and print its token
  tether user list              list users
  tether user token NAME        replace a user's token and print the new one
  tether user delete NAME       delete a user and the tunnels it owns

Client (every command takes --relay URL and --token T;
        defaults: TETHER_RELAY or ${'http://127.0.0.1:8080'}, and TETHER_TOKEN)
  --relay may be repeated, one relay each: URL[,priority=N][,weight=N]. The order given is
  the order of preference (priority 0 first); equal priorities share new streams by weight.
  TETHER_RELAY may list several, separated by spaces. share, connect, proxy and ssh keep sessions
  to the best ones and fail over; tune with --pool N (sessions kept), --detect-ms MS (silence that
  counts as dead, default ${PoolDefaults.detectMs}), --failback-ms MS (how long a recovered relay must stay up
  before streams go back to it, default ${PoolDefaults.failbackDelayMs}), --queue-timeout-ms MS (how long a new
  connection waits for a relay, default ${PoolDefaults.queueTimeoutMs}). Streams of connect, proxy and ssh survive
  their relay: they resume through another one with no byte lost; --replay-buffer BYTES
  (unacknowledged bytes kept per stream, default ${ResumeDefaults.replayBufferBytes}) and --resume-timeout-ms MS (how
  long a stream waits for a relay to resume through, default ${ResumeDefaults.resumeTimeoutMs}) tune that; --no-resume
  opens plain streams, which end with their relay.
  tether share NAME [--target HOST:PORT]
      Share a local TCP service (default 127.0.0.1:22) as tunnel NAME.
  tether connect NAME --listen HOST:PORT
      Listen locally; every connection is carried to tunnel NAME.
  tether proxy NAME
      Carry stdin/stdout to tunnel NAME:  ssh -o ProxyCommand='tether proxy NAME' user@NAME
  tether tunnels                list the tunnels you may use
  tether tunnel delete NAME     release a tunnel name you own (the admin: anyone's); not while shared
  tether status [--watch] [--json]
      Connect to every relay given: which one new streams use and why, and each one's
      state, round-trip time and last error. --watch prints every change until Ctrl-C.
      Exit code 0 when at least one relay is up.
  tether ssh NAME [-l USER] [-i KEY] [-A] [--agent auto|ssh-agent|gpg-agent|pageant]
             [--agent-socket PATH] [--agent-timeout MS] [--known-hosts FILE] [--accept-new]
             [-- COMMAND...]
      SSH to tunnel NAME: a shell, or COMMAND (exit code is the remote's). -A forwards the
      agent (auto order: SSH_AUTH_SOCK, gpg-agent, pageant; --agent-socket wins). Host keys
      are checked against ~/.ssh/known_hosts; --accept-new records an unknown one.

Tunnel and user names: 1-63 characters of a-z, 0-9 and '-', starting and ending with a
letter or digit.
`;
