// The Cost explorer's per-group chart: one line per group (the API's top groups and "Other groups") on the
// period's buckets, in the theme's series colours (--co-series-N of explorer-groups.css), with uPlot's legend.
// A visually hidden table gives the same numbers to screen readers.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { compactMoney, cssVar, dayMoneyAxes, legendValue, mountPlot } from "./plot";
import { parseDay } from "../lib/dates";
import type { GroupSeries } from "../lib/explorer";

export interface GroupChartProps {
  dates: string[];
  series: readonly GroupSeries[];
  currency: string;
  testId: string;
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
    const fmt = compactMoney(currency);
    const value = legendValue(fmt);
    const opts: Omit<uPlot.Options, "width"> = {
      height: 280,
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name ?? s.key,
          stroke: seriesColour(i, s.other),
          width: 2,
          ...(s.other ? { dash: [6, 4] } : {}),
          value,
        })),
      ],
      axes: dayMoneyAxes(fmt),
    };
    return mountPlot(element, opts, data);
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
