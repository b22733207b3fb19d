import type { Command } from 'commander';
import { action, examples, group, type RunContext } from './commands.js';
import { addClientOptions, FlagOption, flagValues, pathArgument } from './flags.js';

// The audit log's commands: export, log, key, checkpoint(s) against a relay; verify and
// rotate-keys offline. Their actions load on demand (audit-commands.ts), as every other command's.

const load = () => import('./audit-commands.js');
const ADMIN = 'the admin token';
const TIME = 'ISO 8601, e.g. 2026-12-01 or 2026-12-01T09:30:00Z; no zone: local time';

/** The filters of export and log. */
function addFilterOptions(cmd: Command): Command {
  return cmd
    .optionsGroup('Filters:')
    .addOption(new FlagOption('--from <time>', `records at or after TIME, ${TIME}`))
    .addOption(new FlagOption('--to <time>', `records at or before TIME, ${TIME}`))
    .addOption(new FlagOption('--actor <actor>', 'who acted, e.g. user:alice#u1, admin, anonymous'))
    .addOption(new FlagOption('--event <code>', 'event code, e.g. user.created (docs/audit-events.md)'))
    .addOption(new FlagOption('--tunnel <name>', 'records about tunnel NAME (target tunnel:NAME)'))
    .addOption(new FlagOption('--target <target>', 'what it was done to, e.g. user:bob, relay'))
    .addOption(new FlagOption('--outcome <outcome>', 'success or failure', { choices: ['success', 'failure'] }));
}

const outFlag = (what: string, mode = ''): FlagOption => new FlagOption('--out <file>', `write ${what} to FILE${mode} instead of stdout (through FILE.tmp)`, { path: true });

/** `tether audit …`, in the order the help lists them. */
export function addAuditCommands(program: Command, ctx: RunContext): void {
  const audit = addClientOptions(program.command('audit').summary("export and verify the relay's signed audit log"), ADMIN)
    .description("Read, export and verify the relay's audit log: hash-chained records and signed checkpoints (with the admin token; verify and rotate-keys run offline).");
  group(audit, 'audit action');
  examples(audit, [
    ['tether audit export --out audit.jsonl && tether audit key --out audit.pem && tether audit checkpoints --out checkpoints.json', 'what verify needs'],
    ['tether audit verify audit.jsonl --key audit.pem --checkpoint checkpoints.json', 'offline: exit 0 when intact'],
  ]);

  const exporter = addFilterOptions(addClientOptions(audit.command('export')
    .description('Export the stored records, one per line (JSONL, exactly as the relay keeps them: what verify checks; or, with --format, as syslog, CEF or Splunk HEC events for a SIEM), to FILE or stdout; how many and their indexes go to stderr.')
    .addOption(new FlagOption('--format <format>', 'jsonl: the stored records (what verify checks); syslog (RFC 5424), cef or hec (Splunk HEC events, ECS fields): the same records for a SIEM, one per line', { default: 'jsonl' }))
    .addOption(outFlag('the records', ' (mode 0600)')), ADMIN));
  examples(exporter, [
    ['tether audit export --out audit.jsonl', 'the whole log'],
    ['tether audit export --tunnel laptop --from 2026-12-01 --outcome failure', 'refusals on laptop since December 1st (for reading: verify needs the whole log)'],
  ]);
  action(ctx, exporter, async () => (await load()).exportCommand(flagValues(exporter)));

  const verify = audit.command('verify')
    .summary('verify an export offline: exit 0 intact, 1 not intact, 2 could not verify')
    .description([
      'Verify an export offline (no relay, no token): every record matches its hash, the indexes run on, each record chains to the one before, and each checkpoint is signed by one of the keys and matches the records it covers (so records removed from the end are noticed).',
      'Intact: a summary on stdout. Not: the first bad record, or the checkpoint that does not hold, on stderr.',
      'Exit codes: 0 intact; 1 not intact (changed, removed, reordered or inserted records, truncation, a bad or unknown checkpoint signature); 2 could not verify (a command line, file or key that cannot be used).',
    ].join('\n'))
    .addArgument(pathArgument('<file>', 'the export (tether audit export --out FILE)'))
    .addOption(new FlagOption('--key <pemfile>', 'the public key(s), PEM (tether audit key --out FILE)', { path: true }))
    .addOption(new FlagOption('--checkpoint <file>', 'one checkpoint, or a JSON array of them oldest first (tether audit checkpoint(s) --out FILE); needs --key', { path: true }))
    .addOption(new FlagOption('--json', 'the verdict as one JSON document: ok, first, records, root, checkpointsChecked, problem {kind, index, message}'));
  examples(verify, [
    ['tether audit verify audit.jsonl --key audit.pem --checkpoint checkpoints.json', 'e.g. intact: 1234 records (0..1233), root 9f2c…, 2 checkpoints verified'],
    ['tether audit verify audit.jsonl --json | jq .problem', 'e.g. {"kind":"hash","index":17,"message":"record 17 does not match its hash: its content was changed"}'],
  ]);
  action(ctx, verify, async ([file]) => (await load()).verifyCommand(file, flagValues(verify)));

  const log = addFilterOptions(addClientOptions(audit.command('log')
    .description('List records, oldest first, one per line: INDEX, TIME, EVENT, ACTOR, TARGET, OUTCOME (tab-separated; a header only on a terminal); --json adds their details.')
    .addOption(new FlagOption('--after <index>', 'only records after INDEX (the next page: the index stderr names)'))
    .addOption(new FlagOption('--limit <n>', 'at most N records (1-1000)', { default: 100 }))
    .addOption(new FlagOption('--json', "the relay's answer as one JSON document, details opened")), ADMIN));
  examples(log, [
    ['tether audit log --event auth.failed', 'e.g. 3  2026-12-01T09:30:00.000Z  auth.failed  anonymous  relay  failure'],
    ['tether audit log --actor admin --json | jq \'.entries[].details\'', "what the admin did, with each record's details"],
  ]);
  action(ctx, log, async () => (await load()).logCommand(flagValues(log)));

  const key = addClientOptions(audit.command('key')
    .description("Print the relay's audit public keys as PEM, oldest first: what verify --key takes (any signed-in user may fetch them).")
    .addOption(outFlag('the keys')));
  examples(key, [['tether audit key --out audit.pem', 'keep it with the exports: it checks every checkpoint, old and new']]);
  action(ctx, key, async () => (await load()).keyCommand(flagValues(key)));

  const checkpoint = addClientOptions(audit.command('checkpoint')
    .description('Ask the relay to sign a checkpoint of the log now (its size and Merkle root), and print it as one line of JSON.')
    .addOption(outFlag('the checkpoint')), ADMIN);
  examples(checkpoint, [['tether audit checkpoint >> checkpoints.jsonl', 'keep checkpoints away from the relay: records removed later no longer match them']]);
  action(ctx, checkpoint, async () => (await load()).checkpointCommand(flagValues(checkpoint)));

  const checkpoints = addClientOptions(audit.command('checkpoints')
    .description('Print every stored checkpoint, oldest first, as a JSON array: what verify --checkpoint takes.')
    .addOption(outFlag('them')), ADMIN);
  examples(checkpoints, [['tether audit checkpoints --out checkpoints.json', 'then verify --checkpoint checkpoints.json']]);
  action(ctx, checkpoints, async () => (await load()).checkpointsCommand(flagValues(checkpoints)));

  const prune = addClientOptions(audit.command('prune')
    .description("Archive the records older than TIME into the relay's archive folder (DIR/audit-archive or --audit-archive), then prune them; a prune checkpoint keeps what remains verifiable on its own. Prints FROM, TO and the archive's name (tab-separated). The relay does this by itself with --audit-retention.")
    .addOption(new FlagOption('--before <time>', 'records older than this are pruned (ISO 8601, e.g. 2026-01-01)')), ADMIN);
  examples(prune, [['tether audit prune --before 2026-01-01', 'keep this year in the log; what came before is in the archive file']]);
  action(ctx, prune, async () => (await load()).pruneCommand(flagValues(prune)));

  const rotate = audit.command('rotate-keys')
    .summary('add new audit keys to a keys file, offline (then restart the relay)')
    .description("Add a new signing key and details key to a relay's audit keys file, offline, where the file lives; the old keys stay (old checkpoints still verify, old records stay readable). The new key ids go to stdout; restart the relay(s) to use them.")
    .addOption(new FlagOption('--keys <file>', 'the audit keys file (required; tether relay --audit-keys, DIR/audit-keys.json by default)', { path: true }));
  examples(rotate, [
    ['tether audit rotate-keys --keys tether-data/audit-keys.json', 'then restart the relay, and fetch the keys again with tether audit key'],
  ]);
  action(ctx, rotate, async () => (await load()).rotateKeysCommand(flagValues(rotate)));
}
