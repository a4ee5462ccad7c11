// Budgets: the form's values to the API's body and back, and writes that keep the API's per-field validation
// errors (a 422's ``detail`` items, with the close matches the API suggests for an unknown scope value).

import { ApiError, currentAccessToken, refreshSession } from "./api";
import { monthStart, nextMonthStart } from "./dates";
import { readableFieldMessage, type DetailItem } from "./fieldMessages";

export type BudgetPeriod = "monthly" | "quarterly" | "annual";
export type ScopeType = "account" | "service" | "tag" | "team" | "allocation";

export interface BudgetDetail {
  id: string;
  name: string;
  amount: number;
  currency: string;
  period: BudgetPeriod;
  start_date: string;
  end_date: string;
  scope: { type: string; filters: { values?: unknown; tag_key?: unknown; dimension?: unknown } };
  period_start: string;
  period_end: string;
  current_spend: number;
  forecasted_spend: number;
  forecast_available: boolean;
  utilization_percent: number;
  status: "on_track" | "at_risk" | "exceeded";
  alerts: { threshold: number; type: "actual" | "forecasted"; triggered: boolean; last_triggered_at: string | null }[];
}

export interface BudgetForm {
  name: string;
  amount: string;
  currency: string;
  period: BudgetPeriod;
  startDate: string;
  endDate: string;
  scopeType: ScopeType;
  /** Comma-separated. */
  values: string;
  tagKey: string;
  /** The allocation dimension's name (allocation scopes). */
  dimension: string;
  /** Comma-separated percentages of actual spend. */
  thresholds: string;
}

/** A field's problem as the API stated it, with its suggestions (empty when none). */
export interface FieldProblem {
  message: string;
  suggestions: string[];
  /** The refused value (for replacing it with a suggestion). */
  input: string | null;
}

export class BudgetRefused extends ApiError {
  /** Field path (``name``, ``scope.values.0``; "" for the whole body) to its problems. */
  readonly fields: Readonly<Record<string, FieldProblem[]>>;
  constructor(status: number, message: string, fields: Record<string, FieldProblem[]>) {
    super(status, message);
    this.fields = fields;
    this.name = "BudgetRefused";
  }
}

/** A blank form: a monthly budget for the twelve months from this month's first day. */
export function emptyForm(today: string): BudgetForm {
  let end = monthStart(today);
  for (let i = 0; i < 12; i++) end = nextMonthStart(end);
  return {
    name: "",
    amount: "",
    currency: "USD",
    period: "monthly",
    startDate: monthStart(today),
    endDate: end,
    scopeType: "account",
    values: "",
    tagKey: "",
    dimension: "",
    thresholds: "80, 100",
  };
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** The form of an existing budget (for editing). */
export function formOf(budget: BudgetDetail): BudgetForm {
  const values = Array.isArray(budget.scope.filters.values) ? budget.scope.filters.values.map(String) : [];
  const tagKey = typeof budget.scope.filters.tag_key === "string" ? budget.scope.filters.tag_key : "";
  const dimension = typeof budget.scope.filters.dimension === "string" ? budget.scope.filters.dimension : "";
  const scopeType =
    (["account", "service", "tag", "team", "allocation"] as const).find((t) => t === budget.scope.type) ?? "account";
  return {
    name: budget.name,
    amount: budget.amount.toFixed(2),
    currency: budget.currency,
    period: budget.period,
    startDate: budget.start_date,
    endDate: budget.end_date,
    scopeType,
    values: values.join(", "),
    tagKey,
    dimension,
    thresholds: budget.alerts.filter((a) => a.type === "actual").map((a) => String(a.threshold)).join(", "),
  };
}

/** The API's body for ``form`` (the API validates; numbers are sent as the typed strings' values). */
export function bodyOf(form: BudgetForm): Record<string, unknown> {
  return {
    name: form.name,
    amount: form.amount.trim(),
    currency: form.currency.trim().toUpperCase(),
    period: form.period,
    start_date: form.startDate,
    end_date: form.endDate,
    scope: {
      type: form.scopeType,
      values: list(form.values),
      ...(form.scopeType === "tag" ? { tag_key: form.tagKey.trim() } : {}),
      ...(form.scopeType === "allocation" ? { dimension: form.dimension.trim() } : {}),
    },
    alerts: list(form.thresholds).map((t) => ({ threshold: t, type: "actual" })),
  };
}

/** The per-field problems of a FastAPI 422 body: ``loc`` without ``body`` joined with "."; ``ctx.suggestions``
 * when the API gave close matches. */
export function fieldProblems(body: unknown): Record<string, FieldProblem[]> {
  const fields: Record<string, FieldProblem[]> = {};
  if (typeof body !== "object" || body === null || !("detail" in body)) return fields;
  const detail = (body as { detail: unknown }).detail;
  if (typeof detail === "string") return { "": [{ message: detail, suggestions: [], input: null }] };
  if (!Array.isArray(detail)) return fields;
  for (const item of detail) {
    if (typeof item !== "object" || item === null) continue;
    const { loc, ctx, input } = item as { loc?: unknown; ctx?: unknown; input?: unknown };
    const key = Array.isArray(loc) ? loc.filter((p) => p !== "body").map(String).join(".") : "";
    const raw = typeof ctx === "object" && ctx !== null ? (ctx as { suggestions?: unknown }).suggestions : undefined;
    const suggestions = Array.isArray(raw) ? raw.map(String) : [];
    (fields[key] ??= []).push({ message: readableFieldMessage(item as DetailItem), suggestions, input: typeof input === "string" ? input : null });
  }
  return fields;
}

/** The form field a problem path belongs to (``scope.values.2`` → ``values``; unknown paths → ""). */
export function formField(path: string): keyof BudgetForm | "" {
  const map: Record<string, keyof BudgetForm> = {
    name: "name",
    amount: "amount",
    currency: "currency",
    period: "period",
    start_date: "startDate",
    end_date: "endDate",
    "scope.type": "scopeType",
    "scope.values": "values",
    "scope.tag_key": "tagKey",
    "scope.dimension": "dimension",
    alerts: "thresholds",
  };
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const found = map[parts.slice(0, n).join(".")];
    if (found) return found;
  }
  return "";
}

/** Send a budget write; the parsed answer, or throws BudgetRefused carrying the API's per-field problems. */
export async function writeBudget<T>(method: "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const attempt = (): Promise<Response> => {
    const token = currentAccessToken();
    return fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  let response = await attempt();
  if (response.status === 401 && (await refreshSession())) response = await attempt();
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const fields = fieldProblems(parsed);
    const joined = Object.entries(fields)
      .flatMap(([k, ps]) => ps.map((p) => (k ? `${k}: ${p.message}` : p.message)))
      .join("; ");
    throw new BudgetRefused(response.status, joined || `${path} answered ${response.status}`, fields);
  }
  return parsed as T;
}
