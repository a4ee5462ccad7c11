// Savings that are proven (#22): the ledger of GET /v1/savings and GET /v1/savings/by-rule, and the commitments
// of GET /v1/commitments(/utilisation|/coverage). Amounts are the API's decimal strings; display only formats them.

export type Amount = string | number;

export interface LedgerBucket {
  count: number;
  estimated_monthly: Amount;
  realised_monthly: Record<string, Amount>;
  /** Only the accepted bucket: how many each owner holds, by e-mail. */
  owners?: Record<string, number>;
  /** Only the accepted bucket: how many are past their due date. */
  overdue?: number;
}

export interface Measurement {
  status: "measured" | "measuring" | "unmeasurable";
  reason: string | null;
  currency: string | null;
  change_day: string | null;
  before_start: string | null;
  after_start: string | null;
  window_days: number;
  realised_monthly: Amount | null;
  estimated_monthly: Amount | null;
  error_percent: Amount | null;
  confidence: "high" | "medium" | "low" | null;
  days_billed_before: number;
  /** What unit-price changes added to the after window's bill per month (positive: prices rose); not counted. */
  price_effect_monthly?: Amount | null;
  /** Resources that exist because of the change (a kept snapshot, a successor); their cost counts against it. */
  replacement_ids?: string[];
  replacement_monthly?: Amount | null;
  prices?: PriceBasis[];
}

export interface PriceBasis {
  price_key: string;
  basis: "before_window" | "first_after_day" | "not_netted";
  reference_unit_price: Amount | null;
  after_unit_price: Amount | null;
  effect_monthly: Amount;
}

export interface LedgerRow {
  recommendation_id: string;
  rule_id: string | null;
  title: string;
  status: string;
  applied_at: string | null;
  resource_ids: string[];
  estimated_monthly: Amount | null;
  measurement: Measurement;
}

export interface MonthSavings {
  month: string;
  completed: number;
  measured: number;
  estimated_monthly: Amount;
  realised_monthly: Record<string, Amount>;
}

export interface SavingsLedger {
  as_of: string;
  window_days: number;
  buckets: Record<string, LedgerBucket>;
  months: MonthSavings[];
  total: number;
  limit: number;
  offset: number;
  items: LedgerRow[];
}

export interface RuleAccuracy {
  rule_id: string | null;
  measured: number;
  measuring: number;
  estimated_monthly: Amount;
  realised_monthly: Amount;
  mean_error_percent: Amount | null;
  mean_absolute_error_percent: Amount | null;
  flagged: boolean;
}

export interface RuleAccuracyReport {
  as_of: string;
  window_days: number;
  flag_threshold_percent: Amount;
  flag_min_measured: number;
  rules: RuleAccuracy[];
}

/** The ledger's buckets in lifecycle order, with what each holds in words. */
export const BUCKETS: readonly { key: string; label: string; help: string }[] = [
  { key: "open", label: "Open", help: "active or scheduled, not changed yet" },
  { key: "accepted", label: "Accepted", help: "owned, with a due date" },
  { key: "applying", label: "Applying", help: "an execution is changing the cloud" },
  { key: "applied", label: "Applied", help: "changed, not measured in the bill yet" },
  { key: "realised", label: "Realised", help: "changed and measured in the bill" },
];

/** An API amount as a string with exactly two decimals (exact: no float arithmetic on the digits). */
export function cents(amount: Amount | null | undefined): string {
  if (amount === null || amount === undefined) return "";
  const text = String(amount).trim();
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return text;
  const [, sign = "", whole = "", frac = ""] = match;
  if (frac.length <= 2) return `${sign}${whole || "0"}.${frac.padEnd(2, "0")}`;
  // More than two places: round half-even on the digits (the API sends cents already; this is a guard).
  const scaled = BigInt(`${whole || "0"}${frac.slice(0, 2)}`);
  const rest = frac.slice(2);
  const half = `5${"0".repeat(rest.length - 1)}`;
  let up = rest > half || (rest === half && scaled % 2n === 1n);
  if (/^0*$/.test(rest)) up = false;
  const value = (scaled + (up ? 1n : 0n)).toString().padStart(3, "0");
  return `${sign}${value.slice(0, -2)}.${value.slice(-2)}`;
}

/** Per-currency amounts, sorted by currency, as ``[currency, "12.34"]`` pairs. */
export function perCurrency(amounts: Record<string, Amount>): [string, string][] {
  return Object.keys(amounts)
    .sort()
    .map((c) => [c, cents(amounts[c])]);
}

/** A measurement's status in words: why it is not measured yet, or what the windows were. */
export function explainMeasurement(m: Measurement): string {
  if (m.status === "measuring") {
    const after = m.after_start ? ` from ${m.after_start}` : "";
    return `Measuring: the ${m.window_days}-day window after the change${after} has not ended or the bill does not reach its last day yet.`;
  }
  if (m.status === "unmeasurable") return `Cannot be measured: ${m.reason ?? "no usable cost before the change"}.`;
  const before = m.before_start ? ` ${m.before_start}` : "";
  return `Measured: ${m.window_days} days before the change (from${before}) against ${m.window_days} days after it (from ${m.after_start ?? "?"}); the change day is skipped.`;
}

const BASIS_WORDS: Record<PriceBasis["basis"], string> = {
  before_window: "its price before the change",
  first_after_day: "its price on its first day after the change (new after the change)",
  not_netted: "as billed (the bill gives no quantity)",
};

/** What a measured change's realised saving is net of, one sentence each: price changes (with the price each
 * price key was measured at when it changed) and replacement resources. Empty when nothing was netted. */
export function explainNetting(m: Measurement): string[] {
  const lines: string[] = [];
  const currency = m.currency ? ` ${m.currency}` : "";
  const effect = m.price_effect_monthly ?? null;
  if (effect !== null && cents(effect) !== "0.00" && cents(effect) !== "-0.00") {
    const way = String(effect).trim().startsWith("-") ? "cut" : "rise";
    lines.push(`Net of a price ${way}: ${cents(effect)}${currency} a month of the after window's bill came from price changes, not from the change.`);
    for (const p of m.prices ?? []) {
      if (cents(p.effect_monthly) === "0.00" || cents(p.effect_monthly) === "-0.00") continue;
      lines.push(`${p.price_key}: measured at ${BASIS_WORDS[p.basis]}${p.reference_unit_price === null ? "" : ` (${p.reference_unit_price} a unit)`}.`);
    }
  }
  const ids = m.replacement_ids ?? [];
  if (ids.length > 0) {
    const cost = m.replacement_monthly === null || m.replacement_monthly === undefined ? "" : ` (${cents(m.replacement_monthly)}${currency} a month)`;
    lines.push(`Counts what the change kept or created: ${ids.join(", ")}${cost}.`);
  }
  return lines;
}

/** Rules in the order to read them: flagged first, then by measured count (most first), then by id. */
export function sortRules(rules: RuleAccuracy[]): RuleAccuracy[] {
  return [...rules].sort(
    (a, b) =>
      Number(b.flagged) - Number(a.flagged) || b.measured - a.measured || (a.rule_id ?? "").localeCompare(b.rule_id ?? ""),
  );
}

export interface Commitment {
  commitment_id: string;
  name: string | null;
  provider: string;
  category: string | null;
  type: string | null;
  currency: string;
  first_seen: string;
  last_seen: string;
  used_cost: Amount;
  unused_cost: Amount;
  committed_cost: Amount;
  utilisation_percent: Amount | null;
}

export interface CommitmentList {
  start_date: string | null;
  end_date: string | null;
  commitments: Commitment[];
}

export interface CoverageDay {
  day: string;
  currency: string;
  covered_cost: Amount;
  eligible_cost: Amount;
  coverage_percent: Amount | null;
}

export interface CoverageReport {
  start_date: string;
  end_date: string;
  basis: string;
  eligible_services: string[];
  days: CoverageDay[];
  totals: { currency: string; covered_cost: Amount; eligible_cost: Amount; coverage_percent: Amount | null }[];
}

/** A percentage from the API ("87.50") for display, or "n/a" when the API has none (nothing eligible/committed). */
export function pct(value: Amount | null): string {
  return value === null ? "n/a" : `${cents(value)} %`;
}

/** The default commitments period: the last ``days`` complete UTC days before ``today`` (end exclusive). */
export function lastDays(today: string, days: number): { start: string; end: string } {
  const end = new Date(`${today}T00:00:00Z`);
  const start = new Date(end.getTime() - days * 86_400_000);
  return { start: start.toISOString().slice(0, 10), end: today };
}
