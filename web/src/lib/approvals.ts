// Approvals: the API's shapes for pending remediations and executions (GET /v1/approvals,
// GET /v1/executions/{id}) and the pure rules the Approvals screen applies to them.

import type { Principal } from "./session";

export interface PendingApproval {
  execution_id: string;
  workflow_id: string | null;
  kind: string;
  policy_id: string | null;
  recommendation_id: string | null;
  title: string;
  risk_level: string | null;
  approver_roles: string[];
  requested_by: string | null;
  requested_at: string;
  expires_at: string | null;
  scheduled_for: string | null;
  plan: Record<string, unknown>;
  impact: Record<string, unknown>;
  temporal_ui_approval_code: string | null;
}

export interface PendingApprovalList {
  approvals: PendingApproval[];
  total: number;
}

export interface DecisionOut {
  execution_id: string;
  workflow_id: string;
  state: string;
  approved: boolean;
  approvals: number;
  approvals_needed: number;
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

export interface RollbackLink {
  execution_id: string;
  state: string;
  requested_by: string | null;
  requested_at: string;
}

export interface ExecutionDetail {
  id: string;
  workflow_id: string | null;
  kind: string;
  title: string;
  state: string;
  dry_run: boolean;
  risk_level: string | null;
  recommendation_id: string | null;
  policy_id: string | null;
  requested_by: string | null;
  requested_by_role: string | null;
  started_at: string;
  updated_at: string | null;
  completed_at: string | null;
  approval_required: boolean;
  expires_at: string | null;
  error: string | null;
  plan: Record<string, unknown>;
  dry_run_result: { valid: boolean; problems: string[]; steps: DryRunStep[] };
  decision: { decision: string; user_id: string | null; role: string | null; channel: string | null; decided_at: string | null; comment: string | null } | null;
  steps: Record<string, unknown>[];
  timeline: { state: string; at: string }[];
  saving: { gross_monthly: string | number | null; safety_snapshots_monthly: string | number; snapshots_taken: boolean; net_monthly: string | number | null };
  rollback_of: RollbackLink | null;
  rolled_back_by: RollbackLink[];
  rollback_possible: boolean;
  rollback_refusal: string | null;
}

export interface RollbackOut {
  execution_id: string;
  rollback_of: string;
  state: string;
  risk_level: string;
}

/** Impact numbers of a plan (``plan.impact`` / a pending approval's ``impact``), as decimal strings or null. */
export interface Impact {
  current: string | null;
  projected: string | null;
  savings: string | null;
  risks: string[];
  rollbackAvailable: boolean | null;
}

/** States after which an execution never moves again (the domain's TERMINAL_STATES). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  "completed",
  "dry_run",
  "rejected",
  "expired",
  "refused",
  "failed",
  "rolled_back",
  "cancelled",
]);

export function isTerminal(state: string): boolean {
  return TERMINAL_STATES.has(state);
}

/** The permission that applying or approving a change of ``risk`` needs (unknown risk: the high one). */
export function riskPermission(risk: string | null): string {
  const level = risk === "low" || risk === "medium" ? risk : "high";
  return `apply:${level}_risk_recommendations`;
}

function decimalText(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return value.toString();
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return value;
  return null;
}

/** The impact of a plan from the API's free-form object; absent or malformed fields are null. */
export function impactOf(raw: unknown): Impact {
  const o = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    current: decimalText(o.current_monthly),
    projected: decimalText(o.projected_monthly),
    savings: decimalText(o.savings),
    risks: Array.isArray(o.risks) ? o.risks.filter((r): r is string => typeof r === "string") : [],
    rollbackAvailable: typeof o.rollback_available === "boolean" ? o.rollback_available : null,
  };
}

/** Why the reader cannot decide ``execution`` here, or null when the decision form may be shown: it must be
 * pending, in the reader's approvals inbox (the API filters by role and separation of duties) and within the
 * reader's risk permission. */
export function decisionBlocker(
  execution: Pick<ExecutionDetail, "state" | "risk_level" | "requested_by">,
  inInbox: boolean,
  principal: Principal | null,
): string | null {
  if (execution.state !== "pending_approval") return `This remediation is ${execution.state.replace(/_/g, " ")}; nothing to decide.`;
  if (principal === null) return "Sign in to decide.";
  const needed = riskPermission(execution.risk_level);
  if (!principal.permissions.includes("*") && !principal.permissions.includes(needed))
    return `Your role (${principal.role}) cannot decide a ${execution.risk_level ?? "high"}-risk remediation.`;
  if (!inInbox && execution.requested_by === principal.userId)
    return "You requested this remediation: another person must approve it (separation of duties).";
  if (!inInbox) return "This remediation is not waiting for your role.";
  return null;
}

/** The id of the execution a policy_executions event refers to, or null. */
export function eventExecutionId(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const id = (data as { execution_id?: unknown }).execution_id;
  return typeof id === "string" ? id : null;
}
