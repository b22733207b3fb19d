/**
 * The diagnostics panel (Tether: Show Diagnostics): the relays of each pool with their health,
 * failovers and resumes over time, RTT as measured by the sessions' PINGs (a histogram and a
 * line over time), throughput and path of each connection, recent errors with their codes and
 * what to do, and agent forwarding. It only renders what the extension host posts
 * (extension/src/vscode/diagnostics-panel.ts), once a second while it is visible: every figure
 * comes from the pools and sessions. Theme colours only (--vscode-*), no remote content.
 */
import { html, nothing, render, type TemplateResult } from 'lit';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type {
  AgentForwardingView, ConnectionPath, DiagnosticsEvent, DiagnosticsRequest, DiagnosticsUpdate, DiagnosticsView, PoolView, RelayHealth,
} from '../../extension/src/core/diagnostics-protocol.js';
import { formatBytes } from '../../extension/src/core/tunnel-list.js';
import { histogram, lineChart, shortNumber, sparkline, type Marker, type Series } from './diagnostics-charts.js';
import { DIAGNOSTICS_CSS } from './diagnostics-style.js';

declare function acquireVsCodeApi(): { postMessage(message: DiagnosticsRequest): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const nonce = app.dataset.nonce ?? '';

let view: DiagnosticsView | undefined;
let notice: string | undefined;

const clock = (at: number): string => new Date(at).toLocaleTimeString([], { hour12: false });
const ms = (value: number): string => (value > 0 ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms` : '—');
const ago = (since: number, now: number): string => {
  const s = Math.max(0, Math.round((now - since) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
};
const hostOf = (url: string): string => url.replace(/^[a-z]+:\/\//, '');

function relayRow(relay: RelayHealth, now: number): TemplateResult {
  return html`<tr class=${relay.active ? 'active' : ''}>
    <td class="relay"><code>${hostOf(relay.url)}</code>${relay.active ? html` <vscode-badge class="active-badge">active</vscode-badge>` : nothing}</td>
    <td><span class="state state-${relay.state}">${relay.state}</span></td>
    <td class="num">${ms(relay.rttMs)}</td>
    <td class="num">${relay.streams}</td>
    <td class="num">${ago(relay.since, now)}</td>
    <td>${relay.lastError ? html`<code>${relay.lastError.code}</code> ${relay.lastError.message}` : nothing}${relay.retryInMs !== undefined ? html` <span class="dim">(retry in ${Math.ceil(relay.retryInMs / 1000)} s)</span>` : nothing}</td>
  </tr>`;
}

function poolSection(pool: PoolView, now: number): TemplateResult {
  return html`<div class="pool" data-pool=${pool.label}>
    <h3>${pool.label} <span class="dim">· ${pool.live} of ${pool.relays.length} relays up · ${pool.reason}${pool.queued ? ` · ${pool.queued} waiting` : ''}</span></h3>
    <p class="rtt-line">RTT now <strong class="rtt-now" data-rtt-ms=${pool.rtt.smoothedMs}>${ms(pool.rtt.smoothedMs)}</strong>
      <span class="dim">(smoothed) · last <span class="rtt-last" data-rtt-ms=${pool.rtt.lastMs}>${ms(pool.rtt.lastMs)}</span> · lowest <span class="rtt-min" data-rtt-ms=${pool.rtt.minMs}>${ms(pool.rtt.minMs)}</span></span></p>
    <table class="relays">
      <thead><tr><th>Relay</th><th>State</th><th class="num">RTT</th><th class="num">Streams</th><th class="num">For</th><th>Last error</th></tr></thead>
      <tbody>${pool.relays.map((r) => relayRow(r, now))}</tbody>
    </table>
  </div>`;
}

const MARKED = new Set(['failover', 'failback', 'resumed', 'no-relay']);

function latency(v: DiagnosticsView): TemplateResult {
  if (v.rttSamples.length === 0) return html`<p class="dim">No RTT sample yet: sessions send a PING every few hundred ms while a relay is up.</p>`;
  const keys = [...new Set(v.rttSamples.map((s) => `${s.pool} → ${hostOf(s.relay)}`))];
  const series: Series[] = keys.map((name, i) => ({
    name,
    className: `series-${i % 6}`,
    points: v.rttSamples.filter((s) => `${s.pool} → ${hostOf(s.relay)}` === name).map((s) => ({ at: s.at, value: s.ms })),
  }));
  const markers: Marker[] = v.events.filter((e) => MARKED.has(e.kind)).map((e) => ({ at: e.at, className: `mark-${e.kind}`, label: `${clock(e.at)} ${e.where}: ${e.text}` }));
  const buckets = v.rttHistogram.map((b, i, all) => ({ label: b.upToMs === null ? `> ${all[i - 1]?.upToMs ?? 0}` : `≤ ${b.upToMs}`, count: b.count }));
  return html`<div class="charts">
    <figure><figcaption>Latency over time (ms, each PING)<div class="legends">${keys.map((k, i) => html`<span class="legend series-${i % 6}">${k}</span>`)}
      <span class="legend mark-failover">failover</span><span class="legend mark-resumed">resume</span></div></figcaption>
      ${lineChart(series, markers, '', 'RTT over time')}</figure>
    <figure><figcaption>RTT histogram (ms, ${v.rttSamples.length} PINGs)</figcaption>${histogram(buckets, 'RTT histogram')}</figure>
  </div>`;
}

function connectionRow(c: ConnectionPath): TemplateResult {
  const last = c.throughput[c.throughput.length - 1];
  // With no stream open (a listener between connections), where the next one would go.
  const relays = c.relays.length ? c.relays.map((r) => (r === 'resuming' ? 'resuming…' : hostOf(r))).join(', ') : c.next ? `${hostOf(c.next)} (next)` : '—';
  return html`<tr data-connection=${c.id}>
    <td class="path"><code>${c.origin}</code> → <code class="via">${relays}</code> → <code>${c.tunnel}</code></td>
    <td class="num">${c.openStreams}</td>
    <td class="num">${formatBytes(c.bytesIn)} / ${formatBytes(c.bytesOut)}</td>
    <td class="num">${last ? `${shortNumber(last.inBps)}B/s / ${shortNumber(last.outBps)}B/s` : '—'}</td>
    <td>${c.throughput.length > 1 ? html`${sparkline(c.throughput.map((t) => t.inBps), 'series-0', 'in')}${sparkline(c.throughput.map((t) => t.outBps), 'series-1', 'out')}` : nothing}</td>
  </tr>`;
}

function connections(list: ConnectionPath[]): TemplateResult {
  if (list.length === 0) return html`<p class="dim">No connection: Connect to Tunnel or Open SSH Terminal makes one.</p>`;
  return html`<table class="connections">
    <thead><tr><th>Path (local → relay → tunnel's host)</th><th class="num">Open</th><th class="num">In / out</th><th class="num">Now in / out</th><th>Throughput</th></tr></thead>
    <tbody>${list.map(connectionRow)}</tbody>
  </table>`;
}

function timeline(events: DiagnosticsEvent[]): TemplateResult {
  if (events.length === 0) return html`<p class="dim">Nothing happened yet.</p>`;
  return html`<ol class="timeline">${[...events].reverse().slice(0, 60).map((e) => html`<li class="event event-${e.kind}">
    <span class="time">${clock(e.at)}</span> <span class="kind">${e.kind}</span> <span class="where">${e.where}</span> ${e.text}${e.code ? html` <code>${e.code}</code>` : nothing}</li>`)}</ol>`;
}

function errors(v: DiagnosticsView): TemplateResult {
  if (v.errors.length === 0) return html`<p class="dim">No error.</p>`;
  return html`<table class="errors">
    <thead><tr><th>When</th><th>Where</th><th>Code</th><th>What happened · what to do</th></tr></thead>
    <tbody>${[...v.errors].reverse().slice(0, 30).map((e) => html`<tr>
      <td>${clock(e.at)}</td><td>${e.where}</td><td><code>${e.code}</code></td><td>${e.message}<div class="advice">${e.advice}</div></td></tr>`)}</tbody>
  </table>`;
}

function agents(list: AgentForwardingView[]): TemplateResult {
  if (list.length === 0) return html`<p class="dim">No SSH terminal open (agent forwarding applies to Tether's SSH terminals; tether.agent.forward turns it on).</p>`;
  return html`<table class="agents">
    <thead><tr><th>Terminal</th><th>Forwarding asked</th><th>Agent</th><th>Forwarded now</th><th>Note</th></tr></thead>
    <tbody>${list.map((a) => html`<tr>
      <td>${a.terminal}</td><td>${a.requested ? 'yes' : 'no (tether.agent.forward)'}</td><td>${a.agent ?? 'none found'}</td>
      <td><span class="state ${a.live ? 'state-up' : 'state-idle'}">${a.live ? 'yes' : 'no'}</span></td><td>${a.problem ?? ''}</td></tr>`)}</tbody>
  </table>`;
}

function section(title: string, body: TemplateResult, badge?: number): TemplateResult {
  return html`<vscode-collapsible open heading=${title}>
    ${badge !== undefined ? html`<vscode-badge slot="decorations" variant="counter">${badge}</vscode-badge>` : nothing}
    <div class="section">${body}</div>
  </vscode-collapsible>`;
}

function draw(): void {
  const v = view;
  const failovers = v?.events.filter((e) => e.kind === 'failover').length ?? 0;
  const resumes = v?.events.filter((e) => e.kind === 'resumed').length ?? 0;
  render(html`
    <header>
      <h2>Tether Diagnostics</h2>
      <span class="dim">${v ? `updated ${clock(v.now)} · every ${v.intervalMs / 1000} s while open` : 'waiting for the extension…'}</span>
      <span class="spacer"></span>
      <vscode-button secondary @click=${() => vscode.postMessage({ type: 'clear' })}>Clear history</vscode-button>
      <vscode-button @click=${() => vscode.postMessage({ type: 'export' })}>Export…</vscode-button>
    </header>
    ${notice ? html`<p class="notice">${notice}</p>` : nothing}
    ${v ? html`
      ${section('Relays', v.pools.length ? html`${v.pools.map((p) => poolSection(p, v.now))}` : html`<p class="dim">No relay pool yet: share a tunnel or connect to one.</p>`, v.pools.length)}
      ${section('Latency', latency(v))}
      ${section('Connections', connections(v.connections), v.connections.length)}
      ${section(`Failovers and resumes (${failovers} failover${failovers === 1 ? '' : 's'}, ${resumes} resume${resumes === 1 ? '' : 's'})`, timeline(v.events))}
      ${section('Recent errors', errors(v), v.errors.length)}
      ${section('Agent forwarding', agents(v.agents))}
    ` : nothing}
  `, app);
}

const style = document.createElement('style');
style.nonce = nonce;
style.textContent = DIAGNOSTICS_CSS;
document.head.append(style);

window.addEventListener('message', (event: MessageEvent<DiagnosticsUpdate>) => {
  const update = event.data;
  if (update.type === 'view') view = update.view;
  else notice = update.message;
  draw();
});

// The page's "Loading…" line goes: lit renders into an empty container from here on.
app.replaceChildren();
draw();
vscode.postMessage({ type: 'ready' });
