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

interface Checkpoint {
  size?: number;
  root?: string;
  time?: string;
  at?: string;
  keyId?: string;
  kid?: string;
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
  private checkpoints: Checkpoint[] | undefined;
  private keys: number | undefined;
  private chainError: string | undefined;

  async load(): Promise<void> {
    const after = this.pages[this.pages.length - 1];
    const page = await api<{ entries: Entry[]; next: number | null }>('GET', `/v1/audit${query({ ...this.filter, after, limit: 100 })}`);
    this.entries = page.entries;
    this.next = page.next;
    try {
      this.checkpoints = (await api<{ checkpoints: Checkpoint[] }>('GET', '/v1/audit/checkpoints?limit=10000')).checkpoints;
      this.keys = (await api<{ keys: unknown[] }>('GET', '/v1/audit/keys')).keys.length;
      this.chainError = undefined;
    } catch (err) {
      this.chainError = err instanceof Error ? err.message : String(err);
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
    if (this.chainError) return html`<p class="hint">Chain status unavailable: ${this.chainError}</p>`;
    if (!this.checkpoints) return '';
    const last = this.checkpoints[this.checkpoints.length - 1];
    return html`<p class="chain" role="status">
      ${this.checkpoints.length === 0 ? html`<span class="muted">No signed checkpoint yet.</span>` : html`<span class="ok">Signed checkpoints</span>: ${this.checkpoints.length}, the latest covering ${last.size ?? '?'} ${last.size === 1 ? 'record' : 'records'}, signed ${time(last.time ?? last.at)}`}
      · ${this.keys ?? 0} public ${this.keys === 1 ? 'key' : 'keys'}. Verify the exported log offline with <code>tether audit verify</code>.</p>`;
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
