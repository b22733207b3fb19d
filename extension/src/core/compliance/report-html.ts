import type { SectionId } from './frameworks.js';
import type { ComplianceReport } from './report.js';

/** Text made safe for HTML, in element content and in quoted attributes alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A row's cells: strings are escaped; `{html}` is markup made here. */
type Cell = string | number | { html: string };
const cell = (c: Cell): string => (typeof c === 'object' ? c.html : escapeHtml(c));

function table(caption: string, head: string[], rows: Cell[][], empty: string, numeric: number[] = []): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  const th = head.map((h, i) => `<th scope="col"${numeric.includes(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${cell(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** `2026-12-01T10:46:57.141Z` → `2026-12-01 10:46:57 UTC`. */
export function timeText(iso: string | null): string {
  if (iso === null) return 'never';
  return Number.isNaN(Date.parse(iso)) ? iso : `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]} (${n} B)`;
}

export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

const TITLES: Record<SectionId, string> = {
  integrity: 'Integrity of the log',
  accessHolders: 'Who holds access at the end of the period',
  grants: 'Access granted',
  removals: 'Access removed or ended',
  reviews: 'Access reviews',
  signIns: 'Sign-ins',
  failedSignIns: 'Failed sign-ins',
  denied: 'Access refused',
  sessions: 'Sessions per tunnel',
  adminActions: 'Administrative actions',
};

const link = (id: SectionId) => `<a href="#${id}">${escapeHtml(TITLES[id])}</a>`;

function sections(r: ComplianceReport): Record<SectionId, string> {
  const e = r.evidence;
  const i = r.integrity;
  const verdict = i.ok
    ? `<p class="ok">Intact: ${i.records} records (0..${i.records - 1}) verified where this report was made (hash chain, and ${i.checkpointsChecked} signed checkpoint${i.checkpointsChecked === 1 ? '' : 's'}), Merkle root <code>${escapeHtml(i.root ?? '-')}</code>.</p>`
    : `<p class="bad">Not intact: ${escapeHtml(i.problem?.message ?? 'unknown problem')} (${escapeHtml(i.problem?.kind ?? '?')}${i.problem?.index === null || i.problem?.index === undefined ? '' : `, record ${i.problem.index}`}).</p>`;
  const covering = i.covering
    ? `<p>The period's last record (index ${escapeHtml(e.records.last)}) is covered by the checkpoint of ${i.covering.size} records signed ${escapeHtml(timeText(i.covering.time))} by key <code>${escapeHtml(i.covering.kid)}</code>.</p>`
    : `<p class="bad">No verified checkpoint covers the period's last record.</p>`;
  return {
    integrity: `${verdict}${e.records.last === null ? '' : covering}
<table class="meta"><tbody>
<tr><td>Records in the period</td><td>${e.records.inPeriod}${e.records.first === null ? '' : ` (indexes ${e.records.first}..${e.records.last})`}</td></tr>
<tr><td>Records replayed for access held</td><td>${e.records.replayed} (from index 0 to the period's end)</td></tr>
<tr><td>Details unreadable</td><td>${e.records.unreadable} (records whose details key is no longer on the relay)</td></tr>
<tr><td>Differing from the log</td><td>${i.mismatched.length} (records the relay showed whose fields differ from the verified export)</td></tr>
</tbody></table>`,
    accessHolders: `<p>Replayed from the log's first record to the end of the period: owners from tunnel claims, members from grants, less removals, blocks, expiries and deletions.</p>${table('Access held at the end of the period', ['Tunnel', 'User', 'Role', 'How given', 'Since', 'Last changed', 'Expires', 'Granted by'], e.accessHolders.map((h) => [h.tunnel, h.user, h.role, h.source, timeText(h.since), timeText(h.changedAt), timeText(h.expiresAt), h.grantedBy]), 'Nobody holds access.')}`,
    grants: table('Grants in the period', ['Record', 'Time', 'Tunnel', 'User', 'Role', 'How given', 'Expires', 'By'], e.grants.map((g) => [g.index, timeText(g.time), g.tunnel, g.user, g.role, g.source, timeText(g.expiresAt), g.by]), 'No access was granted in the period.', [0]),
    removals: table('Access ended in the period', ['Record', 'Time', 'Tunnel', 'User', 'Role', 'How', 'By'], e.removals.map((x) => [x.index ?? '-', timeText(x.time), x.tunnel, x.user, x.role, x.how, x.by]), 'No access ended in the period.', [0]),
    reviews: table('Access requests reviewed or opened in the period', ['Request', 'Tunnel', 'Asked by', 'Role', 'Asked', 'Reviewers (decision, time)', 'Outcome', 'Until'], e.reviews.map((v) => [v.request, v.tunnel, v.user ?? '?', v.role ?? '?', timeText(v.requestedAt), { html: v.reviewers.length === 0 ? 'none yet' : v.reviewers.map((x) => `${escapeHtml(x.by)}: ${escapeHtml(x.decision)}, ${escapeHtml(timeText(x.time))}`).join('<br>') }, v.outcome, v.until ? timeText(v.until) : '-']), 'No access request was opened or reviewed in the period.'),
    signIns: table('Relay connections allowed (relay.connect), per user', ['User', 'Sign-ins'], e.signIns.map((s) => [s.user, s.count]), 'No relay connection was made in the period.', [1]),
    failedSignIns: `<p>${e.failedSignIns.total} failed sign-in${e.failedSignIns.total === 1 ? '' : 's'} (a missing or unknown token). Refused tokens are kept only as keyed fingerprints: the count of distinct ones tried is shown.</p>${table('Failed sign-ins by client address', ['Address', 'Failures', 'Distinct tokens', 'First', 'Last'], e.failedSignIns.bySource.map((s) => [s.address, s.count, s.tokens, timeText(s.first), timeText(s.last)]), 'No sign-in failed in the period.', [1, 2])}`,
    denied: table('Actions refused by the access policy', ['Actor', 'Action', 'Target', 'Rule', 'Times'], e.denied.map((d) => [d.actor, d.action, d.target, d.rule, d.count]), 'No action was refused in the period.', [4]),
    sessions: `<p>A session is a stream through a tunnel that ended in the period (a stream still open at its end is not counted). Bytes are payload: up is towards the shared service.</p>${table('Sessions per tunnel', ['Tunnel', 'Sessions', 'Up', 'Down', 'Total time', 'Users', 'Opens refused'], e.sessionsPerTunnel.map((s) => [s.tunnel, s.sessions, bytesText(s.up), bytesText(s.down), durationText(s.durationMs), s.users.join(', '), s.refused]), 'No session ended in the period.', [1, 2, 3, 4, 6])}`,
    adminActions: table('Users, tunnels and settings changed', ['Record', 'Time', 'Event', 'By', 'Target'], e.adminActions.map((a) => [a.index, timeText(a.time), a.event, a.actor, a.target]), 'No administrative action was recorded in the period.', [0]),
  };
}

const STYLE = `
body{font:10.5pt/1.45 "DejaVu Sans",Arial,sans-serif;color:#111;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;border-bottom:2px solid #333;margin-top:1.6em;padding-bottom:.1em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em;font-size:.92em}
caption{text-align:left;font-weight:bold;padding:.2em 0}
th,td{border:1px solid #999;padding:.25em .45em;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#e8e8e8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{break-inside:avoid}.meta td:first-child{width:13em;font-weight:bold}
.ok{color:#0a5d1a;font-weight:bold}.bad{color:#a00000;font-weight:bold}
.gap{color:#a00000}.nogap{color:#0a5d1a}
.control{border:1px solid #bbb;padding:.2em .9em .6em;margin:.8em 0;break-inside:avoid}
.asks{font-style:italic}.empty{color:#555;font-style:italic}
code{font-size:.85em;overflow-wrap:anywhere}
@page{size:A4;margin:14mm 12mm}
@media print{body{margin:0;max-width:none;padding:0}a{color:inherit;text-decoration:none}h2{break-after:avoid}tr,.control{break-inside:avoid}thead{display:table-header-group}}
`;

/**
 * The report as one self-contained HTML page for an auditor: semantic tables, print CSS, no
 * script (the page forbids them), every value from the log escaped (names are anyone's input).
 */
export function renderHtml(r: ComplianceReport): string {
  const body = sections(r);
  const order: SectionId[] = ['integrity', 'accessHolders', 'grants', 'removals', 'reviews', 'signIns', 'failedSignIns', 'denied', 'sessions', 'adminActions'];
  const summary = table('Controls and gaps', ['Control', 'Title', 'Result'], r.controls.map((c) => [
    { html: `<a href="#control-${escapeHtml(c.id)}">${escapeHtml(c.id)}</a>` },
    c.title,
    { html: c.gaps.length === 0 ? '<span class="nogap">evidence, no gap found</span>' : `<span class="gap">${c.gaps.length} gap${c.gaps.length === 1 ? '' : 's'}</span>` },
  ]), 'No control.');
  const controls = r.controls.map((c) => `<section class="control" id="control-${escapeHtml(c.id)}">
<h3>${escapeHtml(c.id)} ${escapeHtml(c.title)}</h3>
<p class="asks">What it asks: ${escapeHtml(c.asks)}</p>${c.scope ? `\n<p>Scope: ${escapeHtml(c.scope)}</p>` : ''}
<p>Evidence: ${c.evidence.map(link).join(', ')}.</p>
${c.gaps.length === 0 ? '<p class="nogap">No gap found in the period.</p>' : `<p class="gap">Gaps:</p><ul>${c.gaps.map((g) => `<li class="gap">${escapeHtml(g.text)}</li>`).join('')}</ul>`}
</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(`Tether compliance report: ${r.framework.name}, ${r.period.from.slice(0, 10)} to ${r.period.to.slice(0, 10)}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Compliance evidence: ${escapeHtml(r.framework.name)}</h1>
<table class="meta"><tbody>
<tr><td>Period</td><td>${escapeHtml(timeText(r.period.from))} to ${escapeHtml(timeText(r.period.to))}</td></tr>
<tr><td>Relay</td><td>${escapeHtml(r.relay)}</td></tr>
<tr><td>Generated</td><td>${escapeHtml(timeText(r.generatedAt))}</td></tr>
<tr><td>Audit log</td><td class="${r.integrity.ok ? 'ok' : 'bad'}">${r.integrity.ok ? 'verified intact' : 'did not verify'}</td></tr>
<tr><td>Controls with gaps</td><td>${r.controlsWithGaps} of ${r.controls.length}</td></tr>
<tr><td>Made by</td><td>tether report compliance (${escapeHtml(r.format)})</td></tr>
</tbody></table>
<p>Every figure below is counted from Tether's signed, hash-chained audit log for the period; the log was verified where this report was made, not by the relay. The control descriptions are summaries, not the framework's text.</p>
</header>
<main>
<h2>Summary</h2>
${summary}
<h2>Controls</h2>
${controls}
${order.map((id) => `<section id="${id}">\n<h2>${escapeHtml(TITLES[id])}</h2>\n${body[id]}\n</section>`).join('\n')}
</main>
</body>
</html>
`;
}
