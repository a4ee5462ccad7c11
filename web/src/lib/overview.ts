// The Overview's figures, computed from the API's answers with no I/O (the caller passes "today").
//
// - Month to date: [1st of this month, tomorrow) against the same number of days from the 1st of last month
//   (cut at the end of last month: on 31 March, 1-31 March against all of February).
// - End-of-month forecast: the recorded daily costs of this month up to the forecast's history end, plus the
//   forecast's predicted days from there to the end of the month; the interval adds the points' lower and
//   upper bounds the same way.

import { addDays, daysBetween, monthStart, nextMonthStart, previousMonthStart } from "./dates";
import type { CostOverview, Forecast } from "./types";

export interface MonthToDateWindows {
  current: { start: string; end: string };
  previous: { start: string; end: string };
}

export function monthToDateWindows(today: string): MonthToDateWindows {
  const start = monthStart(today);
  const end = addDays(today, 1);
  const days = daysBetween(start, end);
  const previousStart = previousMonthStart(today);
  const previousEnd = addDays(previousStart, days) < start ? addDays(previousStart, days) : start;
  return { current: { start, end }, previous: { start: previousStart, end: previousEnd } };
}

export interface MonthEndForecast {
  expected: number;
  lower: number;
  upper: number;
  actualSoFar: number;
  forecastDays: number;
  confidence: number;
}

/** The end-of-month estimate, or null when the forecast has no points (no history). */
export function monthEndForecast(today: string, monthDaily: CostOverview, forecast: Forecast): MonthEndForecast | null {
  if (forecast.forecast.length === 0) return null;
  const start = monthStart(today);
  const end = nextMonthStart(today);
  const firstPredicted = forecast.forecast[0]?.date ?? end;
  const actualSoFar = monthDaily.time_series
    .filter((p) => p.date >= start && p.date < firstPredicted)
    .reduce((sum, p) => sum + p.cost, 0);
  const inMonth = forecast.forecast.filter((p) => p.date >= start && p.date < end);
  const sum = (pick: (p: (typeof inMonth)[number]) => number): number => inMonth.reduce((s, p) => s + pick(p), 0);
  return {
    expected: round2(actualSoFar + sum((p) => p.predicted_cost)),
    lower: round2(actualSoFar + sum((p) => p.lower_bound)),
    upper: round2(actualSoFar + sum((p) => p.upper_bound)),
    actualSoFar: round2(actualSoFar),
    forecastDays: inMonth.length,
    confidence: forecast.confidence_level,
  };
}

/** Percentage change from ``previous`` to ``current``; null when ``previous`` is 0. */
export function changePercent(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return ((current - previous) / previous) * 100;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Days a forecast should cover to reach the end of this month (at least 14 so the chart shows a band). */
export function forecastHorizon(today: string): number {
  return Math.max(daysBetween(today, nextMonthStart(today)), 14);
}
