// Tag governance, cost-data trust and exports (#21): the API's shapes (cloudoptima_gateway/schemas/tags.py,
// cloudoptima/domain/data_trust.py, cloudoptima_gateway/schemas/exports.py) and the pure rules the Tags, Data
// health and Exports screens share: the tag policy form ⇄ its PUT body and where a 422 field goes, coverage bar
// widths, reconciliation badges and findings in words, the export form's bodies and a run's manifest summary.
// Money the data-trust API sends as exact decimal strings is shown as sent; tag coverage money is a JSON number
// rounded to cents.

import { addDays, nextMonthStart, previousMonthStart } from "./dates";

// ---- tag governance -------------------------------------------------------------------------------------

export interface RequiredTag {
  key: string;
  aliases: string[];
  allowed_values: string[] | null;
  default_value: string | null;
}

export interface TagPolicy {
  required: RequiredTag[];
}

export interface KeyCoverage {
  key: string;
  tagged_spend: number;
  untagged_spend: number;
  /** Decimal as a string ("87.50"). */
  spend_percent: string;
  tagged_resources: number;
  resources: number;
  resource_percent: string;
}

export interface UntaggedSpend {
  name: string;
  untagged_spend: number;
}

export interface TagCoverage {
  start: string;
  end: string;
  currency: string | null;
  total_spend: number;
  untagged_spend: number;
  resources: number;
  keys: KeyCoverage[];
  by_account: UntaggedSpend[];
  by_service: UntaggedSpend[];
}

/** GET /v1/tags/untagged-spend: the spend lacking one required key per account or service. */
export interface UntaggedSpendBy {
  key: string;
  currency: string | null;
  group_by: string;
  start: string;
  end: string;
  untagged_spend: number;
  items: UntaggedSpend[];
}

export interface UntaggedResource {
  resource_id: string;
  resource_name: string | null;
  resource_type: string | null;
  provider: string | null;
  region: string | null;
  cloud_account_id: string | null;
  in_inventory: boolean;
  tags: Record<string, unknown>;
  missing: string[];
  cost: number;
}

export interface UntaggedResources {
  key: string;
  currency: string | null;
  total: number;
  limit: number;
  offset: number;
  items: UntaggedResource[];
}

/** One required key as the policy form edits it: lists as comma-separated text. */
export interface TagRow {
  key: string;
  aliases: string;
  allowedValues: string;
  defaultValue: string;
}

export const TAG_FIELDS = ["key", "aliases", "allowed_values", "default_value"] as const;
export type TagField = (typeof TAG_FIELDS)[number];

function list(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

/** The form rows of ``policy``. */
export function policyRows(policy: TagPolicy): TagRow[] {
  return policy.required.map((r) => ({
    key: r.key,
    aliases: r.aliases.join(", "),
    allowedValues: (r.allowed_values ?? []).join(", "),
    defaultValue: r.default_value ?? "",
  }));
}

/** The PUT body of the form's rows: lists split on commas (blanks dropped), an empty allowed-values list is
 * null (any value counts), an empty default is null. The key is sent as typed (the API names a bad one). */
export function policyBody(rows: readonly TagRow[]): TagPolicy {
  return {
    required: rows.map((row) => {
      const allowed = list(row.allowedValues);
      const fallback = row.defaultValue.trim();
      return { key: row.key.trim(), aliases: list(row.aliases), allowed_values: allowed.length > 0 ? allowed : null, default_value: fallback === "" ? null : fallback };
    }),
  };
}

/** Where a 422 field path of the policy goes: ``required[1].key`` → row 1, ``key``; ``required[0].aliases[2]``
 * → row 0, ``aliases``; ``required[3]`` → row 3, no field; anything else (``required``) → null (the form-wide
 * message). */
export function policyErrorAt(path: string): { row: number; field: TagField | null } | null {
  const found = /^required\[(\d+)\](?:\.([a-z_]+))?/.exec(path);
  if (found === null) return null;
  const field = found[2];
  return { row: Number(found[1]), field: field !== undefined && (TAG_FIELDS as readonly string[]).includes(field) ? (field as TagField) : null };
}

/** A bar's width in percent for a decimal percentage string, clamped to 0–100 (0 when unparsable). */
export function barWidth(percent: string | number): number {
  const value = typeof percent === "number" ? percent : Number(percent);
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, value));
}

export type CoveragePeriod = "last_30_days" | "this_month" | "last_month";

export const COVERAGE_PERIODS: readonly { id: CoveragePeriod; label: string }[] = [
  { id: "last_30_days", label: "Last 30 days" },
  { id: "this_month", label: "This month" },
  { id: "last_month", label: "Last month" },
];

/** ``[start, end)`` of a coverage period relative to ``today`` (UTC day): the last 30 complete days, this
 * month including today, or last month. */
export function coverageWindow(period: CoveragePeriod, today: string): { start: string; end: string } {
  if (period === "this_month") return { start: `${today.slice(0, 7)}-01`, end: addDays(today, 1) };
  if (period === "last_month") return { start: previousMonthStart(today), end: `${today.slice(0, 7)}-01` };
  return { start: addDays(today, -30), end: today };
}

// ---- cost-data trust ------------------------------------------------------------------------------------

export interface AccountKey {
  provider: string;
  billing_account_id: string;
  cloud_account_id: string | null;
}

export interface AccountFreshness {
  account: AccountKey;
  origin: "file" | "collection";
  /** The basis of the stored cost ("billed") and what that is in this source. */
  basis: string;
  basis_source: string;
  last_arrived_at: string | null;
  latest_usage_day: string | null;
  restating_from: string;
  restating_days: string[];
}

export interface FreshnessReport {
  as_of: string;
  restatement_days: number;
  accounts: AccountFreshness[];
}

export interface TrustFinding {
  kind: "dropped_day" | "missing_edge_day" | "duplicate_file";
  message: string;
  day: string | null;
  /** missing_edge_day: every missing first or last day of the closed month. */
  days: string[];
  files: string[];
  double_counted: boolean;
}

export type ReconciliationStatus = "reconciled" | "mismatch" | "provider_total_unavailable" | "restating";

export interface Reconciliation {
  account: AccountKey;
  month: string;
  currency: string;
  origin: "file" | "collection";
  basis: string;
  provider_basis: string;
  provider_source: string | null;
  /** Which two numbers are compared, on which basis ("billed vs billed: …"). */
  comparison: string;
  /** Why there is no provider total (null when there is one). */
  unavailable_reason: string | null;
  our_total: string;
  provider_total: string | null;
  delta: string | null;
  delta_percent: string | null;
  tolerance: string | null;
  status: ReconciliationStatus;
  month_closed: boolean;
  first_day: string | null;
  last_day: string | null;
  findings: TrustFinding[];
  invoice_ids: string[];
}

export interface ReconciliationReport {
  month: string;
  as_of: string;
  accounts: Reconciliation[];
}

/** The badge of a reconciliation status: its words and its tone (ok / warn / danger / muted). */
export function statusBadge(status: ReconciliationStatus): { label: string; tone: "ok" | "warn" | "danger" | "muted" } {
  switch (status) {
    case "reconciled":
      return { label: "Reconciled", tone: "ok" };
    case "mismatch":
      return { label: "Mismatch", tone: "danger" };
    case "restating":
      return { label: "Restating", tone: "warn" };
    default:
      return { label: "No provider total", tone: "muted" };
  }
}

/** The findings in words: "2 dropped days (2026-11-03, 2026-11-04); missing last days of the month
 * (2026-11-28 – 2026-11-30); 1 duplicate file (double counted)", or "No problems found". */
export function findingsSummary(findings: readonly TrustFinding[]): string {
  const dropped = findings.filter((f) => f.kind === "dropped_day");
  const edges = findings.filter((f) => f.kind === "missing_edge_day");
  const duplicates = findings.filter((f) => f.kind === "duplicate_file");
  const parts: string[] = [];
  if (dropped.length > 0) {
    const days = dropped.map((f) => f.day).filter((d): d is string => d !== null);
    parts.push(`${dropped.length} dropped day${dropped.length === 1 ? "" : "s"}${days.length > 0 ? ` (${days.join(", ")})` : ""}`);
  }
  for (const edge of edges) {
    const days = edge.days ?? [];
    const first = days[0];
    const last = days[days.length - 1];
    if (first === undefined || last === undefined) continue;
    const which = edge.day !== null && edge.day.endsWith("-01") ? "first" : "last";
    const span = first === last ? first : `${first} – ${last}`;
    parts.push(`missing ${which} day${days.length === 1 ? "" : "s"} of the month (${span})`);
  }
  if (duplicates.length > 0) {
    const counted = duplicates.filter((f) => f.double_counted).length;
    parts.push(`${duplicates.length} duplicate file${duplicates.length === 1 ? "" : "s"}${counted > 0 ? ` (${counted} double counted)` : ""}`);
  }
  return parts.length > 0 ? parts.join("; ") : "No problems found";
}

/** The last ``count`` billing months up to ``today``'s, newest first ("2026-12", "2026-11", …). */
export function recentMonths(today: string, count: number): string[] {
  const months: string[] = [];
  let first = `${today.slice(0, 7)}-01`;
  for (let i = 0; i < count; i++) {
    months.push(first.slice(0, 7));
    first = previousMonthStart(first);
  }
  return months;
}

/** The month before ``today``'s (the first closed one), e.g. "2026-11" on 2026-12-07. */
export function lastClosedMonth(today: string): string {
  return previousMonthStart(today).slice(0, 7);
}

/** "AWS 123456789012" or the cloud account's name when known. */
export function accountLabel(account: AccountKey, names: ReadonlyMap<string, string>): string {
  const named = account.cloud_account_id === null ? undefined : names.get(account.cloud_account_id);
  return named ?? `${account.provider.toUpperCase()} ${account.billing_account_id}`;
}

// ---- exports --------------------------------------------------------------------------------------------

export const DATASETS = [
  { id: "focus_raw", label: "FOCUS rows (raw)" },
  { id: "daily", label: "Daily totals" },
  { id: "allocated_daily", label: "Allocated daily" },
] as const;
export const EXPORT_FORMATS = ["parquet", "csv"] as const;
export const PARTITIONS = ["month", "day"] as const;

export interface ExportRecurrence {
  frequency: "daily" | "weekly" | "monthly";
  day_of_week: number | null;
  day_of_month: number | null;
  time: string;
  timezone: string;
}

export interface ExportSchedule {
  schedule_id: string;
  name: string;
  dataset: string;
  format: string;
  partition: string;
  destination: Record<string, unknown>;
  schedule: ExportRecurrence;
  enabled: boolean;
  paused: boolean | null;
  temporal_schedule_id: string;
  next_run_times: string[];
  created_at: string;
}

export interface ExportFile {
  path: string;
  partition: string;
  rows: number;
  bytes: number;
  sha256: string;
  billed_cost: Record<string, string>;
}

export interface ExportRun {
  run_id: string;
  schedule_id: string | null;
  dataset: string;
  format: string;
  partition: string;
  period_start: string;
  period_end: string;
  destination: Record<string, unknown>;
  status: string;
  error: string | null;
  manifest: { files?: ExportFile[]; rows?: number; billed_cost?: Record<string, string> } | null;
  started_at: string;
  finished_at: string | null;
}

export interface ExportFormState {
  name: string;
  dataset: string;
  format: string;
  partition: string;
  /** FOCUS version of a one-off ``focus_raw`` export ("" = the API's default, 1.2). */
  focusVersion: string;
  kind: "folder" | "s3";
  path: string;
  bucket: string;
  prefix: string;
  region: string;
  endpointUrl: string;
  frequency: "daily" | "weekly" | "monthly";
  dayOfWeek: string;
  dayOfMonth: string;
  time: string;
  timezone: string;
}

export function emptyExportForm(timezone = "UTC"): ExportFormState {
  return {
    name: "",
    dataset: "focus_raw",
    format: "parquet",
    partition: "month",
    focusVersion: "",
    kind: "folder",
    path: ".",
    bucket: "",
    prefix: "",
    region: "",
    endpointUrl: "",
    frequency: "monthly",
    dayOfWeek: "0",
    dayOfMonth: "1",
    time: "06:00",
    timezone,
  };
}

function whole(raw: string): number | string {
  const trimmed = raw.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** The destination object of the form: ``{kind: folder, path}`` or ``{kind: s3, bucket, prefix[, region,
 * endpoint_url]}`` (blank optional fields left out; the API names a bad one). */
export function exportDestination(form: ExportFormState): Record<string, unknown> {
  if (form.kind === "folder") return { kind: "folder", path: form.path.trim() };
  const s3: Record<string, unknown> = { kind: "s3", bucket: form.bucket.trim(), prefix: form.prefix.trim() };
  if (form.region.trim() !== "") s3["region"] = form.region.trim();
  if (form.endpointUrl.trim() !== "") s3["endpoint_url"] = form.endpointUrl.trim();
  return s3;
}

/** The ExportScheduleIn body (the day field only for the frequency that takes it; an empty name left out). */
export function exportScheduleBody(form: ExportFormState): Record<string, unknown> {
  const schedule: Record<string, unknown> = { frequency: form.frequency, time: form.time.trim(), timezone: form.timezone.trim() };
  if (form.frequency === "weekly") schedule["day_of_week"] = whole(form.dayOfWeek);
  if (form.frequency === "monthly") schedule["day_of_month"] = whole(form.dayOfMonth);
  const name = form.name.trim();
  return { ...(name ? { name } : {}), dataset: form.dataset, format: form.format, partition: form.partition, destination: exportDestination(form), schedule };
}

/** The ExportRunIn body of a one-off export of ``[start, end)`` (``focus_version`` only for ``focus_raw``
 * when one is picked). */
export function exportRunBody(form: ExportFormState, start: string, end: string): Record<string, unknown> {
  const version = form.dataset === "focus_raw" && form.focusVersion !== "" ? { focus_version: form.focusVersion } : {};
  return { dataset: form.dataset, format: form.format, partition: form.partition, start, end, ...version, destination: exportDestination(form) };
}

/** The anchors of the export form's 422 messages. */
export const EXPORT_ANCHORS = ["name", "dataset", "format", "partition", "focus_version", "start", "end", "destination", "schedule"] as const;

/** Where an export goes, in words: "folder ./finance" or "s3://bucket/prefix". */
export function destinationLabel(destination: Record<string, unknown>): string {
  if (destination["kind"] === "s3") return `s3://${String(destination["bucket"] ?? "")}/${String(destination["prefix"] ?? "")}`;
  return `folder ${String(destination["path"] ?? ".")}`;
}

/** A run's manifest in short: files, rows, billed cost per currency and the files' checksums shortened. */
export function runSummary(run: ExportRun): { files: number; rows: number; billed: string; checksums: string } | null {
  const manifest = run.manifest;
  if (manifest === null) return null;
  const files = manifest.files ?? [];
  const billed = Object.entries(manifest.billed_cost ?? {})
    .map(([currency, amount]) => `${amount} ${currency}`)
    .join(", ");
  const checksums = files.map((f) => `${f.path.split("/").pop() ?? f.path} ${f.sha256.slice(0, 12)}…`).join("; ");
  return { files: files.length, rows: manifest.rows ?? files.reduce((sum, f) => sum + f.rows, 0), billed, checksums };
}

/** True while a run has not settled (``queued``, then ``running``, until it succeeds or fails). */
export function isRunning(run: Pick<ExportRun, "status">): boolean {
  return run.status !== "succeeded" && run.status !== "failed";
}

/** The default one-off export period: last month, ``[first of last month, first of this month)``. */
export function lastMonthWindow(today: string): { start: string; end: string } {
  const start = previousMonthStart(today);
  return { start, end: nextMonthStart(start) };
}
