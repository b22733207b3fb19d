import { html } from 'lit';
import { api, query } from '../api.js';
import { ago, bytes, count, field, time } from '../format.js';
import { Page } from '../parts/page.js';

interface Tunnel {
  name: string;
  owner: string;
  createdAt: string;
  lastHostedAt: string | null;
  online: boolean;
  disabled: boolean;
  disabledReason: string | null;
  onlineSince: string | null;
  holders: { node: string; address: string; client: string | null; since: string }[];
  streams: number;
  bytesIn: number;
  bytesOut: number;
}

const LIMIT = 50;

/** Every tunnel, searched, filtered and paged by the relay; disable and enable. */
export class TunnelsPage extends Page {
  private rows: Tunnel[] = [];
  private total = 0;
  private offset = 0;
  private q = '';
  private status = 'all';
  private reason = '';

  async load(): Promise<void> {
    const page = await api<{ total: number; tunnels: Tunnel[] }>('GET', `/v1/admin/tunnels${query({ q: this.q, status: this.status, offset: this.offset, limit: LIMIT })}`);
    this.rows = page.tunnels;
    this.total = page.total;
  }

  private search(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.q = field(form, 'q');
    this.status = field(form, 'status');
    this.offset = 0;
    void this.refresh();
  }

  private page(delta: number): void {
    this.offset = Math.max(0, this.offset + delta * LIMIT);
    void this.refresh();
  }

  private async toggle(t: Tunnel): Promise<void> {
    const path = `/v1/tunnels/${encodeURIComponent(t.name)}/disabled`;
    const ok = await this.run(async () => {
      if (t.disabled) await api('DELETE', path);
      else await api('PUT', path, this.reason ? { reason: this.reason } : {});
    }, `${t.name} ${t.disabled ? 'enabled' : 'disabled'}`);
    if (ok) await this.load().catch(() => undefined);
    this.requestUpdate();
  }

  protected override render() {
    const last = Math.min(this.offset + this.rows.length, this.total);
    return html`
      <h1 tabindex="-1">Tunnels</h1>
      <form class="filters" role="search" @submit=${(e: SubmitEvent) => this.search(e)}>
        <label>Search <input name="q" type="search" .value=${this.q} placeholder="name or owner" maxlength="100"></label>
        <label>Status <select name="status" .value=${this.status}>
          ${['all', 'online', 'offline', 'disabled'].map((s) => html`<option value=${s} ?selected=${s === this.status}>${s}</option>`)}
        </select></label>
        <button type="submit">Apply</button>
        <label>Reason for disabling <input .value=${this.reason} @input=${(e: Event) => { this.reason = (e.target as HTMLInputElement).value; }} maxlength="200" placeholder="optional"></label>
      </form>
      ${this.errorBox()}
      <p class="hint" role="status">${this.total === 0 ? 'No tunnels.' : `Tunnels ${this.offset + 1}–${last} of ${count(this.total)}`}</p>
      <div class="scroll"><table>
        <thead><tr><th scope="col">Tunnel</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">Holders (node, client)</th><th scope="col">Online since</th><th scope="col">Streams</th><th scope="col">In</th><th scope="col">Out</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${this.rows.map((t) => html`<tr data-tunnel=${t.name}>
          <th scope="row">${t.name}</th>
          <td>${t.owner}</td>
          <td>${t.disabled ? html`<span class="bad" title=${t.disabledReason ?? ''}>disabled</span>${t.disabledReason ? html`<br><small>${t.disabledReason}</small>` : ''}` : t.online ? html`<span class="ok">online</span>` : html`<span class="muted">offline</span>`}</td>
          <td>${t.holders.length === 0 ? '–' : t.holders.map((h) => html`<div>${h.node} · ${h.address}${h.client ? ` · ${h.client}` : ''}</div>`)}</td>
          <td>${t.onlineSince ? html`${time(t.onlineSince)} <small>(${ago(t.onlineSince)})</small>` : t.lastHostedAt ? html`<small>last ${time(t.lastHostedAt)}</small>` : '–'}</td>
          <td>${count(t.streams)}</td><td>${bytes(t.bytesIn)}</td><td>${bytes(t.bytesOut)}</td>
          <td><button type="button" class=${t.disabled ? 'secondary' : 'danger'} ?disabled=${this.busy} aria-label=${`${t.disabled ? 'Enable' : 'Disable'} tunnel ${t.name}`} @click=${() => this.toggle(t)}>${t.disabled ? 'Enable' : 'Disable'}</button></td>
        </tr>`)}</tbody>
      </table></div>
      <nav class="pager" aria-label="Tunnel pages">
        <button type="button" class="secondary" ?disabled=${this.offset === 0} @click=${() => this.page(-1)}>Previous</button>
        <button type="button" class="secondary" ?disabled=${last >= this.total} @click=${() => this.page(1)}>Next</button>
      </nav>`;
  }
}

customElements.define('tunnels-page', TunnelsPage);
