// What the console's uPlot charts share: theme colours read from CSS variables, a compact money formatter,
// day-based axes (ticks on whole UTC days, never hours: every series is daily, weekly or monthly), and mounting a
// plot that follows its container's width and is destroyed with the component.

import uPlot from "uplot";

/** The value of the CSS variable ``name`` on the document (the current theme's), or ``fallback``. */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** A compact money formatter for axes and legends (e.g. "$1.2K"). */
export function compactMoney(currency: string): Intl.NumberFormat {
  return new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 });
}

/** A legend value formatter: "—" for a missing point. */
export function legendValue(fmt: Intl.NumberFormat): (u: uPlot, v: number | null) => string {
  return (_u, v) => (v === null ? "—" : fmt.format(v));
}

const DAY_S = 86_400;
/** Tick spacings of whole days (1 day … 1 year). */
export const DAY_INCREMENTS = [1, 2, 7, 14, 28, 56, 91, 182, 364].map((d) => d * DAY_S);

const DAY_FORMAT = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** The UTC day of a tick at ``seconds`` since the epoch, as the reader's locale writes it ("Oct 5"). */
export function dayLabel(seconds: number): string {
  return DAY_FORMAT.format(new Date(seconds * 1000));
}

/** Tick labels for ``values`` in ``fmt``; when two would read the same (ticks closer than its one decimal, e.g.
 * "$18K" twice), in the same compact notation with up to three decimals. */
export function moneyTicks(fmt: Intl.NumberFormat, values: readonly number[]): string[] {
  const labels = values.map((v) => fmt.format(v));
  if (new Set(labels).size === labels.length) return labels;
  const finer = new Intl.NumberFormat(fmt.resolvedOptions().locale, { ...fmt.resolvedOptions(), maximumFractionDigits: 3, minimumFractionDigits: 0 });
  return values.map((v) => finer.format(v));
}

/** The x (whole UTC days) and y (compact money) axes in the theme's colours. */
export function dayMoneyAxes(fmt: Intl.NumberFormat): uPlot.Axis[] {
  const stroke = cssVar("--muted", "#666");
  const grid = { stroke: cssVar("--border", "#ddd"), width: 1 };
  const ticks = { stroke: grid.stroke };
  return [
    { stroke, grid, ticks, incrs: DAY_INCREMENTS, values: (_u, values) => values.map(dayLabel) },
    { stroke, grid, ticks, size: 70, values: (_u, values) => moneyTicks(fmt, values) },
  ];
}

/** The x range of a time scale: the data's, or a week either side of a single point (one bucket: uPlot adds
 * 86 400 000 "ms" to it, which in seconds stretches the axis over years). */
export function dayRange(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const xs = u.data[0];
  const only = xs.length === 1 ? xs[0] : undefined;
  return only === undefined ? [min, max] : [only - 7 * DAY_S, only + 7 * DAY_S];
}

/** The legend's x series of a day-based chart: labelled "Day", the hovered point's UTC day ("Oct 5"), "—"
 * when the cursor is off the chart (uPlot's default reads "Time: --"). A series that sets its own ``value``
 * or ``label`` keeps it. */
export function dayLegendSeries(series: uPlot.Series | undefined): uPlot.Series {
  return { label: "Day", value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "—" : dayLabel(v)), ...(series ?? {}) };
}

/** The smallest width a chart is drawn at (narrower containers scroll rather than squash the axes). */
export const MIN_CHART_WIDTH = 280;

/** Draw ``data`` with ``options`` into ``element`` at its width (and again whenever it is resized); the
 * returned function removes the plot (a React effect's cleanup). */
export function mountPlot(element: HTMLElement, options: Omit<uPlot.Options, "width">, data: uPlot.AlignedData): () => void {
  const width = (): number => Math.max(element.clientWidth, MIN_CHART_WIDTH);
  const x = options.scales?.x;
  const full: uPlot.Options = { ...options, width: width() };
  if (x?.time === true && x.range === undefined) full.scales = { ...options.scales, x: { ...x, range: dayRange } };
  if (x?.time === true) full.series = [dayLegendSeries(options.series[0]), ...options.series.slice(1)];
  const plot = new uPlot(full, data, element);
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: options.height }));
  resize.observe(element);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}
