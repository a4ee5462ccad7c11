// Anomalies: the API's shapes (GET /v1/costs/anomalies and …/{id}, POST …/{id}/status and …/{id}/feedback) and the pure
// helpers the Anomalies screen uses (ordering, filters, the contribution bars, the actions a status offers).

export type AnomalyStatus = "active" | "resolved" | "ignored";
export type AnomalySeverity = "high" | "medium" | "low";
export type AnomalyFeedback = "yes" | "no" | "planned_activity";

export interface AnomalyDriver {
  key: string;
  label: string | null;
  actual: number;
  expected: number;
  change: number;
  share_percent: number | null;
  new: boolean;
}

export interface AnomalyDrivers {
  resources: AnomalyDriver[];
  usage_types: AnomalyDriver[];
  tags: AnomalyDriver[];
}

export interface Anomaly {
  id: string;
  detected_at: string;
  start_date: string | null;
  /** The last anomalous day (inclusive). */
  end_date: string | null;
  /** The currency of the amounts (null when unknown). */
  currency?: string | null;
  service: string | null;
  region: string | null;
  severity: string;
  kind: "anomaly" | "change";
  impact_amount: number | null;
  expected_spend: number | null;
  actual_spend: number | null;
  deviation_percent: number | null;
  root_cause: string | null;
  root_cause_source: string;
  status: string;
  feedback: string | null;
  affected_resources: string[];
  drivers: AnomalyDrivers | null;
}

export interface AnomalyPage {
  anomalies: Anomaly[];
  total: number;
}

/** The permission the API checks for status changes and feedback (``Triager`` in routes/costs.py). */
export const TRIAGE_PERMISSION = "write:resources";

export const STATUSES: readonly AnomalyStatus[] = ["active", "resolved", "ignored"];
export const SEVERITIES: readonly AnomalySeverity[] = ["high", "medium", "low"];

const SEVERITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

/** Newest first: by first day (undated last), then detection time, then the larger impact. */
export function newestFirst(rows: readonly Anomaly[]): Anomaly[] {
  return [...rows].sort((a, b) => {
    const day = (b.start_date ?? "").localeCompare(a.start_date ?? "");
    if (day !== 0) return day;
    const detected = b.detected_at.localeCompare(a.detected_at);
    if (detected !== 0) return detected;
    return Math.abs(b.impact_amount ?? 0) - Math.abs(a.impact_amount ?? 0);
  });
}

/** The severity's rank (high 0, medium 1, low 2, anything else 3). */
export function severityRank(severity: string): number {
  return SEVERITY_RANK[severity] ?? 3;
}

/** The incident's period as shown: one day, or ``first – last`` (``end_date`` is the last anomalous day,
 * inclusive, as the API and the stored explanation state it). */
export function period(a: Pick<Anomaly, "start_date" | "end_date">): string {
  if (a.start_date === null) return "undated";
  if (a.end_date === null) return `${a.start_date} –`;
  return a.end_date <= a.start_date ? a.start_date : `${a.start_date} – ${a.end_date}`;
}

/** The stored explanation as short points: its lines, or (one-paragraph texts) its sentences. */
export function explanationPoints(text: string): string[] {
  const lines = text.split(/\n+/).map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length > 1) return lines;
  return text.split(/(?<=[.!?])\s+(?=[A-Z[])/).map((l) => l.trim()).filter((l) => l !== "");
}

/** Where the incident happened: service and region (``all services`` when neither is known). */
export function scope(a: Pick<Anomaly, "service" | "region">): string {
  const parts = [a.service, a.region].filter((p): p is string => p !== null && p !== "");
  return parts.length > 0 ? parts.join(" · ") : "all services";
}

export interface ContributionBar {
  group: "resources" | "usage_types" | "tags";
  key: string;
  label: string;
  change: number;
  sharePercent: number | null;
  isNew: boolean;
  /** Bar length in percent of the largest absolute change in all groups (0–100). */
  width: number;
}

export const GROUP_LABELS: Record<ContributionBar["group"], string> = {
  resources: "Resources",
  usage_types: "Usage types",
  tags: "Tags",
};

/** The stored drivers as bars, in the API's order within each group, scaled to the largest |change|. */
export function contributionBars(drivers: AnomalyDrivers | null): ContributionBar[] {
  if (drivers === null) return [];
  const groups: ContributionBar["group"][] = ["resources", "usage_types", "tags"];
  const all = groups.flatMap((group) => (drivers[group] ?? []).map((d) => ({ group, d })));
  const largest = Math.max(0, ...all.map(({ d }) => Math.abs(d.change)));
  return all.map(({ group, d }) => ({
    group,
    key: d.key,
    label: d.label ?? d.key,
    change: d.change,
    sharePercent: d.share_percent,
    isNew: d.new,
    width: largest > 0 ? Math.round((Math.abs(d.change) / largest) * 1000) / 10 : 0,
  }));
}

export interface StatusAction {
  status: AnomalyStatus;
  label: string;
  testId: string;
}

/** The status changes the API accepts from ``status`` (every other status; named for the reader). */
export function statusActions(status: string): StatusAction[] {
  const all: StatusAction[] = [
    { status: "resolved", label: "Resolve", testId: "anomaly-action-resolve" },
    { status: "ignored", label: "Ignore", testId: "anomaly-action-ignore" },
    { status: "active", label: "Re-open", testId: "anomaly-action-reopen" },
  ];
  return all.filter((a) => a.status !== status);
}

export const FEEDBACK_LABELS: Record<AnomalyFeedback, string> = {
  yes: "Real anomaly",
  no: "Not an anomaly",
  planned_activity: "Planned activity",
};
