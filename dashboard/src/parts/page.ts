import { html, LitElement, nothing, type TemplateResult } from 'lit';
import { ApiError } from '../api.js';

/**
 * The base of every page: light DOM (the bundled stylesheet applies; the CSP allows no inline
 * style), an error slot that shows the API's code and message, and a busy flag.
 */
export abstract class Page extends LitElement {
  protected error: ApiError | undefined;
  protected notice: string | undefined;
  protected busy = false;

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  /** Loads the page's data; errors are shown, never thrown. */
  abstract load(): Promise<void>;

  async refresh(): Promise<void> {
    await this.run(() => this.load());
  }

  /** Runs `work`, keeping its error (coded) for the page to show; returns whether it succeeded. */
  protected async run(work: () => Promise<void>, notice?: string): Promise<boolean> {
    this.busy = true;
    this.requestUpdate();
    try {
      await work();
      this.error = undefined;
      if (notice !== undefined) this.notice = notice;
      return true;
    } catch (err) {
      this.error = err instanceof ApiError ? err : new ApiError(0, 'CLIENT', err instanceof Error ? err.message : String(err));
      this.notice = undefined;
      return false;
    } finally {
      this.busy = false;
      this.requestUpdate();
    }
  }

  protected errorBox(): TemplateResult | typeof nothing {
    if (this.notice && !this.error) return html`<p class="notice" role="status">${this.notice}</p>`;
    if (!this.error) return nothing;
    return html`<div class="error" role="alert"><strong class="code">${this.error.code}</strong> ${this.error.message}</div>`;
  }
}
