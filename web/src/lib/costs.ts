// The Cost explorer's pure parts: period presets (UTC days, end-exclusive, complete days only: today's
// unfinished day never counts), the comparison period (the same days of the previous month for the month
// presets, the same length just before otherwise), the table's rows from the API's breakdowns and the CSV of
// exactly those rows.

import { addDays, daysBetween, monthStart, previousMonthStart } from "./dates";
import { dayRangeLabel, monthToDate, sameDaysOfPreviousMonth } from "./monthToDate";
import type { CostOverview } from "./types";

export interface Period {
  start: string;
  /** Exclusive. */
  end: string;
}

export type PresetName = "this_month" | "last_month" | "last_30" | "last_90";

export const PRESETS: readonly { name: PresetName; label: string }[] = [
  { name: "this_month", label: "This month" },
  { name: "last_month", label: "Last month" },
  { name: "last_30", label: "Last 30 days" },
  { name: "last_90", label: "Last 90 days" },
];

/** The period of a preset on ``today`` (UTC), complete days only (end = today, exclusive): this month is month
 * to date as every screen defines it (lib/monthToDate: on the 1st, the whole previous month); "last N days"
 * are the N days before today. */
export function presetPeriod(name: PresetName, today: string): Period {
  switch (name) {
    case "this_month":
      return monthToDate(today).current;
    case "last_month":
      return { start: previousMonthStart(today), end: monthStart(today) };
    case "last_30":
      return { start: addDays(today, -30), end: today };
    case "last_90":
      return { start: addDays(today, -90), end: today };
  }
}

export interface Comparison {
  period: Period;
  rule: "same_days_of_previous_month" | "previous_equal_length";
  /** What is compared with what, e.g. "Dec 1 – Dec 6 vs Nov 1 – Nov 6 (the same days of last month)". */
  label: string;
}

/** What ``period`` is compared with: for "this month" / "last month" the same day numbers of the previous month
 * (clamped to its length), for any other period the same number of days just before it. */
export function comparisonPeriod(preset: PresetName | null, period: Period): Comparison {
  const monthly = (preset === "this_month" || preset === "last_month") && period.start.endsWith("-01");
  const compared = monthly ? sameDaysOfPreviousMonth(period) : previousPeriod(period);
  const why = monthly ? "the same days of the previous month" : "the previous period of equal length";
  return {
    period: compared,
    rule: monthly ? "same_days_of_previous_month" : "previous_equal_length",
    label: `${dayRangeLabel(period)} vs ${dayRangeLabel(compared)} (${why})`,
  };
}

/** The previous total and the change, from the comparison period's own answer (in cents, as shown). */
export function comparisonTotals(current: CostOverview, previous: CostOverview): { previous: number; change: number; percent: number | null } {
  const now = cents(current.total_cost);
  const then = cents(previous.total_cost);
  return { previous: then / 100, change: (now - then) / 100, percent: then === 0 ? null : ((now - then) / then) * 100 };
}

/** The comparison period: the same number of days just before ``period`` (what the API's
 * ``period_comparison`` uses). */
export function previousPeriod(period: Period): Period {
  const length = daysBetween(period.start, period.end);
  return { start: addDays(period.start, -length), end: period.start };
}

/** A problem with a chosen period (null when the API would accept it: end after start, at most 365 days). */
export function periodProblem(period: Period): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period.start) || !/^\d{4}-\d{2}-\d{2}$/.test(period.end)) return "Choose both dates.";
  const length = daysBetween(period.start, period.end);
  if (length <= 0) return "The end must be after the start (the end day is not included).";
  if (length > 365) return "A period can span at most 365 days.";
  return null;
}

export interface ExplorerRow {
  dimension: string;
  label: string;
  /** Exact strings, as the table and the CSV show them. */
  cost: string;
  previous: string;
  change: string;
  share: string;
}

const OTHER = "(other)";

function cents(value: number): number {
  return Math.round(value * 100);
}

function fromCents(value: number): string {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** The table's rows: each group of ``current`` with its cost in ``previous`` (0 when absent) and the change.
 * When the API's breakdown is cut short (it lists the top 50), an "(other)" row carries the rest, so the rows
 * always add up to ``current.total_cost`` (to the cent, beyond the API's own rounding of each row). */
export function explorerRows(current: CostOverview, previous: CostOverview | null): ExplorerRow[] {
  const before = new Map((previous?.breakdown ?? []).map((b) => [b.dimension, cents(b.cost)]));
  const rows = current.breakdown.map((item) => {
    const now = cents(item.cost);
    const then = before.get(item.dimension) ?? 0;
    return {
      dimension: item.dimension,
      label: item.name ?? item.dimension,
      cost: fromCents(now),
      previous: fromCents(then),
      change: fromCents(now - then),
      share: item.percentage.toFixed(1),
    };
  });
  const listed = current.breakdown.reduce((sum, b) => sum + cents(b.cost), 0);
  const rest = cents(current.total_cost) - listed;
  // More than a rounding difference (half a cent per row): groups the API left out.
  if (Math.abs(rest) > Math.ceil(current.breakdown.length / 2)) {
    const listedBefore = [...before.entries()].filter(([d]) => current.breakdown.some((b) => b.dimension === d)).reduce((s, [, c]) => s + c, 0);
    const restBefore = previous ? cents(previous.total_cost) - listedBefore : 0;
    rows.push({
      dimension: OTHER,
      label: "Other groups",
      cost: fromCents(rest),
      previous: fromCents(restBefore),
      change: fromCents(rest - restBefore),
      share: current.total_cost === 0 ? "0.0" : ((rest / cents(current.total_cost)) * 100).toFixed(1),
    });
  }
  return rows;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The CSV of ``rows`` (RFC 4180, CRLF line ends), one line per table row with the table's exact strings. */
export function explorerCsv(rows: readonly ExplorerRow[], groupBy: string, currency: string): string {
  const header = [groupBy, "name", `cost_${currency}`, `previous_cost_${currency}`, `change_${currency}`, "share_percent"];
  const lines = [header, ...rows.map((r) => [r.dimension, r.label, r.cost, r.previous, r.change, r.share])];
  return lines.map((line) => line.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** A file name for the export: ``costs-by-<group>-<start>-to-<last day>.csv``. */
export function csvFileName(groupBy: string, period: Period): string {
  const safe = groupBy.replace(/[^A-Za-z0-9_-]+/g, "_");
  return `costs-by-${safe}-${period.start}-to-${addDays(period.end, -1)}.csv`;
}

/** Where the previous period's series point ``i`` belongs on the current period's axis (same index). */
export function alignPrevious(current: CostOverview, previous: CostOverview | null): (number | null)[] {
  return current.time_series.map((_, i) => previous?.time_series[i]?.cost ?? null);
}
