import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, TetherError } from '@tether/shared';
import { PEER_AUTH_HEADER, peerAuthHeaders, verifyPeerAuth } from './peer-auth.js';

const SECRET = 'cluster-secret-0123456789';
const NOW = 1_700_000_000_000;

const refusal = (result: string | TetherError): string => {
  assert.ok(result instanceof TetherError, `accepted as ${String(result)}`);
  assert.equal(result.code, ErrorCode.UNAUTHORIZED);
  return result.message;
};

test('a peer proof made with the secret for this node is accepted and names the caller', () => {
  assert.equal(verifyPeerAuth(SECRET, 'b', peerAuthHeaders(SECRET, 'a', 'b', NOW), NOW + 5000), 'a');
});

test('another secret, another target node, a changed caller id, or an edited MAC are refused', () => {
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', peerAuthHeaders('other-secret-0123456', 'a', 'b', NOW), NOW)), /does not hold this cluster's secret/);
  assert.match(refusal(verifyPeerAuth(SECRET, 'c', peerAuthHeaders(SECRET, 'a', 'b', NOW), NOW)), /does not hold/);
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', { ...peerAuthHeaders(SECRET, 'a', 'b', NOW), 'x-tether-node': 'x' }, NOW)), /node x does not hold/);
  const headers = peerAuthHeaders(SECRET, 'a', 'b', NOW);
  const proof = headers[PEER_AUTH_HEADER];
  const edited = proof.slice(0, -2) + (proof.endsWith('AA') ? 'BA' : 'AA');
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', { ...headers, [PEER_AUTH_HEADER]: edited }, NOW)), /does not hold/);
});

test('a proof from too far in the past or future is refused with the skew in words', () => {
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', peerAuthHeaders(SECRET, 'a', 'b', NOW), NOW + 61_000)), /61 s off this node's clock.*check the clocks/);
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', peerAuthHeaders(SECRET, 'a', 'b', NOW + 90_000), NOW)), /-90 s off/);
});

test('missing or malformed headers are refused without reaching the MAC', () => {
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', {}, NOW)), /needs the x-tether-node and x-tether-peer-auth headers/);
  assert.match(refusal(verifyPeerAuth(SECRET, 'b', { 'x-tether-node': 'a', [PEER_AUTH_HEADER]: ['1', '2'] }, NOW)), /needs the/);
  for (const bad of ['', 'abc', `${NOW}`, `${NOW}.short`, `x.${'A'.repeat(43)}`, `${NOW}.${'A'.repeat(44)}`]) {
    assert.match(refusal(verifyPeerAuth(SECRET, 'b', { 'x-tether-node': 'a', [PEER_AUTH_HEADER]: bad }, NOW)), /malformed peer proof/, bad);
  }
});
