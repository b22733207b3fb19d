import { html } from 'lit';
import { api } from '../api.js';
import { count } from '../format.js';
import { Page } from '../parts/page.js';

interface RateLimits {
  shadow: boolean;
  rules: ({ name: string; scope?: string; rate?: number; burst?: number } & Record<string, unknown>)[];
  refusals: { rule: string; count: number }[];
}

/** The relay's rate-limit rules and how often each has refused. */
export class RateLimitsPage extends Page {
  private limits: RateLimits | undefined;

  async load(): Promise<void> {
    this.limits = await api<RateLimits>('GET', '/v1/admin/rate-limits');
  }

  protected override render() {
    const l = this.limits;
    const extra = (r: Record<string, unknown>): string => Object.entries(r).filter(([k]) => !['name', 'scope', 'rate', 'burst'].includes(k)).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
    return html`
      <h1 tabindex="-1">Rate limits</h1>
      <button type="button" class="secondary" @click=${() => this.refresh()}>Refresh</button>
      ${this.errorBox()}
      ${l ? html`
        <p class="hint" role="status">${l.shadow ? 'Shadow mode: decisions are counted and audited, nothing is refused.' : 'Enforced.'}</p>
        <h2>Rules</h2>
        <div class="scroll"><table>
          <thead><tr><th scope="col">Rule</th><th scope="col">Scope</th><th scope="col">Rate</th><th scope="col">Burst</th><th scope="col">Other</th></tr></thead>
          <tbody>${l.rules.map((r) => html`<tr><th scope="row">${r.name}</th><td>${r.scope ?? '–'}</td><td>${r.rate ?? '–'}</td><td>${r.burst ?? '–'}</td><td>${extra(r)}</td></tr>`)}</tbody>
        </table></div>
        <h2>Refusals</h2>
        ${l.refusals.length === 0 ? html`<p class="hint">None so far.</p>` : html`<table class="compact"><thead><tr><th scope="col">Rule</th><th scope="col">Refused</th></tr></thead>
          <tbody>${l.refusals.map((r) => html`<tr><th scope="row">${r.rule}</th><td>${count(r.count)}</td></tr>`)}</tbody></table>`}` : ''}`;
  }
}

customElements.define('rate-limits-page', RateLimitsPage);
