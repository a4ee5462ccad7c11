// Daily spend with the forecast band, drawn by uPlot (canvas). The table under it (visually hidden) gives the
// same numbers to screen readers and to tests.

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { compactMoney, cssVar, dayMoneyAxes, legendValue, mountPlot } from "./plot";
import { parseDay } from "../lib/dates";
import type { ForecastPoint } from "../lib/types";

export interface TrendChartProps {
  actual: { date: string; cost: number }[];
  forecast: ForecastPoint[];
  currency: string;
}

export function TrendChart({ actual, forecast, currency }: TrendChartProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const days = [...new Set([...actual.map((p) => p.date), ...forecast.map((p) => p.date)])].sort();
    const actualBy = new Map(actual.map((p) => [p.date, p.cost]));
    const forecastBy = new Map(forecast.map((p) => [p.date, p]));
    const data: uPlot.AlignedData = [
      days.map((d) => parseDay(d).getTime() / 1000),
      days.map((d) => actualBy.get(d) ?? null),
      days.map((d) => forecastBy.get(d)?.predicted_cost ?? null),
      days.map((d) => forecastBy.get(d)?.upper_bound ?? null),
      days.map((d) => forecastBy.get(d)?.lower_bound ?? null),
    ];
    const accent = cssVar("--accent", "#2563eb");
    const band = cssVar("--band", "rgba(234,88,12,0.18)");
    const predicted = cssVar("--forecast", "#ea580c");
    const fmt = compactMoney(currency);
    const value = legendValue(fmt);
    const opts: Omit<uPlot.Options, "width"> = {
      height: 280,
      scales: { x: { time: true } },
      legend: { show: true },
      series: [
        {},
        { label: "Daily cost", stroke: accent, width: 2, value },
        { label: "Forecast", stroke: predicted, width: 2, dash: [6, 4], value },
        { label: "Upper bound", stroke: band, width: 1, value },
        { label: "Lower bound", stroke: band, width: 1, value },
      ],
      bands: [{ series: [3, 4], fill: band }],
      axes: dayMoneyAxes(fmt),
    };
    return mountPlot(element, opts, data);
  }, [actual, forecast, currency]);

  return (
    <figure className="chart" data-testid="overview-trend-chart">
      <div ref={host} className="chart-canvas" role="img" aria-label={`Daily cost of the last ${actual.length} days and the forecast of the next ${forecast.length} days`} />
      <div className="visually-hidden">
      <table data-testid="overview-trend-table">
        <caption>Daily cost and forecast</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Cost</th>
            <th scope="col">Forecast</th>
            <th scope="col">Lower</th>
            <th scope="col">Upper</th>
          </tr>
        </thead>
        <tbody>
          {actual.map((p) => (
            <tr key={`a${p.date}`}>
              <td>{p.date}</td>
              <td>{p.cost.toFixed(2)}</td>
              <td />
              <td />
              <td />
            </tr>
          ))}
          {forecast.map((p) => (
            <tr key={`f${p.date}`}>
              <td>{p.date}</td>
              <td />
              <td>{p.predicted_cost.toFixed(2)}</td>
              <td>{p.lower_bound.toFixed(2)}</td>
              <td>{p.upper_bound.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}
