// The Overview's figures, computed from the API's answers with no I/O (the caller passes "today").
//
// - Month to date (lib/monthToDate, the API's trend_basis): the complete days [1st, today) against the same
//   days of last month, clamped to its length (on 31 March, 1-30 March against all of February); on the 1st,
//   the whole previous month.
// - End-of-month forecast: the recorded daily costs of this month up to the forecast's history end, plus the
//   forecast's predicted days from there to the end of the month; the interval adds the points' lower and
//   upper bounds the same way.

import { daysBetween, monthStart, nextMonthStart } from "./dates";
import { monthToDate } from "./monthToDate";
import type { CostOverview, Forecast } from "./types";

export interface MonthToDateWindows {
  current: { start: string; end: string };
  previous: { start: string; end: string };
}

/** Month to date on ``today`` and the same days of last month (see lib/monthToDate). */
export function monthToDateWindows(today: string): MonthToDateWindows {
  const { current, previous } = monthToDate(today);
  return { current, previous };
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

/** The value the cost rollup gives rows without the tag (cloudoptima/services/cost_analytics/queries.py). */
export const UNTAGGED = "(untagged)";

/** The first of the organisation's ``settings.rollup_tag_keys`` (GET /v1/organization), or null when none. */
export function firstRollupTagKey(settings: Record<string, unknown> | null | undefined): string | null {
  const keys = settings?.["rollup_tag_keys"];
  if (!Array.isArray(keys)) return null;
  const first: unknown = keys.find((k) => typeof k === "string" && k.length > 0);
  return typeof first === "string" ? first : null;
}

export interface TagSplit<T extends { dimension: string }> {
  /** The largest tagged values, at most ``limit``, in the API's order (cost, descending). */
  top: T[];
  /** The row of costs without the tag, or null when every cost carries it. */
  untagged: T | null;
}

/** A by-tag breakdown split into its top tagged values and the untagged remainder. */
export function splitUntagged<T extends { dimension: string }>(breakdown: readonly T[], limit = 5): TagSplit<T> {
  const untagged = breakdown.find((item) => item.dimension === UNTAGGED) ?? null;
  const top = breakdown.filter((item) => item.dimension !== UNTAGGED).slice(0, limit);
  return { top, untagged };
}

export interface OpenSavings {
  /** The sum of ``estimated_savings_monthly`` over the recommendations counted, rounded to cents. */
  monthly: number;
  /** Recommendations read. */
  counted: number;
  /** Of those, how many have no estimate (price unknown): they add nothing to ``monthly``. */
  unpriced: number;
}

export const NO_SAVINGS: OpenSavings = { monthly: 0, counted: 0, unpriced: 0 };

/** ``sum`` plus one page of recommendations (pages of GET /v1/recommendations?status=active). */
export function addSavings(sum: OpenSavings, page: readonly { estimated_savings_monthly: number | null }[]): OpenSavings {
  let cents = Math.round(sum.monthly * 100);
  let unpriced = sum.unpriced;
  for (const rec of page) {
    if (rec.estimated_savings_monthly === null) unpriced += 1;
    else cents += Math.round(rec.estimated_savings_monthly * 100);
  }
  return { monthly: cents / 100, counted: sum.counted + page.length, unpriced };
}
