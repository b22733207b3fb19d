import { createHmac, timingSafeEqual } from 'node:crypto';
import { createError, ErrorCode, type TetherError } from '@tether/shared';

/** The headers a node sends when it opens a peer link: who it is, and proof it holds the secret. */
export const PEER_NODE_HEADER = 'x-tether-node';
export const PEER_AUTH_HEADER = 'x-tether-peer-auth';

/** How far a peer's clock and this node's may disagree (and how long a captured header is good for). */
export const PEER_AUTH_SKEW_MS = 60_000;

const mac = (secret: string, from: string, to: string, at: number): Buffer =>
  createHmac('sha256', secret).update(`tether-peer-v1\n${from}\n${to}\n${at}`).digest();

/**
 * The headers node `from` sends to open a peer link to node `to`: an HMAC-SHA256 under the
 * cluster secret of both ids and the time. The secret itself never crosses the wire, and a
 * header is bound to the node it was made for.
 */
export function peerAuthHeaders(secret: string, from: string, to: string, now = Date.now()): Record<string, string> {
  return { [PEER_NODE_HEADER]: from, [PEER_AUTH_HEADER]: `${now}.${mac(secret, from, to, now).toString('base64url')}` };
}

/**
 * Checks a peer link's headers on node `self`: resolves the calling node's id, or a coded
 * UNAUTHORIZED error saying what was wrong (never which part of the MAC).
 */
export function verifyPeerAuth(secret: string, self: string, headers: Record<string, string | string[] | undefined>, now = Date.now()): string | TetherError {
  const from = headers[PEER_NODE_HEADER];
  const proof = headers[PEER_AUTH_HEADER];
  if (typeof from !== 'string' || from === '' || typeof proof !== 'string') {
    return createError(ErrorCode.UNAUTHORIZED, 'a peer link needs the x-tether-node and x-tether-peer-auth headers (only relay nodes open peer links)');
  }
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(proof);
  if (!match) return createError(ErrorCode.UNAUTHORIZED, 'malformed peer proof');
  const at = Number(match[1]);
  if (Math.abs(now - at) > PEER_AUTH_SKEW_MS) {
    return createError(ErrorCode.UNAUTHORIZED, `peer proof of node ${from} is ${Math.round((now - at) / 1000)} s off this node's clock (at most ${PEER_AUTH_SKEW_MS / 1000} s): check the clocks of both nodes`);
  }
  const expected = mac(secret, from, self, at);
  const given = Buffer.from(match[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return createError(ErrorCode.UNAUTHORIZED, `node ${from} does not hold this cluster's secret (or meant another node): give every node the same --cluster-secret`);
  }
  return from;
}
