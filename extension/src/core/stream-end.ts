import { ErrorCode, type TetherError } from '@tether/shared';

/** Where a person looks to see relays and tunnels: the CLI's commands, or VS Code's views. */
export interface StreamEndHints {
  relays: string;
  tunnels: string;
}

export const CLI_HINTS: StreamEndHints = { relays: "'tether status' shows them", tunnels: "'tether tunnels' shows it online" };
export const VSCODE_HINTS: StreamEndHints = { relays: 'the Tether status bar item shows them', tunnels: 'the Tether view shows it online' };

/**
 * Why a stream to `tunnel` ended, in words for the person whose session just closed (the CLI's
 * `proxy` and `connect`, and VS Code's SSH terminals): what happened and what to do. The code
 * stays with the error; callers print it next to this text.
 */
export function describeStreamEnd(tunnel: string, err: TetherError, hints: StreamEndHints = CLI_HINTS): string {
  switch (err.code) {
    case ErrorCode.RESUME_TIMEOUT: {
      const seconds = /within (\d+) ms/.exec(err.message);
      const waited = seconds ? ` for ${Math.round(Number(seconds[1]) / 1000)} s` : '';
      return `the connection to ${tunnel} was lost: no relay could carry it${waited}, so the session is closed; connect again once a relay is reachable (${hints.relays})`;
    }
    case ErrorCode.RESUME_UNKNOWN:
    case ErrorCode.RESUME_SECRET:
    case ErrorCode.RESUME_OFFSET:
      return `the connection to ${tunnel} was lost and could not be resumed (${err.message}): the sharing host restarted or dropped it; connect again`;
    case ErrorCode.TUNNEL_FORBIDDEN:
      return `your access to ${tunnel} ended (${err.message}), so the session is closed; ask its owner if you need it again`;
    case ErrorCode.TUNNEL_OFFLINE:
      return `the host sharing ${tunnel} went away, so the session is closed; connect again once it shares the tunnel again (${hints.tunnels})`;
    default:
      return `the connection to ${tunnel} ended: ${err.message}`;
  }
}
