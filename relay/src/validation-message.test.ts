import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, SUBPROTOCOL } from '@tether/shared';
import { ADMIN_TOKEN, bearer, createTestRelay } from './test-support/testing.js';
import { validationMessage, type RequestPart, type ValidationIssue } from './validation-message.js';

const userBody = { type: 'object', properties: { name: { type: 'string', maxLength: 63, title: 'user name' } } };
const untitled = { type: 'object', properties: { note: { type: 'string', maxLength: 10 } } };

test('schema failures read as sentences', () => {
  const cases: [what: string, issue: ValidationIssue, part: RequestPart, schema: unknown, input: unknown, message: string][] = [
    [
      'a name too long',
      { instancePath: '/name', keyword: 'maxLength', params: { limit: 63 }, message: 'must NOT have more than 63 characters' },
      'body', userBody, { name: 'a'.repeat(300) },
      "user name is too long (300 characters; at most 63 of a-z, 0-9 and '-')",
    ],
    [
      'another field too long',
      { instancePath: '/note', keyword: 'maxLength', params: { limit: 10 } },
      'body', untitled, { note: 'x'.repeat(12) },
      'note in the request body is too long (12 characters; at most 10)',
    ],
    ['a missing name', { instancePath: '', keyword: 'required', params: { missingProperty: 'name' } }, 'body', userBody, {}, 'user name is missing'],
    ['a name of the wrong type', { instancePath: '/name', keyword: 'type', params: { type: 'string' } }, 'body', userBody, { name: 1 }, 'user name must be a string'],
    ['a body that is no object', { instancePath: '', keyword: 'type', params: { type: 'object' } }, 'body', userBody, 'alice', 'the request body must be an object'],
    ['an unknown field', { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'admin' } }, 'body', userBody, {}, 'unknown field "admin" in the request body'],
    ['anything else', { instancePath: '/name', keyword: 'pattern', params: {}, message: 'must match pattern "^a"' }, 'params', userBody, {}, 'user name must match pattern "^a"'],
  ];
  for (const [what, issue, part, schema, input, message] of cases) assert.equal(validationMessage(issue, part, schema, input), message, what);
});

test("the relay's answers to names that fail the schema keep their code and say what is wrong", async (t) => {
  const relay = await createTestRelay(t);
  const cases: [method: 'POST' | 'GET' | 'DELETE', url: string, payload: unknown, message: string][] = [
    ['POST', '/v1/users', { name: 'a'.repeat(300) }, "user name is too long (300 characters; at most 63 of a-z, 0-9 and '-')"],
    ['POST', '/v1/users', {}, 'user name is missing'],
    ['DELETE', `/v1/users/${'b'.repeat(64)}`, undefined, "user name is too long (64 characters; at most 63 of a-z, 0-9 and '-')"],
    // Past the router's maxParamLength (100): no schema runs, the name rule is still said.
    ['GET', `/v1/tunnels/${'c'.repeat(300)}`, undefined, "a name in the URL is too long (at most 63 of a-z, 0-9 and '-')"],
    ['GET', `/v1/host?tunnel=${'e'.repeat(300)}`, undefined, "tunnel name is too long (300 characters; at most 63 of a-z, 0-9 and '-')"],
    // Within the schema's guard, the handler's own check words it the same way.
    ['GET', `/v1/tunnels/${'d'.repeat(100)}`, undefined, "tunnel name is too long (100 characters; at most 63 of a-z, 0-9 and '-')"],
  ];
  for (const [method, url, payload, message] of cases) {
    const res = await relay.app.inject({ method, url, headers: { ...bearer(ADMIN_TOKEN), 'sec-websocket-protocol': SUBPROTOCOL }, ...(payload === undefined ? {} : { payload: payload as object }) });
    assert.equal(res.statusCode, url.startsWith('/v1/tunnels/c') ? 414 : 400, url);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.message, message, url);
    assert.equal(body.code, url.startsWith('/v1/tunnels/d') ? ErrorCode.INVALID_TUNNEL_NAME : ErrorCode.INVALID_ARGUMENT, url);
  }
});
