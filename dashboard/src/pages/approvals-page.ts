import { html } from 'lit';
import { api } from '../api.js';
import { ago, time } from '../format.js';
import { Page } from '../parts/page.js';

interface AccessRequest {
  id: string;
  tunnel: string;
  user: string;
  role: string;
  durationMs: number;
  reason: string;
  createdAt: string;
  approvals: number;
  approvalsNeeded: number;
  reviews: { reviewer: string; decision: string; reason: string; at: string }[];
}

const hours = (ms: number): string => (ms >= 86_400_000 ? `${Math.round(ms / 86_400_000)} d` : `${Math.round(ms / 3_600_000)} h`);

/** Pending access requests on every tunnel; approve or deny each with a reason. */
export class ApprovalsPage extends Page {
  private requests: AccessRequest[] = [];
  private reasons = new Map<string, string>();

  async load(): Promise<void> {
    this.requests = (await api<{ requests: AccessRequest[] }>('GET', '/v1/requests?pending=true')).requests;
  }

  private async review(r: AccessRequest, decision: 'approve' | 'deny'): Promise<void> {
    const reason = this.reasons.get(r.id);
    const ok = await this.run(() => api('POST', `/v1/requests/${encodeURIComponent(r.id)}/${decision}`, reason ? { reason } : {}), `${r.user}'s request for ${r.tunnel} ${decision === 'approve' ? 'approved' : 'denied'}`);
    if (ok) await this.load().catch(() => undefined);
    this.requestUpdate();
  }

  protected override render() {
    return html`
      <h1 tabindex="-1">Approvals</h1>
      ${this.errorBox()}
      <p class="hint" role="status">${this.requests.length === 0 ? 'No pending access requests.' : `${this.requests.length} pending`}</p>
      <div class="scroll"><table>
        <thead><tr><th scope="col">User</th><th scope="col">Tunnel</th><th scope="col">Role</th><th scope="col">For</th><th scope="col">Their reason</th><th scope="col">Asked</th><th scope="col">Approvals</th><th scope="col">Review</th></tr></thead>
        <tbody>${this.requests.map((r) => html`<tr data-request=${r.id}>
          <th scope="row">${r.user}</th><td>${r.tunnel}</td><td>${r.role}</td><td>${hours(r.durationMs)}</td><td>${r.reason || '–'}</td>
          <td>${time(r.createdAt)} <small>(${ago(r.createdAt)})</small></td><td>${r.approvals} of ${r.approvalsNeeded}</td>
          <td class="actions">
            <label class="sr-only" for=${`reason-${r.id}`}>Reason for the review of ${r.user}'s request</label>
            <input id=${`reason-${r.id}`} placeholder="reason" maxlength="500" @input=${(e: Event) => this.reasons.set(r.id, (e.target as HTMLInputElement).value)}>
            <button type="button" ?disabled=${this.busy} aria-label=${`Approve ${r.user}'s request for ${r.tunnel}`} @click=${() => this.review(r, 'approve')}>Approve</button>
            <button type="button" class="danger" ?disabled=${this.busy} aria-label=${`Deny ${r.user}'s request for ${r.tunnel}`} @click=${() => this.review(r, 'deny')}>Deny</button>
          </td></tr>`)}</tbody>
      </table></div>`;
  }
}

customElements.define('approvals-page', ApprovalsPage);
