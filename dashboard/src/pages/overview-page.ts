import { html } from 'lit';
import type uPlot from 'uplot';
import { api } from '../api.js';
import { ago, bytes, count, percent } from '../format.js';
import { Page } from '../parts/page.js';
import type { ChartSeries } from '../parts/time-chart.js';

interface Overview {
  node: string;
  /** A node that did not answer has only its id, address and the error. */
  nodes: { id: string; advertise: string | null; version?: string; startedAt?: string; healthy: boolean; draining?: boolean; self: boolean; links?: number; hosts?: number; streams?: number; load?: { cpu: number; rssBytes: number; eventLoopDelayMs: number } | null; error?: string }[];
  tunnelsOnline: number;
  streams: number;
  links: number;
  errorsByCode: Record<string, number>;
}

interface Sample {
  t: number;
  node: string;
  streams: number;
  /** Bytes through this node since it started (the rates are their differences). */
  bytesIn: number;
  bytesOut: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
  opensPerSec: number;
  openLatencyMs: { p50: number; p95: number } | null;
  errorsPerSec: number;
}

/** Samples kept for the live charts: five minutes at one a second. */
const KEEP = 300;
const THROUGHPUT: ChartSeries[] = [{ label: 'in', color: 'a' }, { label: 'out', color: 'b' }];
const LATENCY: ChartSeries[] = [{ label: 'p50', color: 'a' }, { label: 'p95', color: 'c' }];

/** Samples of this browser tab, kept while it moves between pages (the charts pick up where they were). */
const samples: Sample[] = [];

/** Nodes with health and load, counts, errors by code, and live charts fed by /v1/admin/live (SSE). */
export class OverviewPage extends Page {
  private overview: Overview | undefined;
  private readonly samples = samples;
  private live: 'connecting' | 'live' | 'unavailable' = 'connecting';
  private source: EventSource | undefined;
  private timer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.source = new EventSource('/v1/admin/live', { withCredentials: true });
    this.source.addEventListener('sample', (e) => {
      this.samples.push(JSON.parse((e as MessageEvent<string>).data) as Sample);
      if (this.samples.length > KEEP) this.samples.shift();
      this.live = 'live';
      this.requestUpdate();
    });
    this.source.onerror = () => {
      // EventSource retries on its own; closed means the relay refused the stream.
      if (this.source?.readyState === EventSource.CLOSED) this.live = 'unavailable';
      this.requestUpdate();
    };
    this.timer = window.setInterval(() => void this.refresh(), 5000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.source?.close();
    window.clearInterval(this.timer);
  }

  async load(): Promise<void> {
    this.overview = await api<Overview>('GET', '/v1/admin/overview');
  }

  private series(pick: (s: Sample) => [number | null, number | null]): uPlot.AlignedData {
    const xs = this.samples.map((s) => s.t / 1000);
    return [xs, this.samples.map((s) => pick(s)[0]), this.samples.map((s) => pick(s)[1])];
  }

  protected override render() {
    const o = this.overview;
    const last = this.samples[this.samples.length - 1];
    return html`
      <h1 tabindex="-1">Overview</h1>
      ${this.errorBox()}
      ${o ? html`
        <section class="cards" aria-label="Totals">
          <div class="card"><span class="label">Nodes</span><span class="value" data-testid="nodes-count">${o.nodes.length}</span></div>
          <div class="card"><span class="label">Tunnels online</span><span class="value">${count(o.tunnelsOnline)}</span></div>
          <div class="card"><span class="label">Active streams</span><span class="value">${count(o.streams)}</span></div>
          <div class="card"><span class="label">Links</span><span class="value">${count(o.links)}</span></div>
        </section>
        <h2>Nodes</h2>
        <div class="scroll"><table class="nodes">
          <thead><tr><th scope="col">Node</th><th scope="col">Health</th><th scope="col">Version</th><th scope="col">Address</th><th scope="col">Streams</th><th scope="col">Links</th><th scope="col">CPU (of a core)</th><th scope="col">Memory</th><th scope="col">Loop delay (p99)</th><th scope="col">Up</th></tr></thead>
          <tbody>${o.nodes.map((n) => html`<tr>
            <th scope="row">${n.id}${n.self ? html` <span class="tag">this node</span>` : ''}</th>
            <td>${n.error !== undefined ? html`<span class="bad">unreachable</span><br><small>${n.error}</small>` : n.draining ? html`<span class="bad">draining</span>` : html`<span class=${n.healthy ? 'ok' : 'bad'}>${n.healthy ? 'healthy' : 'unhealthy'}</span>`}</td>
            <td>${n.version ?? '–'}</td><td>${n.advertise ?? '–'}</td><td>${count(n.streams)}</td><td>${count(n.links)}</td>
            <td>${percent(n.load?.cpu)}</td><td>${bytes(n.load?.rssBytes)}</td><td>${n.load ? `${n.load.eventLoopDelayMs.toFixed(1)} ms` : '–'}</td>
            <td>${n.startedAt ? ago(n.startedAt) : '–'}</td></tr>`)}</tbody>
        </table></div>` : ''}
      <h2>Live <span class="tag" role="status">${this.live === 'live' ? `node ${last?.node ?? ''}` : this.live === 'connecting' ? 'connecting…' : 'not available'}</span></h2>
      ${this.live === 'unavailable' ? html`<p class="hint">The relay did not accept the live feed (GET /v1/admin/live).</p>` : ''}
      <div class="charts">
        <time-chart label="Throughput (last 5 minutes)" unit="bytes/s" windowSeconds="300" .series=${THROUGHPUT} .data=${this.series((s) => [s.bytesInPerSec, s.bytesOutPerSec])}></time-chart>
        <time-chart label="Stream open latency (last 5 minutes)" unit="ms" windowSeconds="300" .series=${LATENCY} .data=${this.series((s) => [s.openLatencyMs?.p50 ?? null, s.openLatencyMs?.p95 ?? null])}></time-chart>
      </div>
      ${last ? html`<p class="hint" data-testid="window">In the window: ${bytes(last.bytesIn - this.samples[0].bytesIn)} in and ${bytes(last.bytesOut - this.samples[0].bytesOut)} out through this node; peak in ${bytes(Math.max(...this.samples.map((x) => x.bytesInPerSec)))}/s, out ${bytes(Math.max(...this.samples.map((x) => x.bytesOutPerSec)))}/s.</p>` : ''}
      ${last ? html`<p class="hint" data-testid="last-sample">Last sample: ${count(last.streams)} streams, in ${bytes(last.bytesInPerSec)}/s, out ${bytes(last.bytesOutPerSec)}/s, ${last.opensPerSec} opens/s${last.openLatencyMs ? `, open latency p50 ${last.openLatencyMs.p50} ms` : ''}, ${last.errorsPerSec} errors/s.</p>` : ''}
      ${o ? html`<h2>Errors by code</h2>
        ${Object.keys(o.errorsByCode).length === 0 ? html`<p class="hint">No errors counted.</p>` : html`
        <table class="compact"><thead><tr><th scope="col">Code</th><th scope="col">Count</th></tr></thead>
          <tbody>${Object.entries(o.errorsByCode).sort((a, b) => b[1] - a[1]).map(([code, n]) => html`<tr><td><code>${code}</code></td><td>${count(n)}</td></tr>`)}</tbody></table>`}` : ''}`;
  }
}

customElements.define('overview-page', OverviewPage);
