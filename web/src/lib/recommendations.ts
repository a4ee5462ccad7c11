// Recommendations: the API's shapes (cloudoptima_gateway/schemas/recommendations.py, narratives.py,
// cloudoptima/domain/executions.py) and the pure rules the screen follows (filters → query, paging, the
// permission an apply needs, when an execution has settled).
import { money } from "./format";
import type { TicketLink } from "./tickets";

export type Risk = "low" | "medium" | "high";

export interface Recommendation {
  id: string;
  /** The currency of the estimates (null when unknown). */
  currency: string | null;
  title: string;
  description: string | null;
  category: string;
  risk_level: Risk;
  status: string;
  provider: string | null;
  region: string | null;
  confidence: number | null;
  estimated_savings_monthly: number | null;
  estimated_savings_annual: number | null;
  price_source: string | null;
  affected_resources: { id: string; name: string; current_cost: number }[];
  actions: { type: string; resource_id: string | null; description: string; parameters: Record<string, unknown> }[];
  manual_steps: string[];
  impact_analysis: { performance_impact: string; availability_impact: string; security_impact: string } | null;
  created_at: string;
  expires_at: string | null;
  /** Where its tracker ticket lives (detail only; #22 tickets). */
  ticket?: TicketLink | null;
  /** Accepted ones: who owns applying it and by when (#22 lifecycle). */
  owner_user_id?: string | null;
  due_date?: string | null;
}

export interface RecommendationList {
  recommendations: Recommendation[];
  total: number;
  total_matching: number | null;
  next_cursor: string | null;
}

export interface ImpactPreview {
  cost_impact: { current_monthly: number | null; projected_monthly: number | null; savings: number | null };
  resource_changes: { resource_id: string; change_type: string; before: Record<string, unknown>; after: Record<string, unknown> }[];
  risks: string[];
  rollback: string | null;
}

export interface Narrative {
  recommendation_id: string;
  audience: "engineer" | "finance";
  narrative: string;
  source: string;
  written_at: string | null;
}

export interface ApplyResult {
  execution_id: string;
  status: string;
  estimated_completion: string | null;
  dry_run: boolean;
  approval_required: boolean;
}

export interface DryRunStep {
  index: number;
  resource_id: string;
  action: string;
  valid: boolean | null;
  problems: string[];
  rollback_available: boolean;
  irreversible: string | null;
}

export interface Execution {
  id: string;
  state: string;
  dry_run: boolean;
  approval_required: boolean;
  /** The plan's risk: the highest of the recommendation's and its actions' (decides who may approve). */
  risk_level?: string;
  error: string | null;
  dry_run_result: { valid: boolean; problems: string[]; steps: DryRunStep[] };
}

/** The statuses, categories, risks and sorts ``GET /v1/recommendations`` accepts (no provider filter). */
export const STATUSES = [
  "active",
  "accepted",
  "snoozed",
  "false_positive",
  "applied",
  "scheduled",
  "completed",
  "dismissed",
  "expired",
] as const;
export const CATEGORIES = ["compute", "storage", "network", "database"] as const;
export const RISKS: readonly Risk[] = ["low", "medium", "high"];
export const SORTS = ["savings", "priority", "risk", "age"] as const;

export interface Filters {
  status: (typeof STATUSES)[number];
  category: (typeof CATEGORIES)[number] | "";
  risk: Risk | "";
  sort: (typeof SORTS)[number];
  /** Only those the signed-in user owns (``owner=me``). */
  mine?: boolean;
  /** Only accepted ones past their due date (``overdue=true``; the status becomes ``accepted``). */
  overdue?: boolean;
}

export const DEFAULT_FILTERS: Filters = { status: "active", category: "", risk: "", sort: "savings", mine: false, overdue: false };

/** ``filters`` with the "mine" / "overdue" toggles applied: both concern accepted recommendations, so
 * turning one on moves the status to ``accepted`` (the API refuses ``overdue`` with another status). */
export function toggled(filters: Filters, key: "mine" | "overdue", on: boolean): Filters {
  return { ...filters, [key]: on, ...(on ? { status: "accepted" as const } : {}) };
}

export const PAGE_SIZE = 25;

/** The query of one page: empty filters are left out; ``cursor`` is the previous page's ``next_cursor``. */
export function listParams(filters: Filters, cursor: string | null, limit = PAGE_SIZE): Record<string, string | number | undefined> {
  return {
    status: filters.status,
    category: filters.category || undefined,
    risk_level: filters.risk || undefined,
    sort_by: filters.sort,
    owner: filters.mine ? "me" : undefined,
    overdue: filters.overdue && filters.status === "accepted" ? "true" : undefined,
    limit,
    cursor: cursor ?? undefined,
  };
}

/** ``next`` appended to ``shown`` (a row already shown is not repeated). */
export function appendPage(shown: readonly Recommendation[], next: readonly Recommendation[]): Recommendation[] {
  const seen = new Set(shown.map((r) => r.id));
  return [...shown, ...next.filter((r) => !seen.has(r.id))];
}

/** The permission applying a recommendation of ``risk`` needs (the API's RISK_PERMISSION; unknown → high). */
export function applyPermission(risk: string): string {
  return risk === "low" || risk === "medium" ? `apply:${risk}_risk_recommendations` : "apply:high_risk_recommendations";
}

/** True once a dry run has its answer (``dry_run`` or a terminal failure), or a real request reached the
 * approval wait (or went beyond it). */
export function settled(execution: Pick<Execution, "state">, dryRun: boolean): boolean {
  const terminal = ["completed", "dry_run", "rejected", "expired", "refused", "failed", "rolled_back", "cancelled"];
  if (terminal.includes(execution.state)) return true;
  return !dryRun && ["pending_approval", "approved", "scheduled", "executing", "verifying"].includes(execution.state);
}

/** A confidence in 0..1 as a whole percentage ("n/a" when unknown). */
export function confidenceText(confidence: number | null): string {
  return confidence === null ? "n/a" : `${Math.round(confidence * 100)} %`;
}

/** An amount with its currency (the API's ``currency``), or with two decimals and thousands separators alone
 * when the currency is unknown (null). */
export function amount(value: number | null, currency: string | null = null): string {
  if (value === null) return "n/a";
  if (currency !== null && currency !== "") return money(value, currency);
  return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
