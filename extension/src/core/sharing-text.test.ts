import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeAcceptedInvite, describeReviewed, describeSentRequest, readableTime } from './sharing-text.js';
import type { AccessRequestInfo, MemberInfo } from './sharing-types.js';

const request = (over: Partial<AccessRequestInfo> = {}): AccessRequestInfo => ({
  id: 'req_1', tunnel: 'web', user: 'mia', role: 'connect', durationMs: 8 * 3_600_000, reason: '', createdAt: '2026-12-01T05:00:00.000Z',
  status: 'pending', approvals: 0, approvalsNeeded: 1, reviews: [], grantedUntil: null, ...over,
});
const member = (over: Partial<MemberInfo> = {}): MemberInfo => ({ user: 'mia', role: 'connect', expiresAt: null, blocked: false, source: 'invite', since: '2026-12-01T05:00:00.000Z', ...over });

test('an accepted invite: access now, view only, or a request waiting for approval', () => {
  assert.equal(describeAcceptedInvite({ tunnel: 'web', role: 'connect', granted: member(), request: null }), 'You can now connect to web as connect.');
  assert.equal(describeAcceptedInvite({ tunnel: 'web', role: 'admin', granted: member({ role: 'admin', expiresAt: '2026-12-02T00:00:00.000Z' }), request: null }), 'You can now connect to web as admin until 2026-12-02 00:00 UTC.');
  assert.match(describeAcceptedInvite({ tunnel: 'web', role: 'view', granted: member({ role: 'view' }), request: null }), /^You can now see web as view: connecting needs the connect role/);
  assert.equal(describeAcceptedInvite({ tunnel: 'web', role: 'connect', granted: null, request: request() }), 'Your access request req_1 for web is waiting for approval (0/1).');
});

test('a sent request and a review, in sentences', () => {
  assert.equal(describeSentRequest(request({ approvalsNeeded: 2 })), "Access request req_1 sent (connect on web for 8h): waiting for 2 approvals from the tunnel's owner or admins.");
  assert.equal(describeReviewed(request({ status: 'approved', approvals: 1, grantedUntil: '2026-12-01T13:00:00.000Z' }), 'approve'), "Approved mia's request for connect on web: mia has access until 2026-12-01 13:00 UTC.");
  assert.equal(describeReviewed(request({ approvals: 1, approvalsNeeded: 2 }), 'approve'), "Approved mia's request for connect on web (1/2): it waits for 1 more approval.");
  assert.equal(describeReviewed(request({ status: 'denied' }), 'deny'), "Denied mia's request for connect on web.");
});

test('readableTime: a relay time in minutes, UTC; null is never', () => {
  assert.equal(readableTime('2026-12-02T05:45:22.741Z'), '2026-12-02 05:45 UTC');
  assert.equal(readableTime(null), 'never');
  assert.equal(readableTime('soon'), 'soon');
});
