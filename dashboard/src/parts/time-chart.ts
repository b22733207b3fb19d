import { html, LitElement, type PropertyValues } from 'lit';
import uPlot from 'uplot';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  /** A class of the stylesheet's palette: stroke colours come from CSS custom properties. */
  color: string;
  /** Drawn dashed (an interval bound). */
  dash?: boolean;
}

/**
 * A time-series chart (uPlot): `data` is `[times (epoch seconds), ...one array per series]`, as
 * uPlot takes it. Resizes with its container (1280 px wide or a narrow window alike).
 */
export class TimeChart extends LitElement {
  static override properties = { data: { attribute: false }, series: { attribute: false }, label: { type: String }, unit: { type: String }, windowSeconds: { type: Number } };
  declare data: uPlot.AlignedData;
  declare series: ChartSeries[];
  declare label: string;
  /** Formats the y axis: `bytes/s`, `ms`, or a plain number. */
  declare unit: string;
  /** A live chart shows this many seconds up to its newest point (0: all of its data). */
  declare windowSeconds: number;
  private plot: uPlot | undefined;
  private resize: ResizeObserver | undefined;

  constructor() {
    super();
    this.data = [[]];
    this.series = [];
    this.label = '';
    this.unit = '';
    this.windowSeconds = 0;
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override render() {
    return html`<figure class="chart"><figcaption>${this.label}</figcaption><div class="plot" role="img" aria-label=${`${this.label}: chart`}></div></figure>`;
  }

  private get colors(): string[] {
    const style = getComputedStyle(this);
    return this.series.map((s) => style.getPropertyValue(`--chart-${s.color}`).trim() || '#3b82f6');
  }

  protected override updated(changed: PropertyValues): void {
    const target = this.querySelector<HTMLElement>('.plot');
    if (!target) return;
    if (!this.plot || changed.has('series')) {
      this.plot?.destroy();
      const colors = this.colors;
      const axisFormat = (v: number): string => formatValue(v, this.unit);
      this.plot = new uPlot({
        width: Math.max(200, target.clientWidth),
        height: 220,
        series: [{}, ...this.series.map((s, i) => ({ label: s.label, stroke: colors[i], width: 2, dash: s.dash ? [6, 4] : undefined, value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatValue(v, this.unit)) }))],
        axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: this.unit === 'bytes/s' ? 96 : 80, values: (_u, vals) => vals.map(axisFormat) }],
        scales: { x: { time: true } },
        legend: { live: true },
      }, this.data, target);
      this.resize ??= new ResizeObserver(() => this.plot?.setSize({ width: Math.max(200, target.clientWidth), height: 220 }));
      this.resize.observe(target);
      this.fitX();
      return;
    }
    this.plot.setData(this.data);
    this.fitX();
  }

  /**
   * The time axis: the live window, or the data's span. One point alone (or none) would make
   * uPlot stretch the axis over years, so it gets a minute each side.
   */
  private fitX(): void {
    const xs = this.data[0] as ArrayLike<number>;
    const last = xs.length > 0 ? xs[xs.length - 1] : Date.now() / 1000;
    const first = xs.length > 0 ? xs[0] : last;
    if (this.windowSeconds > 0) this.plot?.setScale('x', { min: last - this.windowSeconds, max: last });
    else if (first === last) this.plot?.setScale('x', { min: first - 60, max: last + 60 });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize?.disconnect();
    this.resize = undefined;
    this.plot?.destroy();
    this.plot = undefined;
  }
}

/** A value with its unit, short. */
export function formatValue(v: number, unit: string): string {
  if (unit === 'bytes/s' || unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${i === 0 ? Math.round(x) : x.toFixed(1)} ${units[i]}${unit === 'bytes/s' ? '/s' : ''}`;
  }
  if (unit === 'ms') return `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

customElements.define('time-chart', TimeChart);
