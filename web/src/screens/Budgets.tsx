// Budgets: every budget with its current period's spend, forecast and status and a burn-down bar; create, edit
// and delete for roles with write:budgets, the API's validation errors (and its suggestions for an unknown
// scope value) shown next to their field.

import { useState, type ReactNode } from "react";
import { getJson } from "../lib/api";
import { BudgetRefused, bodyOf, emptyForm, formField, formOf, writeBudget, type BudgetDetail, type BudgetForm, type FieldProblem } from "../lib/budgets";
import { todayUtc } from "../lib/dates";
import { money } from "../lib/format";
import { useCan, useLoad } from "../lib/hooks";
import { useLiveVersion } from "../lib/live";
import { MultiPick } from "../components/MultiPick";
import type { CloudAccountList } from "../lib/types";
import "./explorer.css";

const STATUS_LABEL: Record<BudgetDetail["status"], string> = { on_track: "On track", at_risk: "At risk", exceeded: "Exceeded" };

function BurnBar({ budget }: { budget: BudgetDetail }) {
  const spent = budget.amount > 0 ? Math.min((budget.current_spend / budget.amount) * 100, 100) : 0;
  const forecast = budget.amount > 0 ? Math.min((budget.forecasted_spend / budget.amount) * 100, 100) : 0;
  return (
    <div className="burn" data-testid="budget-burn" data-spent={spent.toFixed(1)} role="img" aria-label={`${budget.utilization_percent.toFixed(1)} % of the budget spent${budget.forecast_available ? `, forecast ${forecast.toFixed(0)} %` : ""}`}>
      <span className={`burn-spent ${budget.status}`} style={{ width: `${spent}%` }} />
      {budget.forecast_available && <span className="burn-forecast" style={{ left: `calc(${forecast}% - 2px)` }} />}
    </div>
  );
}

/** The comma-separated values of the form as a list (blanks dropped). */
function splitValues(text: string): string[] {
  return text.split(",").map((v) => v.trim()).filter((v) => v !== "");
}

function scopeText(budget: BudgetDetail): string {
  const values = Array.isArray(budget.scope.filters.values) ? budget.scope.filters.values.map(String) : [];
  const key = typeof budget.scope.filters.tag_key === "string" ? `${budget.scope.filters.tag_key}=` : "";
  if (values.length === 0) return budget.scope.type === "account" ? "All accounts" : budget.scope.type;
  return `${budget.scope.type}: ${values.map((v) => key + v).join(", ")}`;
}

function Problems({ field, problems, onUse }: { field: string; problems: FieldProblem[]; onUse: (problem: FieldProblem, suggestion: string) => void }) {
  if (problems.length === 0) return null;
  return (
    <div id={`budget-${field}-error`} data-testid={`budget-error-${field}`}>
      {problems.map((p, i) => (
        <p key={i} className="field-error" role="alert">
          {p.message}
          {p.suggestions.map((s) => (
            <button key={s} type="button" className="suggestion" data-testid="budget-suggestion" data-value={s} onClick={() => onUse(p, s)}>
              Use “{s}”
            </button>
          ))}
        </p>
      ))}
    </div>
  );
}

function BudgetEditor({ initial, budgetId, onDone, onCancel }: { initial: BudgetForm; budgetId: string | null; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState(initial);
  const [problems, setProblems] = useState<Record<string, FieldProblem[]>>({});
  const [busy, setBusy] = useState(false);
  // The organisation's cloud accounts, for the account scope's picker (the typed-ids field when none load).
  const accountList = useLoad("cloud-accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"));
  const accounts = accountList.state === "ready" ? accountList.value.accounts : [];
  const set = <K extends keyof BudgetForm>(key: K, value: BudgetForm[K]): void => setForm((f) => ({ ...f, [key]: value }));
  const use = (problem: FieldProblem, suggestion: string): void => {
    if (problem.input === null) return;
    const replaced = form.values.split(",").map((v) => (v.trim() === problem.input ? suggestion : v.trim()));
    set("values", replaced.join(", "));
  };

  const submit = async (): Promise<void> => {
    setBusy(true);
    setProblems({});
    try {
      if (budgetId === null) await writeBudget("POST", "/v1/budgets", bodyOf(form));
      else await writeBudget("PUT", `/v1/budgets/${encodeURIComponent(budgetId)}`, bodyOf(form));
      onDone();
    } catch (error) {
      const byField: Record<string, FieldProblem[]> = {};
      if (error instanceof BudgetRefused) {
        for (const [path, list] of Object.entries(error.fields)) (byField[formField(path)] ??= []).push(...list);
        if (Object.keys(byField).length === 0) byField[""] = [{ message: error.message, suggestions: [], input: null }];
      } else {
        byField[""] = [{ message: error instanceof Error ? error.message : String(error), suggestions: [], input: null }];
      }
      setProblems(byField);
    } finally {
      setBusy(false);
    }
  };

  const field = (key: keyof BudgetForm, label: string, control: ReactNode): ReactNode => (
    <div>
      <label>
        {label}
        {control}
      </label>
      <Problems field={key} problems={problems[key] ?? []} onUse={use} />
    </div>
  );
  const described = (key: keyof BudgetForm): { "aria-invalid"?: true; "aria-describedby"?: string } =>
    problems[key] ? { "aria-invalid": true, "aria-describedby": `budget-${key}-error` } : {};

  return (
    <form
      className="card spaced"
      data-testid="budget-form"
      aria-label={budgetId === null ? "New budget" : "Edit budget"}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>{budgetId === null ? "New budget" : `Edit ${initial.name}`}</h2>
      <div className="form-grid">
        {field("name", "Name", <input data-testid="budget-name" value={form.name} onChange={(e) => set("name", e.target.value)} {...described("name")} />)}
        {field("amount", "Amount", <input data-testid="budget-amount" inputMode="decimal" value={form.amount} onChange={(e) => set("amount", e.target.value)} {...described("amount")} />)}
        {field("currency", "Currency", <input data-testid="budget-currency" maxLength={3} value={form.currency} onChange={(e) => set("currency", e.target.value)} {...described("currency")} />)}
        {field(
          "period",
          "Period",
          <select data-testid="budget-period" value={form.period} onChange={(e) => set("period", e.target.value as BudgetForm["period"])}>
            <option value="monthly">Monthly</option>
            <option value="quarterly">Quarterly</option>
            <option value="annual">Annual</option>
          </select>,
        )}
        {field("startDate", "Start", <input type="date" data-testid="budget-start" value={form.startDate} onChange={(e) => set("startDate", e.target.value)} {...described("startDate")} />)}
        {field("endDate", "End (not included)", <input type="date" data-testid="budget-end" value={form.endDate} onChange={(e) => set("endDate", e.target.value)} {...described("endDate")} />)}
        {field(
          "scopeType",
          "Scope",
          <select data-testid="budget-scope-type" value={form.scopeType} onChange={(e) => set("scopeType", e.target.value as BudgetForm["scopeType"])}>
            <option value="account">Accounts</option>
            <option value="service">Services</option>
            <option value="tag">Tag values</option>
            <option value="team">Teams</option>
            <option value="allocation">Allocation values</option>
          </select>,
        )}
        {form.scopeType === "tag" &&
          field("tagKey", "Tag key", <input data-testid="budget-tag-key" value={form.tagKey} onChange={(e) => set("tagKey", e.target.value)} {...described("tagKey")} />)}
        {form.scopeType === "allocation" &&
          field("dimension", "Allocation dimension", <input data-testid="budget-dimension" value={form.dimension} onChange={(e) => set("dimension", e.target.value)} {...described("dimension")} />)}
        {form.scopeType === "account" && accounts.length > 0 ? (
          <div>
            <MultiPick
              testId="budget-accounts"
              label="Accounts"
              allText="All accounts"
              options={accounts.map((a) => ({ value: a.account_id, label: a.account_name ?? a.account_id, hint: `${a.provider} ${a.account_id}` }))}
              selected={splitValues(form.values)}
              onChange={(next) => set("values", next.join(", "))}
            />
            <Problems field="values" problems={problems["values"] ?? []} onUse={use} />
          </div>
        ) : (
          field(
            "values",
            form.scopeType === "account" ? "Account ids (comma-separated; empty = all)" : "Values (comma-separated)",
            <input data-testid="budget-values" value={form.values} onChange={(e) => set("values", e.target.value)} {...described("values")} />,
          )
        )}
        {field("thresholds", "Alert at % of amount (comma-separated)", <input data-testid="budget-thresholds" value={form.thresholds} onChange={(e) => set("thresholds", e.target.value)} {...described("thresholds")} />)}
      </div>
      <Problems field="form" problems={problems[""] ?? []} onUse={use} />
      <div className="actions">
        <button type="submit" data-testid="budget-save" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
        <button type="button" data-testid="budget-cancel" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function Budgets({ now }: { now?: Date }) {
  const today = todayUtc(now);
  const canWrite = useCan("write:budgets");
  const [version, setVersion] = useState(0);
  const [editing, setEditing] = useState<{ id: string | null; form: BudgetForm } | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const live = useLiveVersion("budget_alerts");
  const budgets = useLoad("budgets", () => getJson<{ budgets: BudgetDetail[] }>("/v1/budgets"), `${version}:${live}`);

  const remove = async (budget: BudgetDetail): Promise<void> => {
    if (!window.confirm(`Delete the budget “${budget.name}”?`)) return;
    setDeleteError(null);
    try {
      await writeBudget("DELETE", `/v1/budgets/${encodeURIComponent(budget.id)}`);
      setVersion((v) => v + 1);
    } catch (error) {
      setDeleteError(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div data-testid="budgets">
      <header className="page-header controls">
        <h1>Budgets</h1>
        <span className="spacer" />
        {canWrite && editing === null && (
          <button type="button" data-testid="budget-new" onClick={() => setEditing({ id: null, form: emptyForm(today) })}>
            New budget
          </button>
        )}
      </header>
      {editing !== null && (
        <BudgetEditor
          key={editing.id ?? "new"}
          initial={editing.form}
          budgetId={editing.id}
          onCancel={() => setEditing(null)}
          onDone={() => {
            setEditing(null);
            setVersion((v) => v + 1);
          }}
        />
      )}
      {deleteError !== null && (
        <p className="error" role="alert" data-testid="budget-delete-error">
          {deleteError}
        </p>
      )}
      {budgets.state === "loading" && <p className="muted" data-testid="budgets-state" data-state="loading">Loading…</p>}
      {budgets.state === "error" && (
        <p className="error" role="alert" data-testid="budgets-state" data-state="error">
          {budgets.status === 403 ? "Your role cannot see budgets." : budgets.message}
        </p>
      )}
      {budgets.state === "ready" && (
        <section className="card table-wrap spaced" data-testid="budgets-list" data-state="ready" data-count={budgets.value.budgets.length}>
          {budgets.value.budgets.length === 0 ? (
            <p className="muted">No budgets yet.</p>
          ) : (
            <table className="data">
              <caption className="visually-hidden">Budgets and their current period</caption>
              <thead>
                <tr>
                  <th scope="col">Budget</th>
                  <th scope="col">Period</th>
                  <th scope="col" className="num">Limit</th>
                  <th scope="col" className="num">Spent</th>
                  <th scope="col" className="num">Forecast</th>
                  <th scope="col">Burn-down</th>
                  <th scope="col">Status</th>
                  {canWrite && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {budgets.value.budgets.map((b) => (
                  <tr key={b.id} data-testid="budget-row" data-id={b.id} data-status={b.status}>
                    <th scope="row">
                      <span data-testid="budget-row-name">{b.name}</span>
                      <div className="muted small">{scopeText(b)}</div>
                    </th>
                    <td className="small">
                      {b.period}
                      <div className="muted">
                        {b.period_start} – {b.period_end}
                      </div>
                    </td>
                    <td className="num" data-testid="budget-row-limit" data-value={b.amount.toFixed(2)}>{money(b.amount, b.currency)}</td>
                    <td className="num" data-testid="budget-row-spent" data-value={b.current_spend.toFixed(2)}>{money(b.current_spend, b.currency)}</td>
                    <td className="num" data-testid="budget-row-forecast" data-value={b.forecasted_spend.toFixed(2)}>
                      {b.forecast_available ? money(b.forecasted_spend, b.currency) : "n/a"}
                    </td>
                    <td>
                      <BurnBar budget={b} />
                      <div className="muted small">{b.utilization_percent.toFixed(1)} %</div>
                    </td>
                    <td className={`status-${b.status}`} data-testid="budget-row-status">{STATUS_LABEL[b.status]}</td>
                    {canWrite && (
                      <td>
                        <div className="actions">
                          <button type="button" data-testid="budget-edit" onClick={() => setEditing({ id: b.id, form: formOf(b) })}>
                            Edit
                          </button>
                          <button type="button" data-testid="budget-delete" onClick={() => void remove(b)}>
                            Delete
                          </button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </div>
  );
}
