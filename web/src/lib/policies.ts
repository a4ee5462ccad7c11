// Policies: the API's shapes for automation policies (GET /v1/policies, GET /v1/policies/{id},
// GET /v1/policies/{id}/executions, GET /v1/policies/{id}/firings) and the pure rules the Policies screen
// applies to them (the PUT body that flips ``enabled``, one-line summaries of a trigger and of actions).

export interface PolicyOut {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  /** As stored: ``{type: "schedule" | "event" | "threshold", config: {...}}``. */
  trigger: Record<string, unknown>;
  conditions: Record<string, unknown>[];
  actions: Record<string, unknown>[];
  /** As stored; may carry ``risk_level`` beside the safety switches. */
  safety_controls: Record<string, unknown>;
  last_executed: string | null;
  execution_count: number;
  success_rate: number | null;
}

export interface PolicyList {
  policies: PolicyOut[];
}

export interface PolicyExecution {
  id: string;
  workflow_id: string | null;
  started_at: string;
  completed_at: string | null;
  status: "success" | "failed" | "partial" | "pending" | "running" | "cancelled";
  state: string;
  dry_run: boolean;
  resources_affected: number | null;
  logs: string[];
  error: string | null;
}

export interface PolicyExecutionList {
  executions: PolicyExecution[];
}

export interface PolicyFiring {
  id: string;
  trigger: string;
  event: string | null;
  metric: string | null;
  observed: string | null;
  threshold: string | null;
  resource_ids: string[];
  execution_id: string;
  fired_at: string;
}

export interface PolicyFiringList {
  firings: PolicyFiring[];
}

/** The trigger's type ("schedule", "event", "threshold"), or "unknown" for a malformed stored trigger. */
export function triggerType(policy: PolicyOut): string {
  const type = policy.trigger["type"];
  return typeof type === "string" ? type : "unknown";
}

function configOf(value: Record<string, unknown>): Record<string, unknown> {
  const config = value["config"];
  return typeof config === "object" && config !== null && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
}

const OPERATORS: Record<string, string> = { gt: ">", gte: "≥", lt: "<", lte: "≤" };

/** One line for the trigger: ``schedule · 0 6 * * *``, ``event · anomaly.detected``, ``threshold · daily_cost > 100``. */
export function triggerSummary(policy: PolicyOut): string {
  const type = triggerType(policy);
  const config = configOf(policy.trigger);
  let detail: unknown = config["cron"] ?? config["event"];
  if (typeof config["interval_seconds"] === "number") detail = `every ${config["interval_seconds"]} s`;
  if (typeof config["metric"] === "string") {
    const op = OPERATORS[String(config["operator"])] ?? "";
    detail = op && config["value"] !== undefined ? `${config["metric"]} ${op} ${String(config["value"])}` : config["metric"];
  }
  return detail === undefined || detail === null || typeof detail === "object" ? type : `${type} · ${String(detail)}`;
}

/** The action types in order, comma-separated (``stop_instance, tag_resource``). */
export function actionsSummary(policy: PolicyOut): string {
  const types = policy.actions.map((a) => (typeof a["type"] === "string" ? a["type"] : "?"));
  return types.length ? types.join(", ") : "—";
}

/** The full PUT /v1/policies/{id} body that stores ``policy`` unchanged except ``enabled``: the stored
 * ``risk_level`` moves from the safety controls back to its own field (the API refuses unknown keys there). */
export function toggledBody(policy: PolicyOut, enabled: boolean): Record<string, unknown> {
  const { risk_level: risk, ...safety } = policy.safety_controls;
  const trigger = { type: triggerType(policy), config: configOf(policy.trigger) };
  return {
    name: policy.name,
    description: policy.description,
    enabled,
    trigger,
    conditions: policy.conditions,
    actions: policy.actions,
    safety_controls: safety,
    ...(typeof risk === "string" ? { risk_level: risk } : {}),
  };
}

/** Whether the reader may flip or delete ``policy``: ``write:policies``, plus ``schedule:policies`` for a
 * schedule trigger (the API asks for both when a schedule policy is stored). */
export function canChange(policy: PolicyOut, can: (permission: string) => boolean): boolean {
  if (!can("write:policies")) return false;
  return triggerType(policy) !== "schedule" || can("schedule:policies");
}
