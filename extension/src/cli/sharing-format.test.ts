import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { AccessRequestInfo, InviteInfo, MemberInfo, TunnelInfo } from '../core/index.js';
import { EXTENSION_ID, inviteIdFrom, settingsPatch, vscodeInviteLink } from './sharing-commands.js';
import { describeRequest, describeSettings, invitesTable, membersTable, requestsTable, tableText, tunnelsTable } from './sharing-format.js';

const invite: InviteInfo = {
  id: 'inv_a1', tunnel: 'box', role: 'connect', createdAt: '2026-12-01T00:00:00.000Z', expiresAt: '2026-12-02T00:00:00.000Z', maxUses: 5, uses: 2, user: null, state: 'active',
};
const request: AccessRequestInfo = {
  id: 'req_b2', tunnel: 'box', user: 'bob', role: 'view', durationMs: 5_400_000, reason: 'look\tat logs', createdAt: '2026-12-01T00:00:00.000Z',
  status: 'pending', approvals: 1, approvalsNeeded: 2, reviews: [], grantedUntil: null,
};
const member: MemberInfo = { user: 'carol', role: 'admin', expiresAt: null, blocked: false, source: 'direct', since: '2026-12-01T00:00:00.000Z' };

describe('sharing listings', () => {
  test('tunnels: the three columns scripts read first, then ROLE; - when the relay gives none', () => {
    const tunnels: TunnelInfo[] = [
      { name: 'box', owner: 'alice', online: true, createdAt: '', lastHostedAt: null, role: 'owner' },
      { name: 'old', owner: 'alice', online: false, createdAt: '', lastHostedAt: null },
    ];
    const text = tableText(tunnelsTable(tunnels), false);
    assert.equal(text, 'box\tonline\talice\towner\nold\toffline\talice\t-\n');
    // What completion and the scripts in the tests do with it.
    assert.deepEqual(text.trim().split('\n').map((l) => l.split('\t').slice(0, 3)), [['box', 'online', 'alice'], ['old', 'offline', 'alice']]);
  });

  test('a header only when asked (on a terminal)', () => {
    assert.equal(tableText(tunnelsTable([]), true), 'NAME\tSTATE\tOWNER\tROLE\n');
    assert.equal(tableText(tunnelsTable([]), false), '');
  });

  test('invites: ID, ROLE, STATE, USES/MAX, EXPIRES, USER', () => {
    assert.equal(tableText(invitesTable([invite, { ...invite, id: 'inv_c3', user: 'dave', state: 'used-up', uses: 1, maxUses: 1 }]), true), [
      'ID\tROLE\tSTATE\tUSES\tEXPIRES\tUSER',
      'inv_a1\tconnect\tactive\t2/5\t2026-12-02T00:00:00.000Z\t-',
      'inv_c3\tconnect\tused-up\t1/1\t2026-12-02T00:00:00.000Z\tdave',
      '',
    ].join('\n'));
  });

  test('access requests: ID, TUNNEL, USER, ROLE, STATUS, APPROVALS n/N, DURATION as --for takes it', () => {
    assert.equal(tableText(requestsTable([request]), false), 'req_b2\tbox\tbob\tview\tpending\t1/2\t1h30m\n');
  });

  test('members: USER, ROLE, EXPIRES (never), STATE, SOURCE', () => {
    const rows = tableText(membersTable([member, { ...member, user: 'eve', role: 'view', expiresAt: '2026-12-08T00:00:00.000Z', blocked: true, source: 'invite' }]), false);
    assert.equal(rows, 'carol\tadmin\tnever\tactive\tdirect\neve\tview\t2026-12-08T00:00:00.000Z\tblocked\tinvite\n');
  });

  test('no field holds a tab or a newline', () => {
    const rows = tableText(invitesTable([{ ...invite, user: 'a\tb\nc' }]), false);
    assert.equal(rows.split('\n').length, 2);
    assert.equal(rows.split('\t').length, 6);
  });
});

describe('sharing messages', () => {
  test('a request, by its status', () => {
    assert.equal(describeRequest(request), 'Access request req_b2 is waiting for approval (1/2 approvals): bob as view on tunnel box for 1h30m');
    assert.equal(describeRequest({ ...request, status: 'approved', grantedUntil: '2026-12-01T01:30:00.000Z' }), 'Access request req_b2 is approved: bob may use tunnel box as view until 2026-12-01T01:30:00.000Z');
    assert.equal(describeRequest({ ...request, status: 'denied' }), 'Access request req_b2 is denied (bob as view on tunnel box for 1h30m)');
  });

  test('settings', () => {
    assert.equal(describeSettings('box', { approval: 'required', approvals: 2, maxDurationMs: 86_400_000 }), 'Tunnel box: approval required, 2 approvals needed, longest access 1d');
    assert.equal(describeSettings('box', { approval: 'none', approvals: 1, maxDurationMs: null }), 'Tunnel box: approval none, 1 approval needed, longest access unlimited');
  });
});

describe('tether tunnel set', () => {
  test('sends only what is given', () => {
    assert.deepEqual(settingsPatch({ approval: 'required' }), { approval: 'required' });
    assert.deepEqual(settingsPatch({ approvals: '3', 'max-duration': '12h' }), { approvals: 3, maxDurationMs: 43_200_000 });
    assert.deepEqual(settingsPatch({ 'max-duration': 'none' }), { maxDurationMs: null });
  });
  test('nothing to change, or a bad value: usage errors', () => {
    assert.throws(() => settingsPatch({}), { name: 'UsageError', message: 'nothing to change: give --approval, --approvals or --max-duration' });
    assert.throws(() => settingsPatch({ approvals: '11' }), { name: 'UsageError' });
    assert.throws(() => settingsPatch({ 'max-duration': '10' }), { name: 'UsageError' });
  });
});

describe('invites', () => {
  const jwt = (claims: object): string => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

  test('revoke takes a code (its jti) or an id', () => {
    assert.equal(inviteIdFrom(jwt({ jti: 'inv_Zx-9', tunnel: 'box' })), 'inv_Zx-9');
    assert.equal(inviteIdFrom(`  ${jwt({ jti: 'inv_1' })}\n`), 'inv_1');
    assert.equal(inviteIdFrom('inv_1'), 'inv_1');
  });
  for (const bad of ['a.b.c', jwt({ tunnel: 'box' }), jwt({ jti: 7 }), 'x.%%%.y', '../etc', 'inv 1', '']) {
    test(`${JSON.stringify(bad.slice(0, 30))} is a usage error`, () => assert.throws(() => inviteIdFrom(bad), { name: 'UsageError' }));
  }

  test("the VS Code link names the extension as it is published: publisher.name", () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { publisher: string };
    const vsix = readFileSync(path.join(__dirname, '../../vsix.mjs'), 'utf8');
    const name = /const manifest = \{ name: '([^']+)' \}/.exec(vsix)?.[1];
    assert.equal(EXTENSION_ID, `${manifest.publisher}.${name}`);
    assert.equal(vscodeInviteLink('a.b-c_d.e'), `vscode://${EXTENSION_ID}/invite?code=a.b-c_d.e`);
  });
});
