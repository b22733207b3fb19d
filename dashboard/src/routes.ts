import { html, type TemplateResult } from 'lit';

/** The pages, in the navigation's order; `#/ID` shows one. */
export const PAGES: { id: string; title: string; render: () => TemplateResult }[] = [
  { id: 'overview', title: 'Overview', render: () => html`<overview-page></overview-page>` },
  { id: 'tunnels', title: 'Tunnels', render: () => html`<tunnels-page></tunnels-page>` },
  { id: 'sessions', title: 'Sessions', render: () => html`<sessions-page></sessions-page>` },
  { id: 'users', title: 'Users', render: () => html`<users-page></users-page>` },
  { id: 'approvals', title: 'Approvals', render: () => html`<approvals-page></approvals-page>` },
  { id: 'audit', title: 'Audit', render: () => html`<audit-page></audit-page>` },
  { id: 'analytics', title: 'Analytics', render: () => html`<analytics-page></analytics-page>` },
  { id: 'rate-limits', title: 'Rate limits', render: () => html`<rate-limits-page></rate-limits-page>` },
];

/** The page id of a location hash (`#/tunnels?x` → `tunnels`); the overview for anything else. */
export function pageOf(hash: string): string {
  const id = /^#\/([a-z-]+)/.exec(hash)?.[1];
  return PAGES.some((p) => p.id === id) ? id! : 'overview';
}
