import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseSshUser, readSshUserMemory, rememberSshUser, sshUserKey, sshUserProblem, sshUserWarning, EMPTY_SSH_USER_MEMORY, type SshUserInputs } from './ssh-user.js';

describe('sshUserProblem', () => {
  for (const ok of ['root', 'alice', 'a.b_c-d', 'svc$', 'élodie', '_x', 'u'.repeat(64)]) {
    test(`accepts ${JSON.stringify(ok)}`, () => assert.equal(sshUserProblem(ok), undefined));
  }
  const bad: [string, string, RegExp][] = [
    ['empty', '', /Type the user name/],
    ['a space', 'bob smith', /no spaces/],
    ['a tab', 'bob\tsmith', /no spaces/],
    ['a trailing @', 'bob@', /without "@host"/],
    ['a leading @', '@box', /without "@host"/],
    ['a control character', 'bob\u0007', /no control characters/],
    ['a DEL', 'bob\u007f', /no control characters/],
    ['a leading dash', '-oProxyCommand=x', /cannot start with "-"/],
    ['a quote', "bob'", /"'" cannot be in a user name/],
    ['a shell character', 'bob;rm', /";" cannot be in a user name/],
    ['too long', 'u'.repeat(65), /at most 64 characters/],
  ];
  for (const [what, value, message] of bad) {
    test(`refuses ${what}, saying why`, () => assert.match(sshUserProblem(value) ?? '', message));
  }
});

describe('sshUserWarning', () => {
  test('user@host or a domain account: a warning that can be accepted, not a refusal', () => {
    assert.equal(sshUserProblem('bob@corp.example'), undefined);
    assert.match(sshUserWarning('bob@corp.example') ?? '', /without "@host".*domain account \(user@domain\) is fine/);
  });

  test('a plain name, or one already refused: no warning', () => {
    assert.equal(sshUserWarning('bob'), undefined);
    assert.equal(sshUserWarning('bob smith@x'), undefined);
  });
});

describe('sshUserKey', () => {
  test('the same tunnel on two relays is two keys; a trailing slash is the same relay', () => {
    assert.notEqual(sshUserKey('http://a:1', 'box'), sshUserKey('http://b:1', 'box'));
    assert.equal(sshUserKey('http://a:1/', 'box'), sshUserKey('http://a:1', 'box'));
    assert.notEqual(sshUserKey('http://a:1', 'box'), sshUserKey('http://a:1', 'box2'));
  });
});

describe('readSshUserMemory', () => {
  test('nothing stored, or something that is not a memory: empty', () => {
    for (const stored of [undefined, null, 'root', 42, []]) assert.deepEqual(readSshUserMemory(stored), { byTunnel: {} });
  });
  test('keeps valid entries and drops invalid ones', () => {
    const stored = { byTunnel: { 'http://a box': 'root', 'http://a evil': '-oProxyCommand=x', 'http://a n': 7 }, last: 'bad user' };
    assert.deepEqual(readSshUserMemory(stored), { byTunnel: { 'http://a box': 'root' } });
  });
  test('what rememberSshUser makes reads back the same', () => {
    const memory = rememberSshUser(EMPTY_SSH_USER_MEMORY, 'http://a', 'box', 'dev');
    assert.deepEqual(readSshUserMemory(JSON.parse(JSON.stringify(memory))), memory);
  });
});

describe('chooseSshUser', () => {
  const inputs = (over: Partial<SshUserInputs> = {}): SshUserInputs => ({
    setting: undefined,
    memory: EMPTY_SSH_USER_MEMORY,
    relay: 'http://relay',
    tunnel: 'box',
    localUser: 'me',
    ...over,
  });
  const remembered = rememberSshUser(EMPTY_SSH_USER_MEMORY, 'http://relay', 'box', 'deploy');

  test('the setting wins for every tunnel, even over a remembered user and a re-ask', () => {
    assert.deepEqual(chooseSshUser(inputs({ setting: 'root', memory: remembered, reask: true })), { source: 'setting', user: 'root' });
  });
  test('first time, nothing chosen anywhere yet: ask, suggesting the local user', () => {
    assert.deepEqual(chooseSshUser(inputs()), { source: 'ask', suggested: 'me' });
  });
  test('a local user name that could not be typed is not suggested', () => {
    assert.deepEqual(chooseSshUser(inputs({ localUser: 'Jane Doe' })), { source: 'ask', suggested: '' });
  });
  test('the second time for the same tunnel: the remembered user, no question', () => {
    assert.deepEqual(chooseSshUser(inputs({ memory: remembered })), { source: 'remembered', user: 'deploy' });
  });
  test('another tunnel: ask, suggesting the last user chosen for any tunnel', () => {
    assert.deepEqual(chooseSshUser(inputs({ memory: remembered, tunnel: 'other' })), { source: 'ask', suggested: 'deploy' });
  });
  test('the same tunnel name on another relay is asked for again', () => {
    assert.equal(chooseSshUser(inputs({ memory: remembered, relay: 'http://elsewhere' })).source, 'ask');
  });
  test('Change SSH User… asks again, suggesting the tunnel own user', () => {
    const memory = rememberSshUser(remembered, 'http://relay', 'other', 'ops');
    assert.deepEqual(chooseSshUser(inputs({ memory, reask: true })), { source: 'ask', suggested: 'deploy' });
  });
});
