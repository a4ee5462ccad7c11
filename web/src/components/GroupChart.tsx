// The Cost explorer's per-group chart: one line per group (the API's top groups and "Other groups") on the
// period's buckets, in the theme's series colours (--co-series-N of explorer-groups.css), with uPlot's legend.
// A visually hidden table gives the same numbers to screen readers.

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { parseDay } from "../lib/dates";
import type { GroupSeries } from "../lib/explorer";

export interface GroupChartProps {
  dates: string[];
  series: readonly GroupSeries[];
  currency: string;
  testId: string;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

const DAY_S = 86_400;
const DAY_INCREMENTS = [1, 2, 7, 14, 28, 56, 91, 182, 364].map((d) => d * DAY_S);

function dayLabel(seconds: number): string {
  const day = new Date(seconds * 1000).toISOString();
  return `${day.slice(5, 7)}/${day.slice(8, 10)}`;
}

/** The colour of the ``index``-th group (the "other" series is drawn in the muted colour, dashed). */
export function seriesColour(index: number, other: boolean): string {
  return other ? cssVar("--muted", "#666") : cssVar(`--co-series-${(index % 8) + 1}`, "#1d4ed8");
}

export function GroupChart({ dates, series, currency, testId }: GroupChartProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const data: uPlot.AlignedData = [dates.map((d) => parseDay(d).getTime() / 1000), ...series.map((s) => s.points.map((p) => p.cost))];
    const axis = cssVar("--muted", "#666");
    const grid = cssVar("--border", "#ddd");
    const fmt = new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 });
    const opts: uPlot.Options = {
      width: Math.max(element.clientWidth, 280),
      height: 280,
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name ?? s.key,
          stroke: seriesColour(i, s.other),
          width: 2,
          ...(s.other ? { dash: [6, 4] } : {}),
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : fmt.format(v)),
        })),
      ],
      axes: [
        // Whole UTC days only (the buckets are days, weeks or months): no hour ticks.
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, incrs: DAY_INCREMENTS, values: (_u, ticks) => ticks.map(dayLabel) },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 70, values: (_u, ticks) => ticks.map((t) => fmt.format(t)) },
      ],
    };
    const plot = new uPlot(opts, data, element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 280), height: 280 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [dates, series, currency]);

  return (
    <figure className="chart" data-testid={testId} data-series={series.length}>
      <div ref={host} className="chart-canvas" role="img" aria-label={`Cost per bucket of ${series.length} groups over ${dates.length} buckets`} />
      <div className="visually-hidden">
        <table>
          <caption>Cost per bucket and group</caption>
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              {series.map((s) => (
                <th key={s.key} scope="col">{s.name ?? s.key}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {dates.map((d, i) => (
              <tr key={d}>
                <td>{d}</td>
                {series.map((s) => (
                  <td key={s.key}>{s.points[i]?.cost.toFixed(2) ?? ""}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
