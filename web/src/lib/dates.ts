// UTC calendar-day arithmetic on "YYYY-MM-DD" strings (the API's dates are UTC days, ranges end-exclusive).

const DAY_MS = 86_400_000;

export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function parseDay(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

export function addDays(day: string, days: number): string {
  return isoDay(new Date(parseDay(day).getTime() + days * DAY_MS));
}

export function daysBetween(start: string, end: string): number {
  return Math.round((parseDay(end).getTime() - parseDay(start).getTime()) / DAY_MS);
}

export function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

export function nextMonthStart(day: string): string {
  const d = parseDay(monthStart(day));
  return isoDay(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)));
}

export function previousMonthStart(day: string): string {
  const d = parseDay(monthStart(day));
  return isoDay(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)));
}

/** Today's UTC day. */
export function todayUtc(now: Date = new Date()): string {
  return isoDay(now);
}
