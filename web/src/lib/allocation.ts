// Allocation dimensions ("virtual tags") and showback in the console: the pure parts.
//
// - The rule editor's draft (ordered rules and shared-cost rules as form fields), its conversion to and from
//   the API's rule set (cloudoptima/domain/allocation.py: RuleSet, RuleMatch, SharedCostRule), the moves of
//   the editor (add, remove, move up/down) and the form's own checks, which name fields exactly as the API's
//   422 does (``rules[2].value``, ``shared[0].percentages``) so both are shown at the same place.
// - A dimension's re-allocation status from the API's ``active_version`` / ``latest_version``.
// - The showback table from ``GET /v1/costs/by-allocation``: the API's exact amounts (JSON numbers or decimal
//   strings), ``unallocated`` always present and marked, the total the API's ``total_cost`` (and a check that
//   the rows add up to it exactly), bar widths, the CSV of exactly the table, and the view's state in the
//   query string (a shareable link).

import { addDays } from "./dates";
import { periodProblem, presetPeriod, PRESETS, type Period, type PresetName } from "./costs";

export const UNALLOCATED = "unallocated";
export const PROVIDERS = ["aws", "azure", "gcp"] as const;
export type SplitMethod = "proportional" | "even" | "fixed";
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

// ---------------------------------------------------------------- the API's shapes

export interface Dimension {
  id: string;
  name: string;
  description: string | null;
  active_version: number | null;
  latest_version: number;
  allocated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TagConditionApi {
  key: string;
  values?: string[];
}

export interface RuleMatchApi {
  accounts?: string[];
  providers?: string[];
  services?: string[];
  regions?: string[];
  tags?: TagConditionApi[];
  resource_id_patterns?: string[];
  resource_types?: string[];
}

export interface RuleApi {
  value?: string | null;
  value_from_tag?: string | null;
  match?: RuleMatchApi;
}

export interface SharedRuleApi {
  name: string;
  match: RuleMatchApi;
  method?: SplitMethod;
  targets?: string[];
  percentages?: (string | number)[];
}

export interface RuleSetApi {
  rules: RuleApi[];
  shared: SharedRuleApi[];
  tag_aliases: Record<string, string[]>;
}

export interface RuleSetOut {
  dimension_id: string;
  version: number;
  rules: Partial<RuleSetApi>;
}

export interface RulesSaved {
  dimension: Dimension;
  version: number;
  reallocation: { workflow_id: string; status: "started" | "unavailable" };
}

/** A decimal amount as the API sends it (a JSON number or a decimal string). */
export type Amount = number | string;

export interface ValueCost {
  value: string;
  cost: Amount;
  shared_cost: Amount;
  percentage: Amount;
}

export interface CurrencyAllocation {
  currency: string;
  total_cost: Amount;
  pending: Amount | null;
  values: ValueCost[];
}

export interface CostByAllocation {
  dimension: string;
  version: number | null;
  start_date: string;
  end_date: string;
  currencies: CurrencyAllocation[];
}

// ---------------------------------------------------------------- the editor's draft

export interface TagDraft {
  key: string;
  /** Comma-separated; empty: the key is present. */
  values: string;
}

export interface MatchDraft {
  /** Billing or sub account ids (the provider's account id), picked by name. */
  accounts: string[];
  providers: string[];
  /** Comma-separated lists. */
  services: string;
  regions: string;
  resourcePatterns: string;
  resourceTypes: string;
  tags: TagDraft[];
}

export interface RuleDraft {
  /** A stable React key (not sent). */
  uid: number;
  valueMode: "fixed" | "from_tag";
  value: string;
  match: MatchDraft;
}

export interface TargetDraft {
  value: string;
  percent: string;
}

export interface SharedDraft {
  uid: number;
  name: string;
  method: SplitMethod;
  targets: TargetDraft[];
  match: MatchDraft;
}

export interface RuleSetDraft {
  rules: RuleDraft[];
  shared: SharedDraft[];
  /** Kept as loaded (the editor does not edit aliases). */
  tagAliases: Record<string, string[]>;
}

let nextUid = 1;
function uid(): number {
  nextUid += 1;
  return nextUid;
}

export function emptyMatch(): MatchDraft {
  return { accounts: [], providers: [], services: "", regions: "", resourcePatterns: "", resourceTypes: "", tags: [] };
}

export function emptyRule(): RuleDraft {
  return { uid: uid(), valueMode: "fixed", value: "", match: emptyMatch() };
}

export function emptyShared(): SharedDraft {
  return { uid: uid(), name: "", method: "proportional", targets: [], match: emptyMatch() };
}

export function emptyDraft(): RuleSetDraft {
  return { rules: [], shared: [], tagAliases: {} };
}

/** "a, b,,c " → ["a", "b", "c"] (blanks dropped, order kept, duplicates kept once). */
export function splitList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(",")) {
    const item = part.trim();
    if (item && !out.includes(item)) out.push(item);
  }
  return out;
}

function joinList(items: readonly string[] | undefined): string {
  return (items ?? []).join(", ");
}

function matchFromApi(match: RuleMatchApi | undefined): MatchDraft {
  return {
    accounts: [...(match?.accounts ?? [])],
    providers: [...(match?.providers ?? [])],
    services: joinList(match?.services),
    regions: joinList(match?.regions),
    resourcePatterns: joinList(match?.resource_id_patterns),
    resourceTypes: joinList(match?.resource_types),
    tags: (match?.tags ?? []).map((t) => ({ key: t.key, values: joinList(t.values) })),
  };
}

/** The draft of a stored rule set (``GET …/rules``'s ``rules``). */
export function draftFromApi(rules: Partial<RuleSetApi> | null): RuleSetDraft {
  if (rules === null) return emptyDraft();
  return {
    rules: (rules.rules ?? []).map((r) => ({
      uid: uid(),
      valueMode: r.value_from_tag ? "from_tag" : "fixed",
      value: r.value_from_tag ?? r.value ?? "",
      match: matchFromApi(r.match),
    })),
    shared: (rules.shared ?? []).map((s) => ({
      uid: uid(),
      name: s.name,
      method: s.method ?? "proportional",
      targets: (s.targets ?? []).map((value, i) => ({ value, percent: s.percentages?.[i] === undefined ? "" : String(s.percentages[i]) })),
      match: matchFromApi(s.match),
    })),
    tagAliases: { ...(rules.tag_aliases ?? {}) },
  };
}

/** The API's match of a draft: only the conditions given (an empty match holds for every row). */
export function matchToApi(match: MatchDraft): RuleMatchApi {
  const out: RuleMatchApi = {};
  if (match.accounts.length) out.accounts = [...match.accounts];
  if (match.providers.length) out.providers = [...match.providers];
  const services = splitList(match.services);
  if (services.length) out.services = services;
  const regions = splitList(match.regions);
  if (regions.length) out.regions = regions;
  const patterns = splitList(match.resourcePatterns);
  if (patterns.length) out.resource_id_patterns = patterns;
  const types = splitList(match.resourceTypes);
  if (types.length) out.resource_types = types;
  const tags = match.tags.map((t) => ({ key: t.key.trim(), values: splitList(t.values) }));
  if (tags.length) out.tags = tags.map((t) => (t.values.length ? t : { key: t.key }));
  return out;
}

/** The body of ``PUT …/rules`` (the order of the draft is the order of the rules: the first match wins). */
export function draftToApi(draft: RuleSetDraft): RuleSetApi {
  return {
    rules: draft.rules.map((r) => {
      const value = r.value.trim();
      return { ...(r.valueMode === "fixed" ? { value } : { value_from_tag: value }), match: matchToApi(r.match) };
    }),
    shared: draft.shared.map((s) => {
      const targets = s.targets.map((t) => t.value.trim());
      return {
        name: s.name.trim(),
        match: matchToApi(s.match),
        method: s.method,
        targets,
        ...(s.method === "fixed" ? { percentages: s.targets.map((t) => t.percent.trim()) } : {}),
      };
    }),
    tag_aliases: draft.tagAliases,
  };
}

// ---------------------------------------------------------------- editor moves (pure: a new array each time)

/** ``items`` with the item at ``index`` moved by ``by`` (−1 up, +1 down); unchanged at the ends. */
export function move<T>(items: readonly T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  const out = [...items];
  if (index < 0 || index >= items.length || to < 0 || to >= items.length) return out;
  const [item] = out.splice(index, 1) as [T];
  out.splice(to, 0, item);
  return out;
}

/** ``items`` without the item at ``index``. */
export function removeAt<T>(items: readonly T[], index: number): T[] {
  return items.filter((_, i) => i !== index);
}

/** ``items`` with the item at ``index`` replaced by ``change`` applied to it. */
export function updateAt<T>(items: readonly T[], index: number, change: (item: T) => T): T[] {
  return items.map((item, i) => (i === index ? change(item) : item));
}

// ---------------------------------------------------------------- exact decimals

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** A decimal string or number as an integer count of 10^-``scale`` units, or null when it is no decimal or has
 * more places than ``scale``. */
export function toUnits(amount: Amount, scale: number): bigint | null {
  const text = typeof amount === "number" ? numberText(amount) : amount.trim();
  const m = DECIMAL.exec(text);
  if (m === null) return null;
  const fraction = (m[3] ?? "").replace(/0+$/, "");
  if (fraction.length > scale) return null;
  const units = BigInt(m[2] + fraction.padEnd(scale, "0"));
  return m[1] === "-" ? -units : units;
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) return "NaN";
  // Up to 12 places, no exponent (the API's money is cents; a Decimal sent as a number has few places).
  return value.toFixed(12).replace(/\.?0+$/, "");
}

/** The number of decimal places of ``amount`` (trailing zeros ignored). */
export function places(amount: Amount): number {
  const text = typeof amount === "number" ? numberText(amount) : amount.trim();
  const m = DECIMAL.exec(text);
  return m === null ? 0 : (m[3] ?? "").replace(/0+$/, "").length;
}

/** ``units`` of 10^-``scale`` as a decimal string with at least ``minPlaces`` places. */
export function fromUnits(units: bigint, scale: number, minPlaces = 2): string {
  const sign = units < 0n ? "-" : "";
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  let fraction = scale > 0 ? digits.slice(digits.length - scale).replace(/0+$/, "") : "";
  if (fraction.length < minPlaces) fraction = fraction.padEnd(minPlaces, "0");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""}`;
}

// ---------------------------------------------------------------- the form's checks

/** Field path (as the API names it) → message. */
export type FieldErrors = Record<string, string>;

/** The problem with fixed percentages (null when they are numbers ≥ 0 summing to exactly 100). */
export function percentagesProblem(percents: readonly string[]): string | null {
  if (percents.length === 0) return "Add the targets and a percentage for each.";
  const scale = 6;
  let sum = 0n;
  for (const p of percents) {
    const units = toUnits(p, scale);
    if (p.trim() === "" || units === null) return "Every percentage must be a number (at most 6 decimal places).";
    if (units < 0n) return "Percentages must not be negative.";
    sum += units;
  }
  if (sum !== 100n * 10n ** BigInt(scale)) return `The percentages must sum to exactly 100 (they sum to ${fromUnits(sum, scale, 0)}).`;
  return null;
}

function checkMatch(match: MatchDraft, where: string, errors: FieldErrors): void {
  match.tags.forEach((t, i) => {
    if (!/[\p{L}\p{N}]/u.test(t.key)) errors[`${where}.match.tags[${i}].key`] = "Enter a tag key (a letter or digit).";
  });
}

/** The form's own checks before saving, named like the API's 422 (``rules[0].value``, ``shared[1].percentages``);
 * empty when the API may be asked. */
export function draftErrors(draft: RuleSetDraft): FieldErrors {
  const errors: FieldErrors = {};
  draft.rules.forEach((r, i) => {
    const where = `rules[${i}]`;
    if (!r.value.trim()) errors[r.valueMode === "fixed" ? `${where}.value` : `${where}.value_from_tag`] = r.valueMode === "fixed" ? "Enter the value rows matching this rule get." : "Enter the tag key whose value rows get.";
    else if (r.valueMode === "fixed" && r.value.trim() === UNALLOCATED) errors[`${where}.value`] = `"${UNALLOCATED}" is what rows no rule matches get; choose another value.`;
    checkMatch(r.match, where, errors);
  });
  draft.shared.forEach((s, i) => {
    const where = `shared[${i}]`;
    if (!s.name.trim()) errors[`${where}.name`] = "Name what is shared.";
    checkMatch(s.match, where, errors);
    const targets = s.targets.map((t) => t.value.trim());
    if (targets.some((t) => t === "")) errors[`${where}.targets`] = "Every target needs a value.";
    else if (targets.includes(UNALLOCATED)) errors[`${where}.targets`] = `"${UNALLOCATED}" cannot be a target.`;
    else if (new Set(targets).size !== targets.length) errors[`${where}.targets`] = "Targets must be distinct.";
    else if (s.method === "even" && targets.length === 0) errors[`${where}.targets`] = "An even split needs its targets.";
    if (s.method === "fixed") {
      const problem = percentagesProblem(s.targets.map((t) => t.percent));
      if (problem !== null) errors[`${where}.percentages`] = problem;
    }
  });
  return errors;
}

/** The field path and message of an API error message (``rules[2].match.tags[0].key: message``); the path is
 * null when the message names none. */
export function apiFieldError(message: string): { field: string | null; message: string } {
  const m = /^((?:rules|shared)\[\d+\][\w.[\]]*|name|rules|shared|tag_aliases[\w.]*): (.*)$/s.exec(message);
  return m ? { field: m[1] ?? null, message: m[2] ?? message } : { field: null, message };
}

/** The errors of rule ``index`` in ``kind`` ("rules" / "shared"): field path → message, the path shown after the
 * rule's own prefix (``value``, ``match.tags[0].key``; "" for the rule itself). */
export function errorsOf(errors: FieldErrors, kind: "rules" | "shared", index: number): [string, string][] {
  const prefix = `${kind}[${index}]`;
  return Object.entries(errors)
    .filter(([field]) => field === prefix || field.startsWith(`${prefix}.`))
    .map(([field, message]) => [field.slice(prefix.length + 1), message]);
}

/** A problem with a new dimension's name (null when the API would take it). */
export function dimensionNameProblem(name: string): string | null {
  if (!name) return "Enter a name.";
  if (!NAME.test(name)) return "Lower-case letters, digits and _, starting with a letter (e.g. team).";
  return null;
}

// ---------------------------------------------------------------- re-allocation status

export type AllocationState = "no_rules" | "allocated" | "reallocating";

/** What a dimension's re-allocation is at: no rules saved yet; the latest version allocated; or the latest
 * version being re-allocated (readers still see ``active_version``). */
export function allocationState(d: Pick<Dimension, "active_version" | "latest_version">): AllocationState {
  if (d.latest_version === 0) return "no_rules";
  return d.active_version === d.latest_version ? "allocated" : "reallocating";
}

export function allocationStatusText(d: Pick<Dimension, "active_version" | "latest_version" | "allocated_at">): string {
  switch (allocationState(d)) {
    case "no_rules":
      return "No rules yet: everything is unallocated";
    case "allocated":
      return `Version ${d.latest_version} allocated${d.allocated_at ? ` ${d.allocated_at.slice(0, 16).replace("T", " ")} UTC` : ""}`;
    case "reallocating":
      return `Re-allocating version ${d.latest_version}${d.active_version ? ` (showing version ${d.active_version} until it finishes)` : ""}`;
  }
}

// ---------------------------------------------------------------- showback

export interface ShowbackState {
  dimension: string;
  preset: PresetName | null;
  period: Period;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function defaultShowback(today: string): ShowbackState {
  return { dimension: "", preset: "this_month", period: presetPeriod("this_month", today) };
}

/** The showback view's state from a query string (``dimension``, ``preset`` or ``start``+``end``); anything
 * missing or malformed keeps its default (this month = month to date, as everywhere). */
export function showbackFromQuery(search: string, today: string): ShowbackState {
  const params = new URLSearchParams(search);
  const state = defaultShowback(today);
  const dimension = params.get("dimension") ?? "";
  if (NAME.test(dimension)) state.dimension = dimension;
  const preset = params.get("preset");
  const start = params.get("start") ?? "";
  const end = params.get("end") ?? "";
  if (preset !== null && PRESETS.some((p) => p.name === preset)) {
    state.preset = preset as PresetName;
    state.period = presetPeriod(state.preset, today);
  } else if (DAY.test(start) && DAY.test(end) && periodProblem({ start, end }) === null) {
    state.preset = null;
    state.period = { start, end };
  }
  return state;
}

export function showbackToQuery(state: ShowbackState): string {
  const params = new URLSearchParams();
  if (state.dimension) params.set("dimension", state.dimension);
  if (state.preset !== null) params.set("preset", state.preset);
  else {
    params.set("start", state.period.start);
    params.set("end", state.period.end);
  }
  return params.toString();
}

export interface ShowbackRow {
  value: string;
  unallocated: boolean;
  /** The API's amounts as exact decimal strings. */
  cost: string;
  shared: string;
  share: string;
  /** Bar width, 0–100 (% of the largest cost). */
  bar: number;
}

export interface ShowbackTable {
  currency: string;
  rows: ShowbackRow[];
  /** The API's ``total_cost``. */
  total: string;
  /** The rows' exact sum (equal to ``total`` unless the API's answer is inconsistent). */
  rowsSum: string;
  pending: string | null;
}

function exact(amount: Amount): string {
  const scale = Math.max(2, places(amount));
  const units = toUnits(amount, scale);
  return units === null ? String(amount) : fromUnits(units, scale);
}

/** The table of one currency: the API's values in its order, ``unallocated`` added (0) when absent (it is
 * always shown) and marked, the total the API's, bars relative to the largest cost. */
export function showbackTable(answer: CurrencyAllocation): ShowbackTable {
  const values = [...answer.values];
  if (!values.some((v) => v.value === UNALLOCATED)) values.push({ value: UNALLOCATED, cost: "0", shared_cost: "0", percentage: "0" });
  const scale = Math.max(2, places(answer.total_cost), ...values.map((v) => places(v.cost)));
  const units = values.map((v) => toUnits(v.cost, scale) ?? 0n);
  const largest = units.reduce((m, u) => (u > m ? u : m), 0n);
  const rows = values.map((v, i) => {
    const u = units[i] ?? 0n;
    return {
      value: v.value,
      unallocated: v.value === UNALLOCATED,
      cost: exact(v.cost),
      shared: exact(v.shared_cost),
      share: exact(v.percentage),
      bar: largest > 0n && u > 0n ? Number((u * 10000n) / largest) / 100 : 0,
    };
  });
  const sum = units.reduce((s, u) => s + u, 0n);
  return {
    currency: answer.currency,
    rows,
    total: exact(answer.total_cost),
    rowsSum: fromUnits(sum, scale),
    pending: answer.pending === null ? null : exact(answer.pending),
  };
}

/** True when the rows add up to the API's total exactly. */
export function tableBalances(table: ShowbackTable): boolean {
  const scale = Math.max(places(table.total), places(table.rowsSum), 2);
  return toUnits(table.total, scale) === toUnits(table.rowsSum, scale);
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The CSV of ``tables`` (RFC 4180, CRLF): ``value, currency, cost, shared_cost, share_percent`` a row, then a
 * ``total`` row per currency; exactly the strings the table shows. */
export function showbackCsv(dimension: string, tables: readonly ShowbackTable[]): string {
  const lines: string[][] = [[dimension, "currency", "cost", "shared_cost", "share_percent"]];
  for (const t of tables) {
    for (const r of t.rows) lines.push([r.value, t.currency, r.cost, r.shared, r.share]);
    lines.push(["total", t.currency, t.total, "", toUnits(t.total, Math.max(2, places(t.total))) === 0n ? "0.00" : "100.00"]);
  }
  return lines.map((line) => line.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** ``showback-<dimension>-<start>-to-<last day>.csv``. */
export function showbackCsvName(dimension: string, period: Period): string {
  return `showback-${dimension}-${period.start}-to-${addDays(period.end, -1)}.csv`;
}
