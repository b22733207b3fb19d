import { html } from 'lit';
import { api, query } from '../api.js';
import { field, time } from '../format.js';
import { Page } from '../parts/page.js';

interface Entry {
  index: number;
  time: string;
  event: string;
  actor: string;
  target: string;
  outcome: string;
  node: string;
  details: Record<string, unknown> | null;
}

/** What GET /admin/api/audit/verify says of the stored chain. */
interface Verdict {
  ok: boolean;
  records: number;
  first: number;
  root: string | null;
  checkpoints: number;
  checkpointsChecked: number;
  problem?: { kind: string; index: number | null; message: string };
  verifiedAt: string;
}

type Filter = Partial<Record<'actor' | 'event' | 'tunnel' | 'outcome' | 'from' | 'to', string>>;

/** A datetime-local value (local time) as ISO UTC, or undefined. */
const isoOf = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

/** The audit log filtered and paged, the chain's signed checkpoints, and JSONL/CEF export. */
export class AuditPage extends Page {
  private entries: Entry[] = [];
  private next: number | null = null;
  private pages: number[] = [];
  private filter: Filter = {};
  private verdict: Verdict | undefined;
  private keys: number | undefined;
  private chainError: string | undefined;

  async load(): Promise<void> {
    const after = this.pages[this.pages.length - 1];
    const page = await api<{ entries: Entry[]; next: number | null }>('GET', `/v1/audit${query({ ...this.filter, after, limit: 100 })}`);
    this.entries = page.entries;
    this.next = page.next;
    try {
      this.verdict = await api<Verdict>('GET', '/admin/api/audit/verify');
      this.keys = (await api<{ keys: unknown[] }>('GET', '/v1/audit/keys')).keys.length;
      this.chainError = undefined;
    } catch (err) {
      this.verdict = undefined;
      this.chainError = err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.message}` : String(err);
    }
  }

  private apply(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const get = (k: string): string => field(form, k);
    this.filter = { actor: get('actor'), event: get('event'), tunnel: get('tunnel'), outcome: get('outcome'), from: isoOf(get('from')), to: isoOf(get('to')) };
    this.pages = [];
    void this.refresh();
  }

  private exportHref(format: 'jsonl' | 'cef'): string {
    return `/v1/audit/export${query({ ...this.filter, format })}`;
  }

  private chain() {
    if (this.chainError) return html`<p class="chain" role="status"><span class="bad">Chain not verified</span>: ${this.chainError}</p>`;
    const v = this.verdict;
    if (!v) return '';
    const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
    return html`<p class="chain" role="status" data-testid="chain">
      ${v.ok
        ? html`<span class="ok">Chain verified</span>: ${plural(v.records, 'record', 'records')}${v.first > 0 ? ` from #${v.first} (older ones pruned)` : ''} chained and canonical; ${v.checkpointsChecked} of ${plural(v.checkpoints, 'signed checkpoint', 'signed checkpoints')} checked (signature and Merkle root)`
        : html`<span class="bad">Chain broken</span>${v.problem?.index !== null && v.problem?.index !== undefined ? ` at record #${v.problem.index}` : ''}: ${v.problem?.message ?? 'unknown problem'}`}
      · ${plural(this.keys ?? 0, 'public key', 'public keys')} · checked by the relay ${time(v.verifiedAt)}. Verify an export independently with <code>tether audit verify</code>.</p>`;
  }

  protected override render() {
    const f = this.filter;
    return html`
      <h1 tabindex="-1">Audit</h1>
      ${this.chain()}
      <form class="filters" role="search" aria-label="Filter the audit log" @submit=${(e: SubmitEvent) => this.apply(e)}>
        <label>Actor <input name="actor" .value=${f.actor ?? ''} maxlength="200"></label>
        <label>Event <input name="event" .value=${f.event ?? ''} maxlength="64" placeholder="e.g. admin.signed_in"></label>
        <label>Tunnel <input name="tunnel" .value=${f.tunnel ?? ''} maxlength="64"></label>
        <label>Outcome <select name="outcome"><option value="">any</option><option value="success" ?selected=${f.outcome === 'success'}>success</option><option value="failure" ?selected=${f.outcome === 'failure'}>failure</option></select></label>
        <label>From <input name="from" type="datetime-local" step="1"></label>
        <label>To <input name="to" type="datetime-local" step="1"></label>
        <button type="submit">Filter</button>
        <a class="button secondary" href=${this.exportHref('jsonl')} download="tether-audit.jsonl">Export JSONL</a>
        <a class="button secondary" href=${this.exportHref('cef')} download="tether-audit.cef">Export CEF</a>
      </form>
      ${this.errorBox()}
      <p class="hint" role="status">${this.entries.length === 0 ? 'No records match.' : `${this.entries.length} ${this.entries.length === 1 ? 'record' : 'records'} from #${this.entries[0].index}`}</p>
      <div class="scroll"><table class="audit">
        <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Node</th><th scope="col">Details</th></tr></thead>
        <tbody>${this.entries.map((e) => html`<tr>
          <td>${e.index}</td><td>${time(e.time)}</td><td><code>${e.event}</code></td><td>${e.actor}</td><td>${e.target}</td>
          <td><span class=${e.outcome === 'failure' ? 'bad' : 'ok'}>${e.outcome}</span></td><td>${e.node}</td>
          <td class="details">${e.details ? JSON.stringify(e.details) : html`<span class="muted">sealed</span>`}</td></tr>`)}</tbody>
      </table></div>
      <nav class="pager" aria-label="Audit pages">
        <button type="button" class="secondary" ?disabled=${this.pages.length === 0} @click=${() => { this.pages.pop(); void this.refresh(); }}>Previous</button>
        <button type="button" class="secondary" ?disabled=${this.next === null} @click=${() => { if (this.next !== null) this.pages.push(this.next); void this.refresh(); }}>Next</button>
      </nav>`;
  }
}

customElements.define('audit-page', AuditPage);
