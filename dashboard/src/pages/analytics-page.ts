import { html } from 'lit';
import type uPlot from 'uplot';
import { api, query } from '../api.js';
import { bytes, count, field, time } from '../format.js';
import { Page } from '../parts/page.js';
import type { ChartSeries } from '../parts/time-chart.js';

interface Row {
  time: string;
  key: string;
  bytesUp: number;
  bytesDown: number;
  opened: number;
  peak: number;
}

interface Forecast {
  metric: string;
  horizonHours: number;
  history: { points: number; from: string | null; to: string | null };
  forecast: { coverage: number; points: { time: string; value: number; lower: number; upper: number }[] } | null;
  capacity: { capacity: number; point: string | null; upper: string | null } | null;
  notes: string[];
}

const PALETTE = ['a', 'b', 'c', 'd', 'e'];
const FORECAST: ChartSeries[] = [{ label: 'forecast', color: 'a' }, { label: 'lower', color: 'd', dash: true }, { label: 'upper', color: 'c', dash: true }];

/** Usage by tunnel, user or node over time, top talkers, and the forecast with its interval and capacity date. */
export class AnalyticsPage extends Page {
  private by = 'tunnel';
  private step = 'hour';
  private rows: Row[] = [];
  private metric = 'streams';
  private horizon = '7d';
  private capacity = '';
  private forecast: Forecast | undefined;
  private forecastError: string | undefined;

  async load(): Promise<void> {
    this.rows = (await api<{ rows: Row[] }>('GET', `/v1/analytics${query({ by: this.by, step: this.step })}`)).rows;
    try {
      this.forecast = await api<Forecast>('GET', `/v1/analytics/forecast${query({ metric: this.metric, horizon: this.horizon, capacity: this.capacity })}`);
      this.forecastError = undefined;
    } catch (err) {
      this.forecast = undefined;
      this.forecastError = err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.message}` : String(err);
    }
  }

  private apply(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    this.by = field(form, 'by');
    this.step = field(form, 'step');
    this.metric = field(form, 'metric');
    this.horizon = field(form, 'horizon');
    this.capacity = field(form, 'capacity');
    void this.refresh();
  }

  /** The top five keys by bytes, one line each over the buckets. */
  private usage(): { series: ChartSeries[]; data: uPlot.AlignedData; top: [string, number, number][] } {
    const totals = new Map<string, [number, number]>();
    for (const r of this.rows) {
      const t = totals.get(r.key) ?? [0, 0];
      totals.set(r.key, [t[0] + r.bytesUp + r.bytesDown, t[1] + r.opened]);
    }
    const top = [...totals.entries()].sort((a, b) => b[1][0] - a[1][0]).map(([k, [b, o]]) => [k, b, o] as [string, number, number]);
    const keys = top.slice(0, PALETTE.length).map(([k]) => k);
    const times = [...new Set(this.rows.map((r) => r.time))].sort();
    const at = new Map(this.rows.map((r) => [`${r.time} ${r.key}`, r.bytesUp + r.bytesDown]));
    return {
      top,
      series: keys.map((k, i) => ({ label: k, color: PALETTE[i] })),
      data: [times.map((t) => Date.parse(t) / 1000), ...keys.map((k) => times.map((t) => at.get(`${t} ${k}`) ?? 0))],
    };
  }

  private forecastData(): uPlot.AlignedData {
    const points = this.forecast?.forecast?.points ?? [];
    return [points.map((p) => Date.parse(p.time) / 1000), points.map((p) => p.value), points.map((p) => p.lower), points.map((p) => p.upper)];
  }

  protected override render() {
    const usage = this.usage();
    const f = this.forecast;
    const unit = this.metric === 'bytes' ? 'bytes' : '';
    return html`
      <h1 tabindex="-1">Analytics</h1>
      <form class="filters" @submit=${(e: SubmitEvent) => this.apply(e)}>
        <label>Usage by <select name="by">${['tunnel', 'user', 'node'].map((v) => html`<option ?selected=${v === this.by}>${v}</option>`)}</select></label>
        <label>Step <select name="step">${['minute', 'hour', 'day'].map((v) => html`<option ?selected=${v === this.step}>${v}</option>`)}</select></label>
        <label>Forecast <select name="metric">${['streams', 'bytes', 'tunnels'].map((v) => html`<option ?selected=${v === this.metric}>${v}</option>`)}</select></label>
        <label>Horizon <input name="horizon" .value=${this.horizon} maxlength="20" size="5"></label>
        <label>Capacity <input name="capacity" .value=${this.capacity} inputmode="decimal" size="8" placeholder="optional"></label>
        <button type="submit">Apply</button>
      </form>
      ${this.errorBox()}
      <time-chart label=${`Bytes by ${this.by} (top ${usage.series.length})`} unit="bytes" .series=${usage.series} .data=${usage.data}></time-chart>
      <h2>Top talkers</h2>
      ${usage.top.length === 0 ? html`<p class="hint">No usage recorded in this range.</p>` : html`
      <table class="compact"><thead><tr><th scope="col">${this.by}</th><th scope="col">Bytes</th><th scope="col">Streams opened</th></tr></thead>
        <tbody>${usage.top.slice(0, 10).map(([k, b, o]) => html`<tr><th scope="row">${k}</th><td>${bytes(b)}</td><td>${count(o)}</td></tr>`)}</tbody></table>`}
      <h2>Forecast: ${this.metric}, next ${this.horizon}</h2>
      ${this.forecastError ? html`<div class="error" role="alert">${this.forecastError}</div>` : ''}
      ${f ? html`
        <p class="hint">History: ${f.history.points} hourly points${f.history.from ? ` from ${time(f.history.from)}` : ''}.
          ${f.forecast ? `Interval coverage ${Math.round(f.forecast.coverage * 100)} %.` : 'Too little history to fit a forecast.'}
          ${f.capacity ? html`Capacity ${count(f.capacity.capacity)} reached: <strong>${f.capacity.point ? time(f.capacity.point) : 'not within the horizon'}</strong> (upper bound: ${f.capacity.upper ? time(f.capacity.upper) : 'not within the horizon'}).` : ''}</p>
        ${f.forecast ? html`<time-chart label="Forecast with its interval" unit=${unit} .series=${FORECAST} .data=${this.forecastData()}></time-chart>` : ''}
        ${f.notes.length ? html`<ul class="notes">${f.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}` : ''}`;
  }
}

customElements.define('analytics-page', AnalyticsPage);
