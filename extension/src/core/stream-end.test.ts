import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createError, ErrorCode } from '@tether/shared';
import { describeStreamEnd, VSCODE_HINTS } from './stream-end.js';

test('a resume timeout says how long no relay could carry the stream, and what to do', () => {
  const err = createError(ErrorCode.RESUME_TIMEOUT, 'stream not resumed within 30000 ms (connection to relay lost)');
  assert.equal(
    describeStreamEnd('laptop', err),
    "the connection to laptop was lost: no relay could carry it for 30 s, so the session is closed; connect again once a relay is reachable ('tether status' shows them)",
  );
});

test('a refused resume names the cause', () => {
  const text = describeStreamEnd('laptop', createError(ErrorCode.RESUME_UNKNOWN, 'no such stream'));
  assert.match(text, /^the connection to laptop was lost and could not be resumed \(no such stream\): the sharing host restarted/);
});

test('an offline tunnel says the host went away', () => {
  assert.match(describeStreamEnd('web', createError(ErrorCode.TUNNEL_OFFLINE, 'offline')), /^the host sharing web went away/);
  assert.equal(describeStreamEnd('web', createError(ErrorCode.TUNNEL_FORBIDDEN, 'removed from the tunnel')), 'your access to web ended (removed from the tunnel), so the session is closed; ask its owner if you need it again');
});

test('anything else keeps the error in its own words', () => {
  assert.equal(describeStreamEnd('db', createError(ErrorCode.TARGET_REFUSED, 'target 127.0.0.1:5432 refused the connection')), 'the connection to db ended: target 127.0.0.1:5432 refused the connection');
});

describe('describeStreamEnd in VS Code', () => {
  test('points at the status bar and the view instead of CLI commands', () => {
    const timeout = describeStreamEnd('laptop', createError(ErrorCode.RESUME_TIMEOUT, 'stream not resumed within 6000 ms (x)'), VSCODE_HINTS);
    assert.equal(timeout, 'the connection to laptop was lost: no relay could carry it for 6 s, so the session is closed; connect again once a relay is reachable (the Tether status bar item shows them)');
    const offline = describeStreamEnd('laptop', createError(ErrorCode.TUNNEL_OFFLINE, 'gone'), VSCODE_HINTS);
    assert.match(offline, /\(the Tether view shows it online\)$/);
  });
});
