import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createError, ErrorCode, type TetherError } from '@tether/shared';
import { describeConnectError } from './connect-error.js';
import { PoolDefaults } from './pool-defaults.js';
import type { RelaySession } from './relay-session.js';
import { parseRelayUrl } from './relay-url.js';

/** GET <url>/healthz; anything but a 2xx in time is RELAY_UNREACHABLE. */
export function probeHealth(url: string, timeoutMs: number = PoolDefaults.detectMs): Promise<void> {
  const base = parseRelayUrl(url).http;
  // No keep-alive: a probe's socket closes with its answer instead of idling in a pool (a client
  // probing relays that come and go would otherwise hold one idle socket per relay).
  const get = base.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(`${base}/healthz`, { agent: false, timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      if (status < 200 || status > 299) reject(createError(ErrorCode.RELAY_UNREACHABLE, `${base} answered HTTP ${status} to GET /healthz: it is not a Tether relay, or not a healthy one; check the relay URL`));
      else resolve();
    });
    request.on('timeout', () => {
      reject(describeConnectError(Object.assign(new Error('health check timed out'), { name: 'TimeoutError' }), base, timeoutMs));
      request.destroy();
    });
    request.on('error', (err: NodeJS.ErrnoException) => reject(describeConnectError(err, base, timeoutMs)));
  });
}

/** How often a pool checks and pings its sessions: four times per detectMs. */
export function pingIntervalMs(detectMs: number): number {
  return Math.floor(detectMs / 4);
}

/**
 * One beat of the PING-based detection: a session that received nothing for three ping
 * intervals gets CONNECTION_LOST back (the caller closes it); any other is pinged. Since the
 * check runs every interval, a relay is declared dead at most detectMs after it went silent.
 */
export function checkSession(session: RelaySession, url: string, detectMs: number): TetherError | undefined {
  const silentMs = session.session.now() - session.session.lastReceivedAt;
  if (silentMs > detectMs - pingIntervalMs(detectMs)) {
    return createError(ErrorCode.CONNECTION_LOST, `no answer from relay ${url} for ${Math.round(silentMs)} ms`);
  }
  // Heard from within the last interval: the relay is alive, and a PING would only refresh the
  // RTT, which once per detectMs is enough. An idle connection is so pinged every other
  // interval (its PONG is what it last heard), halving what idle tunnels cost the relay.
  const sinceLastPing = session.session.now() - session.session.lastPingAt;
  if (silentMs < pingIntervalMs(detectMs) && sinceLastPing < detectMs) return undefined;
  session.session.ping();
  return undefined;
}
