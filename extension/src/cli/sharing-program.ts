import type { Command } from 'commander';
import { TUNNEL_ROLES } from '../core/sharing-types.js';
import { action, examples, group, TUNNEL_ARGUMENT, type RunContext } from './commands.js';
import { addClientOptions, FlagOption, flagValues } from './flags.js';

// The sharing commands' tree: invite, access, members, and `tunnel set`. Their actions load on
// demand (sharing-commands.ts), as every other command's: help and completion stay light.

const load = () => import('./sharing-commands.js');
const jsonFlag = (): FlagOption => new FlagOption('--json', "the relay's answer as one JSON document, for scripts");
const roleFlag = (what: string, shown: { default?: string } = {}): FlagOption => new FlagOption('--role <role>', what, { choices: TUNNEL_ROLES, ...shown });
const DURATION = 'e.g. 30s, 15m, 2h, 7d or 1h30m';

function addInviteCommands(program: Command, ctx: RunContext): void {
  const invite = addClientOptions(program.command('invite').summary('invite people to a tunnel with a code').description('Create, list, revoke and accept invites: a code that gives a role on a tunnel to whoever accepts it (owner and admins create them).'));
  group(invite, 'invite action');
  examples(invite, [
    ['CODE=$(tether invite create laptop)', 'a code for one person, valid a day; send it to them'],
    ['tether invite accept "$CODE"', 'as the invitee: then tether proxy laptop works'],
  ]);

  const create = addClientOptions(invite.command('create')
    .description('Create an invite to tunnel NAME and print its code (alone, on stdout); a summary and the VS Code link go to stderr.')
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(roleFlag('the role it gives', { default: 'connect' }))
    .addOption(new FlagOption('--expires <duration>', `how long the code may be accepted, ${DURATION}; at most 30d`, { default: '1d' }))
    .addOption(new FlagOption('--uses <n>', 'how many people may accept it (1-1000)', { default: 1 }))
    .addOption(new FlagOption('--user <name>', 'only this user may accept it')));
  examples(create, [
    ['tether invite create laptop', 'one use, connect role, valid a day'],
    ['tether invite create laptop --role view --uses 10 --expires 7d', 'for a team of ten, a week'],
    ['tether invite create laptop --user bob --role admin', 'only bob may accept it'],
  ]);
  action(ctx, create, async ([name]) => (await load()).inviteCreateCommand(name, flagValues(create)));

  const list = addClientOptions(invite.command('list')
    .description("List tunnel NAME's invites, one per line: ID, ROLE, STATE, USES/MAX, EXPIRES, USER (tab-separated; a header only on a terminal).")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(jsonFlag()));
  examples(list, [
    ['tether invite list laptop', 'e.g. inv_x1  connect  active  0/1  2026-12-02T05:00:00.000Z  -'],
    ["tether invite list laptop --json | jq -r '.invites[] | select(.state == \"active\") | .id'", 'the ids of the active ones'],
  ]);
  action(ctx, list, async ([name]) => (await load()).inviteListCommand(name, flagValues(list)));

  const revoke = addClientOptions(invite.command('revoke')
    .description('Revoke an invite, given its code or its id (from invite list): it can no longer be accepted; who accepted it keeps access (see members remove).')
    .argument('<code-or-id>', 'invite code or id'));
  examples(revoke, [
    ['tether invite revoke "$CODE"', 'by its code'],
    ['tether invite revoke inv_x1', 'by its id'],
  ]);
  action(ctx, revoke, async ([codeOrId]) => (await load()).inviteRevokeCommand(codeOrId, flagValues(revoke)));

  const accept = addClientOptions(invite.command('accept')
    .description('Accept an invite: you may use its tunnel at once, or, when the tunnel requires approval, your access request id is printed on stdout and waits for its reviewers.')
    .argument('<code>', 'invite code'));
  examples(accept, [
    ['tether invite accept "$CODE"', 'then: ssh -o ProxyCommand="tether proxy laptop" me@laptop'],
  ]);
  action(ctx, accept, async ([code]) => (await load()).inviteAcceptCommand(code, flagValues(accept)));
}

function addAccessCommands(program: Command, ctx: RunContext): void {
  const access = addClientOptions(program.command('access').summary('ask for access to a tunnel, and review requests').description('Ask for a role on a tunnel for a while, and approve or deny what others ask for (owner and admins; a tunnel may need several approvals).'));
  group(access, 'access action');
  examples(access, [
    ['tether access request laptop --for 2h --reason "deploy"', 'prints the request id'],
    ['tether access list --pending', 'what waits for you (and your own requests)'],
    ['tether access approve req_x1', 'as the owner or an admin'],
  ]);

  const request = addClientOptions(access.command('request')
    .description('Ask for a role on tunnel NAME for a while; the request id goes to stdout.')
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(roleFlag('the role asked for', { default: 'connect' }))
    .addOption(new FlagOption('--for <duration>', `how long the access lasts once approved, ${DURATION}`, { default: "8h, or the tunnel's longest if shorter" }))
    .addOption(new FlagOption('--reason <text>', 'why, for the reviewers (one line, at most 500 characters)')));
  examples(request, [
    ['REQ=$(tether access request laptop --for 1h30m --reason "fix the build")', 'connect, for an hour and a half'],
    ['tether access request laptop --role view', 'view only, the default duration'],
  ]);
  action(ctx, request, async ([name]) => (await load()).accessRequestCommand(name, flagValues(request)));

  const list = addClientOptions(access.command('list')
    .description('List your access requests and those you may review, newest first: ID, TUNNEL, USER, ROLE, STATUS, APPROVALS n/N, DURATION (tab-separated; a header only on a terminal).')
    .addOption(new FlagOption('--pending', 'only those waiting for approval'))
    .addOption(jsonFlag()));
  examples(list, [
    ['tether access list --pending', 'e.g. req_x1  laptop  bob  connect  pending  0/1  2h'],
    ['tether access list --json', 'with reasons and reviews'],
  ]);
  action(ctx, list, async () => (await load()).accessListCommand(flagValues(list)));

  for (const decision of ['approve', 'deny'] as const) {
    const review = addClientOptions(access.command(decision)
      .description(decision === 'approve' ? 'Approve an access request (not your own); it is granted once it has the approvals its tunnel needs.' : 'Deny an access request (not your own): it is closed.')
      .argument('<id>', 'access request id')
      .addOption(new FlagOption('--reason <text>', 'why, recorded with the review')));
    examples(review, [[`tether access ${decision} req_x1${decision === 'deny' ? ' --reason "not this week"' : ''}`, decision === 'approve' ? 'one approval' : 'closes the request']]);
    action(ctx, review, async ([id]) => (await load()).accessReviewCommand(id, decision, flagValues(review)));
  }
}

function addMembersCommands(program: Command, ctx: RunContext): void {
  const members = addClientOptions(program.command('members')
    .summary("see and change who may use a tunnel")
    .description("List tunnel NAME's members, one per line: USER, ROLE, EXPIRES, STATE (active or blocked), SOURCE (invite, request or direct), tab-separated; or change them (owner and admins).")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(jsonFlag()));
  examples(members, [
    ['tether members laptop', 'e.g. bob  connect  never  active  invite'],
    ['tether members laptop --json', 'with the owner'],
  ]);
  action(ctx, members, async ([name]) => (await load()).membersCommand(name, flagValues(members)));

  const remove = addClientOptions(members.command('remove')
    .description("Take a member's role away: its open connections to the tunnel are closed at once.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .argument('<user>', 'user name'));
  examples(remove, [['tether members remove laptop bob', "bob's ssh sessions through laptop end now"]]);
  action(ctx, remove, async ([name, user]) => (await load()).memberRemoveCommand(name, user, flagValues(remove)));

  for (const blocked of [true, false]) {
    const verb = blocked ? 'block' : 'unblock';
    const cmd = addClientOptions(members.command(verb)
      .description(blocked ? 'Block a user on the tunnel: beats every role and invite, and closes its open connections.' : 'Unblock a user on the tunnel: its role (if any) applies again.')
      .argument('<name>', TUNNEL_ARGUMENT)
      .argument('<user>', 'user name'));
    examples(cmd, [[`tether members ${verb} laptop mallory`, blocked ? 'mallory may not use laptop, whatever she is given' : 'mallory is no longer blocked']]);
    action(ctx, cmd, async ([name, user]) => (await load()).memberBlockCommand(name, user, blocked, flagValues(cmd)));
  }

  const set = addClientOptions(members.command('set')
    .description('Give a user a role on the tunnel, or change it (only the owner gives or takes admin).')
    .argument('<name>', TUNNEL_ARGUMENT)
    .argument('<user>', 'user name')
    .addOption(roleFlag('the role (required)'))
    .addOption(new FlagOption('--expires <duration>', `when the role lapses, from now, ${DURATION}`, { default: 'never' })));
  examples(set, [
    ['tether members set laptop bob --role connect', 'bob may connect, until removed'],
    ['tether members set laptop carol --role view --expires 7d', 'carol may view for a week'],
  ]);
  action(ctx, set, async ([name, user]) => (await load()).memberSetCommand(name, user, flagValues(set)));
}

/** `tether tunnel set`, below the existing `tunnel` group. */
export function addTunnelSetCommand(tunnel: Command, ctx: RunContext): void {
  const set = addClientOptions(tunnel.command('set')
    .description("Change tunnel NAME's sharing settings (any of the three); the resulting settings are printed on stderr.")
    .argument('<name>', TUNNEL_ARGUMENT)
    .addOption(new FlagOption('--approval <mode>', 'required: every new member, invitees too, needs approval through an access request', { choices: ['required', 'none'] }))
    .addOption(new FlagOption('--approvals <n>', 'approvals a request needs (1-10)'))
    .addOption(new FlagOption('--max-duration <duration>', `longest access a request may give, ${DURATION}, or none`)));
  examples(set, [
    ['tether tunnel set laptop --approval required --approvals 2', 'two reviewers for every newcomer'],
    ['tether tunnel set laptop --max-duration 1d', 'requests give at most a day'],
  ]);
  action(ctx, set, async ([name]) => (await load()).tunnelSetCommand(name, flagValues(set)));
}

/** invite, access and members, in the order the help lists them. */
export function addSharingCommands(program: Command, ctx: RunContext): void {
  addInviteCommands(program, ctx);
  addAccessCommands(program, ctx);
  addMembersCommands(program, ctx);
}
