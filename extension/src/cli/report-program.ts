import type { Command } from 'commander';
import { action, examples, group, type RunContext } from './commands.js';
import { addClientOptions, FlagOption, flagValues } from './flags.js';
import { FRAMEWORK_IDS } from '../core/compliance/frameworks.js';
import { DEFAULT_PERIOD_DAYS, REPORT_FORMATS } from './report-period.js';

// Reports made from the audit log; the action loads on demand (report-commands.ts).

const load = () => import('./report-commands.js');
const DATE = 'YYYY-MM-DD (UTC) or ISO 8601';

/** `tether report compliance`. */
export function addReportCommands(program: Command, ctx: RunContext): void {
  const report = program.command('report').summary('compliance reports from the audit log')
    .description("Reports made from the relay's audit log, verified where they are made (with the admin token).");
  group(report, 'report kind');
  examples(report, [
    ['tether report compliance --framework soc2 --out soc2.html', 'the last 90 days of evidence for SOC 2, as HTML'],
  ]);

  const compliance = addClientOptions(report.command('compliance')
    .summary('evidence for SOC 2, ISO 27001 or HIPAA controls, with the gaps found (HTML, JSON, PDF)')
    .description([
      "Evidence for the controls of a framework that Tether's audit log speaks to (SOC 2 CC6.1-CC6.3, CC6.6, CC7.2; ISO/IEC 27001:2022 A.5.15, A.5.16, A.5.18, A.8.5, A.8.15, A.8.16; HIPAA §164.312(a)(1), (b), (c)(1), (d)): who holds access to what and since when, grants and removals, reviews and their approvers, failed sign-ins, sessions per tunnel and admin actions over the period, the log verified here with the relay's public keys and checkpoints, and the gaps found.",
      'HTML for people (no scripts), JSON for tools, PDF printed from the HTML by headless Chromium. Written to FILE with mode 0600: it names people and addresses.',
    ].join('\n'))
    .addOption(new FlagOption('--framework <name>', 'the framework (required)', { choices: [...FRAMEWORK_IDS] }))
    .addOption(new FlagOption('--from <date>', `start of the period, ${DATE} (default: ${DEFAULT_PERIOD_DAYS} days before its end)`))
    .addOption(new FlagOption('--to <date>', `end of the period, ${DATE}; a date alone takes in that whole day (default: now)`))
    .addOption(new FlagOption('--format <format>', 'html, json or pdf (default: from the extension of FILE, else html)', { choices: [...REPORT_FORMATS] }))
    .addOption(new FlagOption('--out <file>', 'write the report to FILE (required; through FILE.tmp, mode 0600)', { path: true })), 'the admin token');
  examples(compliance, [
    ['tether report compliance --framework soc2 --from 2026-10-01 --to 2026-12-31 --out soc2-q4.html', 'a quarter, for the auditor'],
    ['tether report compliance --framework iso27001 --format pdf --out iso.pdf', 'the last 90 days as PDF (needs chromium)'],
    ['tether report compliance --framework hipaa --out hipaa.json && jq \'.controls[] | {id, gaps}\' hipaa.json', 'the gaps, for a script'],
  ]);
  action(ctx, compliance, async () => (await load()).complianceCommand(flagValues(compliance)));
}
