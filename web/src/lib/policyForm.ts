// The policy editor's form state and the pure rules between it and the API: the PolicyIn body of
// POST /v1/policies and PUT /v1/policies/{id} (cloudoptima_gateway/schemas/policies.py), the form state of a
// stored policy (for "Edit"), and the anchors the editor shows the API's 422 messages at (fieldPlacement.ts).
// The API checks everything again; the few checks made here (JSON of an action's config) only catch what the
// form itself cannot send.

import type { PolicyOut } from "./policies";

/** The provider action kinds the API accepts (cloudoptima.domain.recommendations.PROVIDER_ACTION_KINDS). */
export const ACTION_TYPES = ["stop", "start", "resize", "snapshot_and_delete_disk", "delete_snapshot", "release_ip", "tag", "untag"] as const;

/** Condition operators (PolicyIn.conditions[].operator). */
export const CONDITION_OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "older_than_days"] as const;

/** Event names a trigger may name (cloudoptima.domain.policy_fields.EVENTS). */
export const EVENTS = ["anomaly.detected", "recommendation.created", "budget.threshold_crossed", "resource.created", "resource.changed", "collection.failed"] as const;

/** Threshold metrics: the cost metric, then the utilisation metrics (policy_fields.COST_METRICS + METRICS). */
export const THRESHOLD_METRICS = ["daily_cost", "connections", "cpu_percent", "disk_io_ops", "memory_percent", "network_in_bytes", "network_out_bytes", "requests"] as const;

export const THRESHOLD_OPERATORS = ["gt", "gte", "lt", "lte"] as const;

/** An example ``config`` per action type (the editor's placeholder). */
export const ACTION_CONFIG_EXAMPLES: Record<string, string> = {
  resize: '{"size": "t3.small"}',
  tag: '{"tags": {"owner": "finops"}}',
  untag: '{"keys": ["temporary"]}',
};

/** Actions that stop, shrink or delete something (every kind but ``start``, ``tag`` and ``untag``): a policy
 * that runs one of these with no condition touches every resource in scope, so the form asks first. */
export const DESTRUCTIVE_ACTION_TYPES: readonly string[] = ["stop", "resize", "snapshot_and_delete_disk", "delete_snapshot", "release_ip"];

/** A new policy's action: a ``tag`` marking resources for review (reversible, changes nothing that runs). */
export const SAFE_DEFAULT_ACTION: ActionRow = { type: "tag", config: '{"tags": {"cloudoptima-review": "flagged"}}' };

/** The message refusing an enabled, condition-less policy with a destructive action (keyed ``conditions``). */
export const EVERY_RESOURCE_MESSAGE =
  "this enabled policy has no conditions and a destructive action, so it applies to every resource in scope: add a condition, disable it, or tick the confirmation";

export type TriggerKind = "schedule" | "event" | "threshold";

export interface ConditionRow {
  field: string;
  operator: string;
  /** As typed: a list is comma-separated, ``exists`` takes true/false. */
  value: string;
}

export interface ActionRow {
  type: string;
  /** The action's ``config`` as JSON text ("" or "{}" for none). */
  config: string;
}

export interface PolicyFormState {
  name: string;
  description: string;
  enabled: boolean;
  riskLevel: "" | "low" | "medium" | "high";
  trigger: TriggerKind;
  scheduleMode: "cron" | "interval";
  cron: string;
  intervalSeconds: string;
  event: string;
  /** Event or threshold filters, one ``key=value`` a line. */
  filters: string;
  metric: string;
  thresholdOperator: string;
  thresholdValue: string;
  windowDays: string;
  aggregation: "every_day" | "average";
  conditions: ConditionRow[];
  actions: ActionRow[];
  dryRunFirst: boolean;
  requireApproval: boolean;
  rollbackEnabled: boolean;
  maxResources: string;
  /** The user confirmed an enabled policy with no conditions and a destructive action may touch every
   * resource in scope (client-side only; never sent). */
  confirmEveryResource: boolean;
}

/** Whether ``form`` is enabled, has no condition and runs a destructive action (so needs the confirmation). */
export function appliesToEveryResource(form: PolicyFormState): boolean {
  return form.enabled && form.conditions.length === 0 && form.actions.some((a) => DESTRUCTIVE_ACTION_TYPES.includes(a.type));
}

/** A new policy's form: disabled, an event trigger on anomalies, one reversible ``tag`` action (see
 * SAFE_DEFAULT_ACTION), the API's safety defaults. */
export function emptyPolicyForm(): PolicyFormState {
  return {
    name: "",
    description: "",
    enabled: false,
    riskLevel: "",
    trigger: "event",
    scheduleMode: "cron",
    cron: "0 6 * * *",
    intervalSeconds: "3600",
    event: "anomaly.detected",
    filters: "",
    metric: "daily_cost",
    thresholdOperator: "gt",
    thresholdValue: "",
    windowDays: "1",
    aggregation: "every_day",
    conditions: [],
    actions: [{ ...SAFE_DEFAULT_ACTION }],
    dryRunFirst: true,
    requireApproval: true,
    rollbackEnabled: true,
    maxResources: "25",
    confirmEveryResource: false,
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function conditionValueText(operator: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (operator === "exists") return value === false ? "false" : "true";
  return text(value);
}

function filtersText(filters: unknown): string {
  return Object.entries(record(filters))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("\n");
}

/** The form state of a stored policy (for "Edit"); what the form has no control for is kept as JSON text
 * (action configs) or as ``key=value`` filter lines. */
export function formFromPolicy(policy: PolicyOut): PolicyFormState {
  const base = emptyPolicyForm();
  const trigger = record(policy.trigger);
  const config = record(trigger["config"]);
  const type = trigger["type"];
  const safety = policy.safety_controls;
  const risk = safety["risk_level"];
  return {
    ...base,
    name: policy.name,
    description: policy.description ?? "",
    enabled: policy.enabled,
    riskLevel: risk === "low" || risk === "medium" || risk === "high" ? risk : "",
    trigger: type === "schedule" || type === "threshold" ? type : "event",
    scheduleMode: typeof config["interval_seconds"] === "number" ? "interval" : "cron",
    cron: typeof config["cron"] === "string" ? config["cron"] : base.cron,
    intervalSeconds: typeof config["interval_seconds"] === "number" ? String(config["interval_seconds"]) : base.intervalSeconds,
    event: typeof config["event"] === "string" ? config["event"] : base.event,
    filters: filtersText(config["filters"]),
    metric: typeof config["metric"] === "string" ? config["metric"] : base.metric,
    thresholdOperator: typeof config["operator"] === "string" ? config["operator"] : base.thresholdOperator,
    thresholdValue: text(config["value"]),
    windowDays: config["window_days"] !== undefined ? text(config["window_days"]) : base.windowDays,
    aggregation: config["aggregation"] === "average" ? "average" : "every_day",
    conditions: policy.conditions.map((c) => ({
      field: text(c["field"]),
      operator: typeof c["operator"] === "string" ? c["operator"] : "eq",
      value: conditionValueText(String(c["operator"]), c["value"]),
    })),
    actions: policy.actions.map((a) => {
      const cfg = record(a["config"]);
      return { type: text(a["type"]), config: Object.keys(cfg).length ? JSON.stringify(cfg) : "" };
    }),
    dryRunFirst: safety["dry_run_first"] !== false,
    requireApproval: safety["require_approval"] !== false,
    rollbackEnabled: safety["rollback_enabled"] !== false,
    maxResources: typeof safety["max_resources_per_execution"] === "number" ? String(safety["max_resources_per_execution"]) : base.maxResources,
  };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;

/** A number when ``raw`` is one, else the text itself (the API then names the field). */
function numberOrText(raw: string): number | string {
  const trimmed = raw.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : trimmed;
}

function integerOrText(raw: string): number | string {
  const trimmed = raw.trim();
  return INTEGER.test(trimmed) ? Number(trimmed) : trimmed;
}

/** One condition's ``value``: a list for in/not_in (comma-separated), a boolean for ``exists``, a number for
 * the ordering operators and ``older_than_days`` when it is one, else the text. */
export function conditionValue(operator: string, raw: string): unknown {
  const trimmed = raw.trim();
  if (operator === "in" || operator === "not_in") return trimmed === "" ? [] : trimmed.split(",").map((v) => v.trim()).filter((v) => v !== "");
  if (operator === "exists") return trimmed !== "false";
  if (["gt", "gte", "lt", "lte", "older_than_days"].includes(operator)) return trimmed === "" ? null : numberOrText(trimmed);
  return trimmed;
}

/** ``key=value`` lines → an object (blank lines skipped; a value that is a number stays text: filters
 * compare as the event payload carries them). */
export function parseFilters(lines: string): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const line of lines.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    const at = trimmed.indexOf("=");
    if (at < 0) filters[trimmed] = "";
    else filters[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return filters;
}

/** The result of turning the form into a body: the body, or the fields the form itself found wrong (keyed
 * like the API's paths, so they show at the same places). */
export type BuiltPolicy = { ok: true; body: Record<string, unknown> } | { ok: false; fields: Record<string, string> };

/** The PolicyIn body for ``form``; an action's config that is not a JSON object is refused here (keyed
 * ``actions.<i>.config``), and so is an enabled policy with no conditions and a destructive action unless
 * ``confirmEveryResource`` is ticked (keyed ``conditions``); everything else is left to the API. */
export function policyBody(form: PolicyFormState): BuiltPolicy {
  const fields: Record<string, string> = {};
  if (appliesToEveryResource(form) && !form.confirmEveryResource) fields["conditions"] = EVERY_RESOURCE_MESSAGE;
  const actions = form.actions.map((a, i) => {
    const raw = a.config.trim();
    if (raw === "") return { type: a.type, config: {} };
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      return { type: a.type, config: parsed as Record<string, unknown> };
    } catch {
      fields[`actions.${i}.config`] = 'must be a JSON object, e.g. {"size": "t3.small"}';
      return { type: a.type, config: {} };
    }
  });
  if (Object.keys(fields).length > 0) return { ok: false, fields };

  let config: Record<string, unknown>;
  if (form.trigger === "schedule") {
    config = form.scheduleMode === "cron" ? { cron: form.cron.trim() } : { interval_seconds: integerOrText(form.intervalSeconds) };
  } else if (form.trigger === "event") {
    config = { event: form.event, filters: parseFilters(form.filters) };
  } else {
    config = {
      metric: form.metric,
      operator: form.thresholdOperator,
      value: numberOrText(form.thresholdValue),
      window_days: integerOrText(form.windowDays),
      aggregation: form.aggregation,
      filters: parseFilters(form.filters),
    };
  }
  const description = form.description.trim();
  return {
    ok: true,
    body: {
      name: form.name.trim(),
      description: description === "" ? null : description,
      enabled: form.enabled,
      trigger: { type: form.trigger, config },
      conditions: form.conditions.map((c) => ({ field: c.field.trim(), operator: c.operator, value: conditionValue(c.operator, c.value) })),
      actions,
      safety_controls: {
        dry_run_first: form.dryRunFirst,
        require_approval: form.requireApproval,
        rollback_enabled: form.rollbackEnabled,
        max_resources_per_execution: integerOrText(form.maxResources),
      },
      ...(form.riskLevel ? { risk_level: form.riskLevel } : {}),
    },
  };
}

/** Where the editor shows errors: every field it has, by the API's path. */
export function policyAnchors(form: PolicyFormState): string[] {
  const anchors = [
    "name",
    "description",
    "enabled",
    "risk_level",
    "trigger",
    "trigger.config.cron",
    "trigger.config.interval_seconds",
    "trigger.config.event",
    "trigger.config.filters",
    "trigger.config.metric",
    "trigger.config.operator",
    "trigger.config.value",
    "trigger.config.window_days",
    "trigger.config.aggregation",
    "conditions",
    "actions",
    "safety_controls",
    "safety_controls.max_resources_per_execution",
  ];
  form.conditions.forEach((_, i) => anchors.push(`conditions.${i}`, `conditions.${i}.field`, `conditions.${i}.operator`, `conditions.${i}.value`));
  form.actions.forEach((_, i) => anchors.push(`actions.${i}`, `actions.${i}.type`, `actions.${i}.config`));
  return anchors;
}
