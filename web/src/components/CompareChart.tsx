// The Cost explorer's chart: the period's cost per bucket and the previous period's on the same axis (bucket i
// of the previous period beside bucket i of this one), drawn by uPlot. A visually hidden table gives the same
// numbers to screen readers.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { compactMoney, cssVar, dayMoneyAxes, legendValue, mountPlot } from "./plot";
import { parseDay } from "../lib/dates";

export interface CompareChartProps {
  dates: string[];
  current: number[];
  previous: (number | null)[];
  currency: string;
  testId: string;
}

export function CompareChart({ dates, current, previous, currency, testId }: CompareChartProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const data: uPlot.AlignedData = [dates.map((d) => parseDay(d).getTime() / 1000), current, previous];
    const fmt = compactMoney(currency);
    const value = legendValue(fmt);
    const opts: Omit<uPlot.Options, "width"> = {
      height: 260,
      scales: { x: { time: true } },
      series: [
        {},
        { label: "This period", stroke: cssVar("--accent", "#1d4ed8"), width: 2, value },
        { label: "Previous period", stroke: cssVar("--muted", "#666"), width: 2, dash: [6, 4], value },
      ],
      axes: dayMoneyAxes(fmt),
    };
    return mountPlot(element, opts, data);
  }, [dates, current, previous, currency]);

  return (
    <figure className="chart" data-testid={testId}>
      <div ref={host} className="chart-canvas" role="img" aria-label={`Cost per bucket for ${dates.length} buckets, with the previous period`} />
      <div className="visually-hidden">
        <table>
          <caption>Cost per bucket and the previous period's</caption>
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col">Cost</th>
              <th scope="col">Previous period</th>
            </tr>
          </thead>
          <tbody>
            {dates.map((d, i) => (
              <tr key={d}>
                <td>{d}</td>
                <td>{current[i]?.toFixed(2)}</td>
                <td>{previous[i]?.toFixed(2) ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
