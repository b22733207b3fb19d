import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exitCodeOf, formatError } from './output.js';
import { run } from './program.js';

/** The CLI in this process, failures as main.ts prints them; no relay is needed: these fail first. */
async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io = { out: () => undefined, err: (text: string) => (err += text) };
  try {
    return { code: await run(argv, io), err };
  } catch (failure) {
    return { code: exitCodeOf(failure), err: `${err}${formatError(failure)}\n` };
  }
}

describe('sharing commands: usage errors, before anything is sent', () => {
  const cases: [argv: string[], line: string, help: string][] = [
    [['invite', 'create', 'box', '--expires', '5x'], '--expires must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got "5x"', 'invite create'],
    [['invite', 'create', 'box', '--uses', '0'], '--uses must be a whole number from 1 to 1000, got "0"', 'invite create'],
    [['invite', 'create', 'box', '--role', 'owner'], '--role must be one of admin, connect, view, got "owner"', 'invite create'],
    [['invite', 'create'], 'missing tunnel name', 'invite create'],
    [['invite', 'revoke', 'not an id'], '"not an id" is neither an invite code nor an invite id', 'invite revoke'],
    [['invite'], 'missing invite action: create, list, revoke or accept', 'invite'],
    [['access', 'request', 'box', '--for', '30'], '--for must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got "30"', 'access request'],
    [['access', 'approve'], 'missing access request id', 'access approve'],
    [['access', 'frobnicate'], 'unknown access action "frobnicate": request, list, approve or deny', 'access'],
    [['members', 'set', 'box', 'bob'], 'missing --role (admin, connect or view)', 'members set'],
    [['members', 'set', 'box', 'bob', '--role', 'view', '--expires', 'soon'], '--expires must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got "soon"', 'members set'],
    [['members', 'remove', 'box'], 'missing user name', 'members remove'],
    [['members'], 'missing tunnel name', 'members'],
    [['tunnel', 'set', 'box'], 'nothing to change: give --approval, --approvals or --max-duration', 'tunnel set'],
    [['tunnel', 'set', 'box', '--approval', 'maybe'], '--approval must be one of required, none, got "maybe"', 'tunnel set'],
    [['tunnel', 'set', 'box', '--approvals', '11'], '--approvals must be a whole number from 1 to 10, got "11"', 'tunnel set'],
    [['tunnel', 'set', 'box', '--max-duration', '1w'], '--max-duration must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got "1w"', 'tunnel set'],
  ];
  for (const [argv, line, help] of cases) {
    test(`tether ${argv.join(' ')}: exit 2, one line and the pointer to its help`, async () => {
      const result = await cli(...argv, '--token', 't');
      assert.equal(result.code, 2, result.err);
      assert.equal(result.err, `tether: ${line}\nRun 'tether help ${help}' for usage.\n`);
    });
  }
});
