import { html } from 'lit';
import { api } from '../api.js';
import { count, time } from '../format.js';
import { Page } from '../parts/page.js';

interface RateLimits {
  node: string;
  enabled: boolean;
  shadow: boolean;
  rules: { rule: string; off: boolean; rate?: number; periodMs?: number; burst?: number; lockoutMs?: number }[];
  refusals: { byRule: { rule: string; count: number; lastAt: string }[]; recent: { at: string; rule: string; key: string }[] };
}

/** A period in words: 1 s, 1 min, 1 h. */
const period = (ms: number | undefined): string =>
  ms === undefined ? '–' : ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;

/** The relay's rate-limit rules and the refusals counted on this node. */
export class RateLimitsPage extends Page {
  private limits: RateLimits | undefined;

  async load(): Promise<void> {
    this.limits = await api<RateLimits>('GET', '/v1/admin/rate-limits');
  }

  protected override render() {
    const l = this.limits;
    return html`
      <h1 tabindex="-1">Rate limits</h1>
      <button type="button" class="secondary" @click=${() => this.refresh()}>Refresh</button>
      ${this.errorBox()}
      ${l ? html`
        <p class="hint" role="status">${!l.enabled ? 'Rate limits are off on this relay (--rate-limits off).' : l.shadow ? 'Shadow mode: decisions are counted and audited, nothing is refused.' : 'Enforced.'} Refusals below are those counted by node ${l.node}.</p>
        <h2>Rules</h2>
        <div class="scroll"><table>
          <thead><tr><th scope="col">Rule</th><th scope="col">Rate</th><th scope="col">Burst</th><th scope="col">Lockout</th></tr></thead>
          <tbody>${l.rules.map((r) => html`<tr><th scope="row">${r.rule}</th>
            ${r.off ? html`<td colspan="3" class="muted">off</td>` : html`<td>${r.rate} per ${period(r.periodMs)}</td><td>${r.burst ?? '–'}</td><td>${period(r.lockoutMs)}</td>`}</tr>`)}</tbody>
        </table></div>
        <h2>Refusals by rule</h2>
        ${l.refusals.byRule.length === 0 ? html`<p class="hint">None so far.</p>` : html`<table class="compact"><thead><tr><th scope="col">Rule</th><th scope="col">Refused</th><th scope="col">Last</th></tr></thead>
          <tbody>${l.refusals.byRule.map((r) => html`<tr><th scope="row">${r.rule}</th><td>${count(r.count)}</td><td>${time(r.lastAt)}</td></tr>`)}</tbody></table>`}
        ${l.refusals.recent.length === 0 ? '' : html`<h2>Latest refusals</h2>
          <div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Rule</th><th scope="col">Bucket</th></tr></thead>
          <tbody>${l.refusals.recent.map((r) => html`<tr><td>${time(r.at)}</td><td>${r.rule}</td><td><code>${r.key}</code></td></tr>`)}</tbody></table></div>`}` : ''}`;
  }
}

customElements.define('rate-limits-page', RateLimitsPage);
