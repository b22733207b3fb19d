import { html } from 'lit';
import { api, query } from '../api.js';
import { ago, bytes, count, field, time } from '../format.js';
import { Page } from '../parts/page.js';

interface Session {
  id: string;
  node: string;
  tunnel: string;
  user: string;
  source: string;
  client: string | null;
  path: string[];
  startedAt: string;
  up: number;
  down: number;
  protocol: string | null;
  open: boolean;
  udp: boolean;
}

const LIMIT = 50;

/** Active streams across the cluster; terminate one. */
export class SessionsPage extends Page {
  private rows: Session[] = [];
  private total = 0;
  private offset = 0;
  private tunnel = '';
  private user = '';

  async load(): Promise<void> {
    const page = await api<{ total: number; sessions: Session[] }>('GET', `/v1/admin/sessions${query({ tunnel: this.tunnel, user: this.user, offset: this.offset, limit: LIMIT })}`);
    this.rows = page.sessions;
    this.total = page.total;
  }

  private filter(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.tunnel = field(form, 'tunnel');
    this.user = field(form, 'user');
    this.offset = 0;
    void this.refresh();
  }

  private async terminate(s: Session): Promise<void> {
    const ok = await this.run(() => api('DELETE', `/v1/admin/sessions/${encodeURIComponent(s.id)}`), `Session ${s.id} of ${s.user} on ${s.tunnel} terminated`);
    if (ok) await this.load().catch(() => undefined);
    this.requestUpdate();
  }

  protected override render() {
    const last = Math.min(this.offset + this.rows.length, this.total);
    return html`
      <h1 tabindex="-1">Sessions</h1>
      <form class="filters" role="search" @submit=${(e: SubmitEvent) => this.filter(e)}>
        <label>Tunnel <input name="tunnel" .value=${this.tunnel} maxlength="64"></label>
        <label>User <input name="user" .value=${this.user} maxlength="64"></label>
        <button type="submit">Apply</button>
        <button type="button" class="secondary" @click=${() => this.refresh()}>Refresh</button>
      </form>
      ${this.errorBox()}
      <p class="hint" role="status">${this.total === 0 ? 'No active streams.' : `Streams ${this.offset + 1}–${last} of ${count(this.total)}`}</p>
      <div class="scroll"><table>
        <thead><tr><th scope="col">User</th><th scope="col">Tunnel</th><th scope="col">Source</th><th scope="col">Node path</th><th scope="col">Protocol</th><th scope="col">Started</th><th scope="col">Up</th><th scope="col">Down</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${this.rows.map((s) => html`<tr data-session=${s.id}>
          <th scope="row">${s.user}</th><td>${s.tunnel}</td><td>${s.source}${s.client ? html`<br><small>${s.client}</small>` : ''}</td><td>${s.path.join(' → ')}</td><td>${s.udp ? 'udp' : (s.protocol ?? '–')}${s.open ? '' : html` <small>(opening)</small>`}</td>
          <td>${time(s.startedAt)} <small>(${ago(s.startedAt)})</small></td><td>${bytes(s.up)}</td><td>${bytes(s.down)}</td>
          <td><button type="button" class="danger" ?disabled=${this.busy} aria-label=${`Terminate the session of ${s.user} on ${s.tunnel}`} @click=${() => this.terminate(s)}>Terminate</button></td>
        </tr>`)}</tbody>
      </table></div>
      <nav class="pager" aria-label="Session pages">
        <button type="button" class="secondary" ?disabled=${this.offset === 0} @click=${() => { this.offset = Math.max(0, this.offset - LIMIT); void this.refresh(); }}>Previous</button>
        <button type="button" class="secondary" ?disabled=${last >= this.total} @click=${() => { this.offset += LIMIT; void this.refresh(); }}>Next</button>
      </nav>`;
  }
}

customElements.define('sessions-page', SessionsPage);
