/**
 * The sharing panel (Tether: Manage Sharing…): one tunnel's members, invites, pending access
 * requests and settings. It only shows and asks: every relay call is made by the extension host
 * (extension/src/vscode/sharing-panel.ts), which answers with the state or an error sentence.
 * Theme colours only (--vscode-*), no remote content; the CSP allows this script and the styles
 * carrying the page's nonce.
 */
import { html, nothing, render, type TemplateResult } from 'lit';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { describeMs, readDuration } from '../../extension/src/core/duration-text.js';
import type { PanelRequest, PanelState, PanelUpdate } from '../../extension/src/core/sharing-panel-protocol.js';
import { readableTime } from '../../extension/src/core/sharing-text.js';
import type { AccessRequestInfo, InviteInfo, MemberInfo, TunnelRole } from '../../extension/src/core/sharing-types.js';

declare function acquireVsCodeApi(): { postMessage(message: PanelRequest): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const nonce = app.dataset.nonce ?? '';

const ROLES: TunnelRole[] = ['connect', 'view', 'admin'];
const INVITE_LIFETIMES: [string, number][] = [['1 hour', 3_600_000], ['1 day', 86_400_000], ['7 days', 7 * 86_400_000], ['30 days', 30 * 86_400_000]];

let state: PanelState | undefined;
let busy = false;
let message: { kind: 'error' | 'notice'; text: string } | undefined;
let tab = 0;
/** The invite form's and the settings form's values, kept across renders. */
const inviteForm = { role: 'connect' as TunnelRole, lifetime: 86_400_000, uses: '1' };
const addForm = { user: '', role: 'connect' as TunnelRole };
const reasons = new Map<string, string>();
let settingsForm: { approval: boolean; approvals: string; longest: string } | undefined;

const post = (request: PanelRequest): void => {
  message = undefined;
  vscode.postMessage(request);
  draw();
};

const when = readableTime;

const valueOf = (e: Event): string => (e.target as HTMLInputElement).value;

function select(value: string, options: [string, string][], onChange: (value: string) => void, label: string): TemplateResult {
  return html`<vscode-single-select aria-label=${label} .value=${value} @change=${(e: Event) => onChange(valueOf(e))}>
    ${options.map(([v, text]) => html`<vscode-option value=${v} ?selected=${v === value}>${text}</vscode-option>`)}
  </vscode-single-select>`;
}

const roleOptions: [string, string][] = ROLES.map((r) => [r, r]);

function table(columns: string[], headers: string[], rows: TemplateResult[], empty: string): TemplateResult {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<vscode-table zebra bordered-rows .columns=${columns}>
    <vscode-table-header slot="header">${headers.map((h) => html`<vscode-table-header-cell>${h}</vscode-table-header-cell>`)}</vscode-table-header>
    <vscode-table-body slot="body">${rows}</vscode-table-body>
  </vscode-table>`;
}

function memberRow(s: PanelState, m: MemberInfo): TemplateResult {
  return html`<vscode-table-row data-user=${m.user}>
    <vscode-table-cell>${m.user}</vscode-table-cell>
    <vscode-table-cell>${select(m.role, roleOptions, (role) => post({ type: 'setMember', user: m.user, role: role as TunnelRole, expiresAt: m.expiresAt }), `Role of ${m.user}`)}</vscode-table-cell>
    <vscode-table-cell>${when(m.expiresAt)}</vscode-table-cell>
    <vscode-table-cell>${m.blocked ? html`<span class="bad">blocked</span>` : 'active'} · ${m.source}</vscode-table-cell>
    <vscode-table-cell class="actions">
      <vscode-button secondary ?disabled=${busy} @click=${() => post({ type: 'removeMember', user: m.user })}>Remove</vscode-button>
      <vscode-button secondary ?disabled=${busy} @click=${() => post({ type: 'blockMember', user: m.user, blocked: !m.blocked })}>${m.blocked ? 'Unblock' : 'Block'}</vscode-button>
    </vscode-table-cell>
  </vscode-table-row>`;
}

function membersTab(s: PanelState): TemplateResult {
  const rows = s.members.map((m) => memberRow(s, m));
  return html`
    <p class="hint">${s.owner} owns ${s.tunnel}. Members below; removing or blocking someone closes their open connections at once.</p>
    ${table(['18%', '16%', '22%', '18%', '26%'], ['User', 'Role', 'Expires', 'State', ''], rows, `No members besides the owner yet: create an invite.`)}
    <h3>Add a member</h3>
    <div class="form">
      <vscode-textfield placeholder="user name" aria-label="User name" .value=${addForm.user} @input=${(e: Event) => (addForm.user = valueOf(e).trim())}></vscode-textfield>
      ${select(addForm.role, roleOptions, (v) => (addForm.role = v as TunnelRole), 'Role of the new member')}
      <vscode-button ?disabled=${busy} @click=${() => addForm.user && post({ type: 'setMember', user: addForm.user, role: addForm.role, expiresAt: null })}>Add</vscode-button>
    </div>`;
}

function inviteRow(s: PanelState, i: InviteInfo): TemplateResult {
  const known = s.created.some((c) => c.id === i.id);
  return html`<vscode-table-row data-invite=${i.id}>
    <vscode-table-cell>${i.id}</vscode-table-cell>
    <vscode-table-cell>${i.role}</vscode-table-cell>
    <vscode-table-cell class=${i.state === 'active' ? '' : 'muted'}>${i.state}</vscode-table-cell>
    <vscode-table-cell>${i.uses}/${i.maxUses}</vscode-table-cell>
    <vscode-table-cell>${when(i.expiresAt)}</vscode-table-cell>
    <vscode-table-cell class="actions">
      ${known && i.state === 'active' ? html`<vscode-button secondary @click=${() => post({ type: 'copyInviteLink', id: i.id })}>Copy Link</vscode-button>` : nothing}
      ${i.state === 'active' ? html`<vscode-button secondary ?disabled=${busy} @click=${() => post({ type: 'revokeInvite', id: i.id })}>Revoke</vscode-button>` : nothing}
    </vscode-table-cell>
  </vscode-table-row>`;
}

function invitesTab(s: PanelState): TemplateResult {
  const latest = s.created[0];
  const uses = Number(inviteForm.uses);
  const usesOk = /^\d{1,4}$/.test(inviteForm.uses) && uses >= 1 && uses <= 1000;
  return html`
    <h3>New invite</h3>
    <div class="form">
      <label>Role ${select(inviteForm.role, roleOptions, (v) => (inviteForm.role = v as TunnelRole), 'Invite role')}</label>
      <label>Valid for ${select(String(inviteForm.lifetime), INVITE_LIFETIMES.map(([t, ms]) => [String(ms), t]), (v) => (inviteForm.lifetime = Number(v)), 'Invite lifetime')}</label>
      <label>Uses <vscode-textfield class="short" type="number" min="1" max="1000" aria-label="Uses" ?invalid=${!usesOk} .value=${inviteForm.uses} @input=${(e: Event) => {
        inviteForm.uses = valueOf(e).trim();
        draw();
      }}></vscode-textfield></label>
      <vscode-button id="create-invite" ?disabled=${busy || !usesOk} @click=${() => post({ type: 'createInvite', role: inviteForm.role, expiresInMs: inviteForm.lifetime, uses })}>Create Invite</vscode-button>
    </div>
    ${latest ? html`<div class="created">
      <p>Invite <strong>${latest.id}</strong>: hand over this code (accepted with <code>tether invite accept CODE</code> or Tether: Accept Invite…) or the link (opens VS Code). The code is shown only now.</p>
      <vscode-textfield id="invite-code" readonly aria-label="Invite code" .value=${latest.code}></vscode-textfield>
      <vscode-button id="copy-link" @click=${() => post({ type: 'copyInviteLink', id: latest.id })}>Copy Link</vscode-button>
    </div>` : nothing}
    <h3>Invites</h3>
    ${table(['20%', '10%', '12%', '10%', '24%', '24%'], ['ID', 'Role', 'State', 'Used', 'Expires', ''], s.invites.map((i) => inviteRow(s, i)), 'No invites yet.')}`;
}

/** One pending request: who asks for what and why, then a reason of one's own and the two decisions. */
function requestCard(r: AccessRequestInfo): TemplateResult {
  return html`<section class="request" data-request=${r.id}>
    <p><strong>${r.user}</strong> asks for <strong>${r.role}</strong> for ${describeMs(r.durationMs)}${r.reason ? html`: “${r.reason}”` : html` <span class="muted">(no reason given)</span>`}
      <span class="muted">· ${r.approvals}/${r.approvalsNeeded} approvals · ${r.id} · ${when(r.createdAt)}</span></p>
    <div class="form">
      <vscode-textfield class="reason" placeholder="your reason (optional: ${r.user} sees it)" aria-label=${`Reason for ${r.user}'s request`} .value=${reasons.get(r.id) ?? ''} @input=${(e: Event) => reasons.set(r.id, valueOf(e))}></vscode-textfield>
      <vscode-button ?disabled=${busy} @click=${() => post({ type: 'review', id: r.id, decision: 'approve', reason: reasons.get(r.id) ?? '' })}>Approve</vscode-button>
      <vscode-button secondary ?disabled=${busy} @click=${() => post({ type: 'review', id: r.id, decision: 'deny', reason: reasons.get(r.id) ?? '' })}>Deny</vscode-button>
    </div>
  </section>`;
}

function requestsTab(s: PanelState): TemplateResult {
  if (s.requests.length === 0) return html`<p class="empty">No pending access requests.</p>`;
  return html`${s.requests.map(requestCard)}`;
}

function settingsTab(s: PanelState): TemplateResult {
  settingsForm ??= { approval: s.settings.approval === 'required', approvals: String(s.settings.approvals), longest: s.settings.maxDurationMs === null ? '' : describeMs(s.settings.maxDurationMs) };
  const form = settingsForm;
  const approvals = Number(form.approvals);
  const approvalsOk = /^\d{1,2}$/.test(form.approvals) && approvals >= 1 && approvals <= 10;
  const longest = form.longest.trim() === '' ? null : readDuration(form.longest);
  const longestOk = longest !== undefined;
  const save = (): void => {
    if (!approvalsOk || longest === undefined) return;
    post({ type: 'updateSettings', patch: { approval: form.approval ? 'required' : 'none', approvals, maxDurationMs: longest } });
  };
  return html`<div class="settings">
    <vscode-checkbox ?checked=${form.approval} @change=${(e: Event) => (form.approval = (e.target as HTMLInputElement).checked)}
      label="Approval required: every new member (invitees too) waits for an approved access request"></vscode-checkbox>
    <label>Approvals a request needs (1 to 10)
      <vscode-textfield class="short" type="number" min="1" max="10" aria-label="Approvals needed" ?invalid=${!approvalsOk} .value=${form.approvals} @input=${(e: Event) => {
        form.approvals = valueOf(e).trim();
        draw();
      }}></vscode-textfield></label>
    <label>Longest access a request may give (e.g. 8h, 7d; empty: no limit)
      <vscode-textfield class="short" aria-label="Longest access" ?invalid=${!longestOk} .value=${form.longest} @input=${(e: Event) => {
        form.longest = valueOf(e);
        draw();
      }}></vscode-textfield></label>
    <div><vscode-button ?disabled=${busy || !approvalsOk || !longestOk} @click=${save}>Save Settings</vscode-button></div>
  </div>`;
}

function draw(): void {
  if (!state) {
    render(html`<p>${message ? html`<span class="error" role="alert">${message.text}</span>` : 'Loading…'}</p>`, app);
    return;
  }
  const s = state;
  const you = s.me === s.owner ? 'you own it' : `you: ${s.me}`;
  render(html`
    <header>
      <h1>Sharing <span class="tunnel">${s.tunnel}</span></h1>
      <span class="muted">owner ${s.owner} · ${you}</span>
      <span class="spacer"></span>
      ${busy ? html`<span class="muted" role="status">Working…</span>` : nothing}
      <vscode-button secondary ?disabled=${busy} @click=${() => post({ type: 'refresh' })}>Refresh</vscode-button>
    </header>
    ${message ? html`<div class=${message.kind} role=${message.kind === 'error' ? 'alert' : 'status'}>${message.text}</div>` : nothing}
    <vscode-tabs selected-index=${tab} @vsc-tabs-select=${(e: CustomEvent<{ selectedIndex: number }>) => (tab = e.detail.selectedIndex)}>
      <vscode-tab-header slot="header">Members (${s.members.length})</vscode-tab-header>
      <vscode-tab-panel>${membersTab(s)}</vscode-tab-panel>
      <vscode-tab-header slot="header">Invites (${s.invites.filter((i) => i.state === 'active').length} active)</vscode-tab-header>
      <vscode-tab-panel>${invitesTab(s)}</vscode-tab-panel>
      <vscode-tab-header slot="header">Requests (${s.requests.length})</vscode-tab-header>
      <vscode-tab-panel>${requestsTab(s)}</vscode-tab-panel>
      <vscode-tab-header slot="header">Settings</vscode-tab-header>
      <vscode-tab-panel>${settingsTab(s)}</vscode-tab-panel>
    </vscode-tabs>`, app);
}

const CSS = `
  body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 16px; }
  header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
  h1 { font-size: 1.4em; font-weight: 600; margin: 12px 0; }
  h3 { font-size: 1.05em; font-weight: 600; margin: 18px 0 8px; }
  .tunnel { font-family: var(--vscode-editor-font-family); }
  .spacer { flex: 1; }
  .muted, .empty, .hint { color: var(--vscode-descriptionForeground); }
  .bad { color: var(--vscode-errorForeground); }
  .error { color: var(--vscode-errorForeground); background: var(--vscode-inputValidation-errorBackground); border: 1px solid var(--vscode-inputValidation-errorBorder); padding: 6px 10px; margin: 8px 0; border-radius: 2px; }
  .notice { background: var(--vscode-textBlockQuote-background); border-left: 4px solid var(--vscode-textLink-foreground); padding: 6px 10px; margin: 8px 0; }
  .form { display: flex; align-items: flex-end; gap: 12px; flex-wrap: wrap; }
  .form label, .settings label { display: flex; flex-direction: column; gap: 4px; }
  .form vscode-single-select { width: 140px; }
  .form vscode-textfield { width: 200px; }
  vscode-textfield.short { width: 120px; }
  vscode-table-cell vscode-single-select { width: 110px; }
  .actions { white-space: nowrap; }
  .request { border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-editorGroup-border)); padding: 4px 0 12px; }
  .request p { margin: 8px 0; }
  .form vscode-textfield.reason { width: 320px; }
  .created { margin: 12px 0; padding: 8px 12px; background: var(--vscode-textBlockQuote-background); border-left: 4px solid var(--vscode-textLink-foreground); }
  .created vscode-textfield { width: 100%; margin-bottom: 8px; font-family: var(--vscode-editor-font-family); }
  .settings { display: flex; flex-direction: column; gap: 14px; max-width: 560px; padding-top: 8px; }
  vscode-tab-panel { padding-top: 8px; }
  code { font-family: var(--vscode-editor-font-family); }
`;

const style = document.createElement('style');
style.nonce = nonce;
style.textContent = CSS;
document.head.append(style);

window.addEventListener('message', (event: MessageEvent<PanelUpdate>) => {
  const update = event.data;
  switch (update.type) {
    case 'state':
      // The settings form shows what the relay has, once it answers with something new.
      if (JSON.stringify(update.state.settings) !== JSON.stringify(state?.settings)) settingsForm = undefined;
      state = update.state;
      break;
    case 'busy':
      busy = update.busy;
      break;
    case 'error':
      message = { kind: 'error', text: update.message };
      break;
    case 'notice':
      message = { kind: 'notice', text: update.message };
      break;
  }
  draw();
});

// The page's "Loading…" line goes: lit renders into an empty container from here on.
app.replaceChildren();
draw();
vscode.postMessage({ type: 'ready' });
