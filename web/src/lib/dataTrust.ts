// Cost-data trust (#21): which days of a chart's period are not reconciled yet, from
// GET /v1/data/unreconciled-days (end-exclusive UTC days). Restating days (the provider may still change them)
// are a note; dropped days and days of a month that does not match the provider's total are a warning.

export interface PeriodTrust {
  start: string;
  end: string;
  unreconciled_days: string[];
  reasons: Record<string, string[]>;
}

export interface TrustSummary {
  /** Days only open to restatement (recent days the provider may still change). */
  restating: string[];
  /** Days with a real problem (dropped day, month not matching the provider total), with their reasons. */
  problems: { day: string; reasons: string[] }[];
}

const RESTATING = "open to restatement by the provider";

/** Splits the API's answer into restating days and problem days (each sorted). */
export function summariseTrust(trust: PeriodTrust): TrustSummary {
  const restating: string[] = [];
  const problems: { day: string; reasons: string[] }[] = [];
  for (const day of [...trust.unreconciled_days].sort()) {
    const others = (trust.reasons[day] ?? []).filter((r) => r !== RESTATING);
    if (others.length > 0) problems.push({ day, reasons: others });
    else restating.push(day);
  }
  return { restating, problems };
}

/** "2026-12-05" or "2026-12-05 – 2026-12-07" for a sorted list of days (first and last). */
export function dayRange(days: string[]): string {
  const first = days[0];
  const last = days[days.length - 1];
  if (first === undefined || last === undefined) return "";
  return first === last ? first : `${first} – ${last}`;
}
