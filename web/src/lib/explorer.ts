// The Cost explorer's state in the URL's query string (a shareable link; a reload restores it), the
// overview query it asks, and the per-group table (period × group, exact cent strings) with its CSV.

import { addDays } from "./dates";
import { periodProblem, presetPeriod, PRESETS, type Period, type PresetName } from "./costs";

export type Granularity = "daily" | "weekly" | "monthly";

export interface ExplorerState {
  preset: PresetName | null;
  period: Period;
  groupBy: string;
  granularity: Granularity;
  provider: string;
  /** cloud_accounts ids. */
  accounts: string[];
  services: string[];
  regions: string[];
  /** "key:value" or "" (no tag filter). */
  tag: string;
  compare: boolean;
}

export const BASE_GROUPS = ["service", "account", "region", "provider", "category"] as const;
const PROVIDERS = ["aws", "azure", "gcp"];
const GRANULARITIES: readonly Granularity[] = ["daily", "weekly", "monthly"];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function defaultState(today: string): ExplorerState {
  return {
    preset: "this_month",
    period: presetPeriod("this_month", today),
    groupBy: "service",
    granularity: "daily",
    provider: "",
    accounts: [],
    services: [],
    regions: [],
    tag: "",
    compare: true,
  };
}

function list(params: URLSearchParams, name: string): string[] {
  const found: string[] = [];
  for (const item of params.getAll(name)) for (const part of item.split(",")) if (part.trim() && !found.includes(part.trim())) found.push(part.trim());
  return found;
}

/** The state a query string describes; anything missing or malformed keeps its default (a preset wins over
 * dates; dates are used only when both are well-formed). */
export function stateFromQuery(search: string, today: string): ExplorerState {
  const params = new URLSearchParams(search);
  const state = defaultState(today);
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
  const group = params.get("group_by") ?? "";
  if ((BASE_GROUPS as readonly string[]).includes(group) || (group.startsWith("tag:") && group.length > 4)) state.groupBy = group;
  const granularity = params.get("granularity") ?? "";
  if ((GRANULARITIES as readonly string[]).includes(granularity)) state.granularity = granularity as Granularity;
  const provider = params.get("provider") ?? "";
  if (PROVIDERS.includes(provider)) state.provider = provider;
  state.accounts = list(params, "account");
  state.services = list(params, "service");
  state.regions = list(params, "region");
  const tag = params.get("tag") ?? "";
  if (tagProblem(tag) === null) state.tag = tag;
  state.compare = params.get("compare") !== "0";
  return state;
}

/** The query string of ``state`` (without "?"): a preset, or the two dates; lists comma-joined; defaults left out. */
export function stateToQuery(state: ExplorerState): string {
  const params = new URLSearchParams();
  if (state.preset !== null) params.set("preset", state.preset);
  else {
    params.set("start", state.period.start);
    params.set("end", state.period.end);
  }
  if (state.groupBy !== "service") params.set("group_by", state.groupBy);
  if (state.granularity !== "daily") params.set("granularity", state.granularity);
  if (state.provider) params.set("provider", state.provider);
  if (state.accounts.length) params.set("account", state.accounts.join(","));
  if (state.services.length) params.set("service", state.services.join(","));
  if (state.regions.length) params.set("region", state.regions.join(","));
  if (state.tag) params.set("tag", state.tag);
  if (!state.compare) params.set("compare", "0");
  return params.toString();
}

/** Why a tag filter cannot be sent (null when it is empty or "key:value" with a non-empty key). */
export function tagProblem(tag: string): string | null {
  if (tag === "") return null;
  const colon = tag.indexOf(":");
  if (colon <= 0 || tag.slice(0, colon).trim() === "") return "Write the tag as key:value, e.g. team:web.";
  return null;
}

/** The ``GET /v1/costs/overview`` parameters of ``state`` over ``period`` (with the per-group series). */
export function overviewQuery(state: ExplorerState, period: Period, seriesGroups = 8): Record<string, string | undefined> {
  const tagKey = state.groupBy.startsWith("tag:") ? state.groupBy.slice(4) : undefined;
  return {
    start_date: period.start,
    end_date: period.end,
    granularity: state.granularity,
    group_by: tagKey === undefined ? state.groupBy : "tag",
    tag_key: tagKey,
    cloud_provider: state.provider || undefined,
    cloud_account_id: state.accounts.length ? state.accounts.join(",") : undefined,
    service: state.services.length ? state.services.join(",") : undefined,
    region: state.regions.length ? state.regions.join(",") : undefined,
    tag: state.tag && tagProblem(state.tag) === null ? state.tag : undefined,
    series_by_group: "true",
    series_groups: String(seriesGroups),
  };
}

export interface GroupSeries {
  key: string;
  name: string | null;
  other: boolean;
  total: number;
  points: { date: string; cost: number }[];
}

export interface GroupTable {
  columns: { key: string; label: string }[];
  rows: { period: string; cells: string[]; total: string }[];
  totals: string[];
  total: string;
}

function cents(value: number): number {
  return Math.round(value * 100);
}

/** Cents as an exact "-12.34" string. */
export function fromCents(value: number): string {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Period × group: one row per point of ``series`` (the API's cent values, so each row's cells add up exactly
 * to its total), a total per group and overall. */
export function groupTable(series: readonly GroupSeries[], timeSeries: readonly { date: string; cost: number }[]): GroupTable {
  const columns = series.map((s) => ({ key: s.key, label: s.name ?? s.key }));
  const rows = timeSeries.map((point, i) => ({
    period: point.date,
    cells: series.map((s) => fromCents(cents(s.points[i]?.cost ?? 0))),
    total: fromCents(cents(point.cost)),
  }));
  const totals = series.map((s) => fromCents(s.points.reduce((sum, p) => sum + cents(p.cost), 0)));
  const total = fromCents(timeSeries.reduce((sum, p) => sum + cents(p.cost), 0));
  return { columns, rows, totals, total };
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The CSV of ``table`` (RFC 4180, CRLF): ``period_start``, one column per group (its label), ``total``. */
export function groupCsv(table: GroupTable, currency: string): string {
  const header = ["period_start", ...table.columns.map((c) => c.label), `total_${currency}`];
  const lines = [header, ...table.rows.map((r) => [r.period, ...r.cells, r.total])];
  return lines.map((line) => line.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** ``costs-by-<group>-per-<granularity>-<start>-to-<last day>.csv``. */
export function groupCsvName(groupBy: string, granularity: Granularity, period: Period): string {
  const safe = groupBy.replace(/[^A-Za-z0-9_-]+/g, "_");
  return `costs-by-${safe}-per-${granularity}-${period.start}-to-${addDays(period.end, -1)}.csv`;
}
