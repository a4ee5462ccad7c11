// "Month to date" means one thing on every screen, as the API's trend_basis states it
// (cloudoptima/analytics/month_to_date.py): the complete UTC days of the month through yesterday,
// [1st, today) end-exclusive, against the same day numbers of the previous month, clamped to that month's
// length. On the 1st no day is complete yet, so it is the whole previous month (completeMonth).

import { addDays, daysBetween, monthStart, previousMonthStart } from "./dates";

export interface DayRange {
  start: string;
  /** Exclusive. */
  end: string;
}

/** The API's ``trend_basis`` (GET /v1/costs/overview?period=month_to_date, /v1/costs/by-service). */
export interface TrendBasis {
  current_start: string;
  current_end: string;
  previous_start: string;
  previous_end: string;
  rule: string;
  complete_month?: boolean;
}

export interface MonthToDate {
  current: DayRange;
  previous: DayRange;
  completeMonth: boolean;
}

/** The same day numbers of the month before ``period`` (which starts on a 1st), clamped to that month. */
export function sameDaysOfPreviousMonth(period: DayRange): DayRange {
  const start = previousMonthStart(period.start);
  const days = Math.min(daysBetween(period.start, period.end), daysBetween(start, monthStart(period.start)));
  return { start, end: addDays(start, days) };
}

/** Month to date on ``today`` (UTC day) and its comparison period (see the module comment). */
export function monthToDate(today: string): MonthToDate {
  const current = { start: monthStart(addDays(today, -1)), end: today };
  return { current, previous: sameDaysOfPreviousMonth(current), completeMonth: today.endsWith("-01") };
}

/** The console's form of the API's ``trend_basis``. */
export function fromTrendBasis(basis: TrendBasis): MonthToDate {
  return {
    current: { start: basis.current_start, end: basis.current_end },
    previous: { start: basis.previous_start, end: basis.previous_end },
    completeMonth: basis.complete_month ?? false,
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Dec 7" for "2026-12-07". */
export function shortDay(day: string): string {
  return `${MONTHS[Number(day.slice(5, 7)) - 1] ?? day.slice(5, 7)} ${Number(day.slice(8, 10))}`;
}

/** "Dec 1 – Dec 6" for [2026-12-01, 2026-12-07) (the last day shown is the day before the end). */
export function dayRangeLabel(range: DayRange): string {
  const last = addDays(range.end, -1);
  return last === range.start ? shortDay(range.start) : `${shortDay(range.start)} – ${shortDay(last)}`;
}

/** "Dec 1 – Dec 6 vs Nov 1 – Nov 6"; on the 1st, "Nov 1 – Nov 30 (complete month) vs Oct 1 – Oct 30". */
export function monthToDateLabel(mtd: MonthToDate): string {
  const current = dayRangeLabel(mtd.current) + (mtd.completeMonth ? " (complete month; no complete day of this month yet)" : "");
  return `${current} vs ${dayRangeLabel(mtd.previous)}`;
}
