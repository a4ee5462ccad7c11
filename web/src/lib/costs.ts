// The Cost explorer's pure parts: period presets (UTC days, end-exclusive), the comparison period the API uses
// (the same length just before), the table's rows from the API's breakdowns and the CSV of exactly those rows.

import { addDays, daysBetween, monthStart, previousMonthStart } from "./dates";
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

/** The period of a preset on ``today`` (UTC): this month runs to today inclusive, "last N days" end today. */
export function presetPeriod(name: PresetName, today: string): Period {
  const tomorrow = addDays(today, 1);
  switch (name) {
    case "this_month":
      return { start: monthStart(today), end: tomorrow };
    case "last_month":
      return { start: previousMonthStart(today), end: monthStart(today) };
    case "last_30":
      return { start: addDays(tomorrow, -30), end: tomorrow };
    case "last_90":
      return { start: addDays(tomorrow, -90), end: tomorrow };
  }
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
