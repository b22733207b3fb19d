import { html, LitElement, type TemplateResult } from 'lit';
import { api, ApiError, session } from './api.js';
import { PAGES, pageOf } from './routes.js';

/**
 * The dashboard: the sign-in form until the relay says there is a session, then a navigation
 * bar and the page the URL's #fragment names.
 */
export class TetherAdmin extends LitElement {
  private user: string | undefined;
  private checked = false;
  private signInError: ApiError | undefined;
  private route = pageOf(location.hash);

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', () => {
      this.route = pageOf(location.hash);
      this.requestUpdate();
      this.focusMain();
    });
    session.onSignedOut(() => {
      this.user = undefined;
      this.requestUpdate();
    });
    void this.check();
  }

  /** Asks the relay whether the cookie is a session (the page keeps no token). */
  private async check(): Promise<void> {
    try {
      const s = await api<{ name: string; csrf: string }>('GET', '/admin/api/session');
      session.set(s.csrf);
      this.user = s.name;
    } catch {
      this.user = undefined;
    }
    this.checked = true;
    this.requestUpdate();
  }

  private async signIn(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const input = form.elements.namedItem('token') as HTMLInputElement;
    try {
      const s = await api<{ name: string; csrf: string }>('POST', '/admin/api/session', { token: input.value });
      session.set(s.csrf);
      this.user = s.name;
      this.signInError = undefined;
    } catch (err) {
      this.signInError = err as ApiError;
    }
    // The token leaves the page as soon as it has been sent.
    input.value = '';
    this.requestUpdate();
  }

  private async signOut(): Promise<void> {
    try {
      await api('DELETE', '/admin/api/session');
    } finally {
      session.set(undefined);
      this.user = undefined;
      this.requestUpdate();
    }
  }

  private focusMain(): void {
    void this.updateComplete.then(() => this.querySelector<HTMLElement>('main h1')?.focus());
  }

  protected override render(): TemplateResult {
    if (!this.checked) return html`<p class="loading">Loading…</p>`;
    if (!this.user) return this.signInForm();
    const page = PAGES.find((p) => p.id === this.route) ?? PAGES[0];
    return html`
      <a class="skip" href="#main-content" @click=${(e: Event) => { e.preventDefault(); this.focusMain(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">Tether relay</span>
        <nav aria-label="Dashboard pages">
          <ul>${PAGES.map((p) => html`<li><a href="#/${p.id}" aria-current=${p.id === page.id ? 'page' : 'false'}>${p.title}</a></li>`)}</ul>
        </nav>
        <span class="who">Signed in as <strong>${this.user}</strong></span>
        <button type="button" class="secondary" @click=${() => this.signOut()}>Sign out</button>
      </header>
      <main id="main-content">${page.render()}</main>`;
  }

  private signInForm(): TemplateResult {
    return html`
      <main class="sign-in">
        <h1>Tether relay admin</h1>
        <form @submit=${(e: SubmitEvent) => this.signIn(e)}>
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="off" required maxlength="512" spellcheck="false">
          <p class="hint">The relay's admin token, or the token of a user with the admin role. It is sent once and kept by nobody but the relay: the browser gets an HttpOnly session cookie.</p>
          <button type="submit">Sign in</button>
        </form>
        ${this.signInError ? html`<div class="error" role="alert"><strong class="code">${this.signInError.code}</strong> ${this.signInError.message}</div>` : ''}
      </main>`;
  }
}

customElements.define('tether-admin', TetherAdmin);
