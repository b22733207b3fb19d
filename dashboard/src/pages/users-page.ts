import { html } from 'lit';
import { api } from '../api.js';
import { field, time } from '../format.js';
import { Page } from '../parts/page.js';

interface User {
  name: string;
  createdAt: string;
  role?: 'admin' | 'member';
  blockedAt?: string | null;
}

/** Users: create (the token shown once), rotate a token, block, change the role, delete. */
export class UsersPage extends Page {
  private users: User[] = [];
  /** A token just issued: shown once, gone when the page is left. */
  private issued: { name: string; token: string } | undefined;

  async load(): Promise<void> {
    this.users = (await api<{ users: User[] }>('GET', '/v1/users')).users;
  }

  private async act(work: () => Promise<unknown>, notice: string): Promise<void> {
    if (await this.run(async () => void (await work()), notice)) await this.load().catch(() => undefined);
    this.requestUpdate();
  }

  private create(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = field(new FormData(form), 'name');
    void this.act(async () => {
      const made = await api<{ name: string; token: string }>('POST', '/v1/users', { name });
      this.issued = { name: made.name, token: made.token };
      form.reset();
    }, `User ${name} created`);
  }

  private rotate(u: User): void {
    void this.act(async () => {
      const made = await api<{ token: string }>('POST', `/v1/users/${encodeURIComponent(u.name)}/token`);
      this.issued = { name: u.name, token: made.token };
    }, `${u.name}'s token replaced: the old one no longer works`);
  }

  protected override render() {
    return html`
      <h1 tabindex="-1">Users</h1>
      <form class="filters" @submit=${(e: SubmitEvent) => this.create(e)}>
        <label>New user <input name="name" required maxlength="64" pattern="[a-z0-9][a-z0-9\\-]*" title="a-z, 0-9 and -" autocomplete="off"></label>
        <button type="submit">Create</button>
      </form>
      ${this.errorBox()}
      ${this.issued ? html`<div class="token" role="status"><p>Token of <strong>${this.issued.name}</strong>, shown once: give it to them now.</p><code class="secret">${this.issued.token}</code>
        <button type="button" class="secondary" @click=${() => { this.issued = undefined; this.requestUpdate(); }}>Done</button></div>` : ''}
      <div class="scroll"><table>
        <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${this.users.map((u) => html`<tr data-user=${u.name}>
          <th scope="row">${u.name}</th>
          <td>${u.role === undefined ? '–' : html`<label class="sr-only" for=${`role-${u.name}`}>Role of ${u.name}</label>
            <select id=${`role-${u.name}`} .value=${u.role} @change=${(e: Event) => this.act(() => api('PUT', `/v1/users/${encodeURIComponent(u.name)}/role`, { role: (e.target as HTMLSelectElement).value }), `${u.name}'s role changed`)}>
              <option value="member" ?selected=${u.role === 'member'}>member</option><option value="admin" ?selected=${u.role === 'admin'}>admin</option></select>`}</td>
          <td>${u.blockedAt ? html`<span class="bad">blocked</span> <small>${time(u.blockedAt)}</small>` : u.blockedAt === null ? html`<span class="ok">active</span>` : '–'}</td>
          <td>${time(u.createdAt)}</td>
          <td class="actions">
            <button type="button" class="secondary" aria-label=${`Rotate the token of ${u.name}`} @click=${() => this.rotate(u)}>Rotate token</button>
            ${u.blockedAt
              ? html`<button type="button" class="secondary" aria-label=${`Unblock ${u.name}`} @click=${() => this.act(() => api('DELETE', `/v1/users/${encodeURIComponent(u.name)}/block`), `${u.name} unblocked`)}>Unblock</button>`
              : html`<button type="button" class="danger" aria-label=${`Block ${u.name}`} @click=${() => this.act(() => api('PUT', `/v1/users/${encodeURIComponent(u.name)}/block`), `${u.name} blocked`)}>Block</button>`}
            <button type="button" class="danger" aria-label=${`Delete ${u.name}`} @click=${() => this.act(() => api('DELETE', `/v1/users/${encodeURIComponent(u.name)}`), `${u.name} deleted`)}>Delete</button>
          </td></tr>`)}</tbody>
      </table></div>`;
  }
}

customElements.define('users-page', UsersPage);
