// Writing policies: ``/policies/new`` creates one (POST /v1/policies), ``/policies/<id>/edit`` replaces one
// (PUT /v1/policies/{id}, the whole definition), with every field the API's PolicyIn takes: name,
// description, enabled, risk level, trigger (schedule cron/interval — only for readers holding
// ``schedule:policies`` —, event with filters, threshold), conditions, actions with their config, safety
// controls. The API's 422 messages show next to the field their path names (fieldPlacement.ts); what no field
// covers is listed above the buttons. ``DryRunButton`` runs POST /v1/policies/{id}/execute ``{dry_run: true}``
// and lists what the policy would touch. Only readers holding ``write:policies`` see these controls (the API
// enforces it).

import { useState, type FormEvent, type ReactNode } from "react";
import { getJson } from "../lib/api";
import { placeErrors, type Placement } from "../lib/fieldPlacement";
import { useCan, useLoad, usePrincipal } from "../lib/hooks";
import { canChange, type PolicyOut } from "../lib/policies";
import {
  ACTION_CONFIG_EXAMPLES,
  ACTION_TYPES,
  CONDITION_OPERATORS,
  EVENTS,
  THRESHOLD_METRICS,
  THRESHOLD_OPERATORS,
  emptyPolicyForm,
  formFromPolicy,
  policyAnchors,
  policyBody,
  appliesToEveryResource,
  type PolicyFormState,
  type TriggerKind,
} from "../lib/policyForm";
import { navigate } from "../lib/router";
import { can } from "../lib/session";
import { FieldErrors, submitJson } from "../lib/submit";
import "./co-forms.css";
import "./writes.css";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The messages placed at ``anchor`` (data-testid ``policy-form-error-<anchor>``). */
function Err({ placement, at }: { placement: Placement; at: string }) {
  const messages = placement.placed[at];
  if (!messages) return null;
  return (
    <span className="co-field-error" role="alert" data-testid={`policy-form-error-${at}`} data-field={at}>
      {messages.join("; ")}
    </span>
  );
}

function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  return (
    <label>
      {label}
      {children}
      {hint && <small className="muted">{hint}</small>}
    </label>
  );
}

/** "New policy" for readers holding ``write:policies``. */
export function NewPolicyButton() {
  if (!useCan("write:policies")) return null;
  return (
    <a className="button wr-button" href="/policies/new" data-testid="policy-new" onClick={(e) => { e.preventDefault(); navigate("/policies/new"); }}>
      New policy
    </a>
  );
}

/** The create/edit form; ``initial`` is the stored policy when editing. */
function PolicyForm({ initial }: { initial: PolicyOut | null }) {
  const canSchedule = useCan("schedule:policies");
  const [form, setForm] = useState<PolicyFormState>(() => (initial ? formFromPolicy(initial) : emptyPolicyForm()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placement = placeErrors(errors, policyAnchors(form));
  const set = (patch: Partial<PolicyFormState>): void => setForm((f) => ({ ...f, ...patch }));
  const invalid = (at: string): boolean => placement.placed[at] !== undefined;

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setErrors({});
    setFailure(null);
    const built = policyBody(form);
    if (!built.ok) {
      setErrors(built.fields);
      return;
    }
    setBusy(true);
    const request = initial
      ? submitJson<unknown>("PUT", `/v1/policies/${encodeURIComponent(initial.id)}`, built.body).then(() => initial.id)
      : submitJson<{ policy_id: string }>("POST", "/v1/policies", built.body).then((created) => created.policy_id);
    request.then(
      (id) => {
        setBusy(false);
        navigate(`/policies/${id}`);
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof FieldErrors && Object.keys(error.fields).length > 0) setErrors(error.fields);
        else setFailure(message(error));
      },
    );
  };

  const setCondition = (i: number, patch: Partial<PolicyFormState["conditions"][number]>): void =>
    set({ conditions: form.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  const setAction = (i: number, patch: Partial<PolicyFormState["actions"][number]>): void =>
    set({ actions: form.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) });

  return (
    <form className="co-form card wr-form" data-testid="policy-form" data-mode={initial ? "edit" : "create"} onSubmit={submit} noValidate>
      <fieldset>
        <legend>Policy</legend>
        <Field label="Name *">
          <input type="text" data-testid="policy-form-name" value={form.name} aria-invalid={invalid("name")} onChange={(e) => set({ name: e.target.value })} />
        </Field>
        <Err placement={placement} at="name" />
        <Field label="Description">
          <textarea data-testid="policy-form-description" rows={2} value={form.description} onChange={(e) => set({ description: e.target.value })} />
        </Field>
        <Err placement={placement} at="description" />
        <div className="wr-row">
          <label className="wr-check">
            <input type="checkbox" data-testid="policy-form-enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
            Enabled
          </label>
          <Field label="Risk level floor">
            <select data-testid="policy-form-risk" value={form.riskLevel} onChange={(e) => set({ riskLevel: e.target.value as PolicyFormState["riskLevel"] })}>
              <option value="">From the actions</option>
              <option value="low">low</option>
              <option value="medium">medium</option>
              <option value="high">high</option>
            </select>
          </Field>
        </div>
        <Err placement={placement} at="risk_level" />
      </fieldset>

      <fieldset data-testid="policy-form-trigger-section">
        <legend>Trigger</legend>
        <Field label="Type">
          <select data-testid="policy-form-trigger" value={form.trigger} onChange={(e) => set({ trigger: e.target.value as TriggerKind })}>
            <option value="event">Event</option>
            <option value="threshold">Threshold</option>
            <option value="schedule" disabled={!canSchedule && form.trigger !== "schedule"}>
              Schedule{canSchedule ? "" : " (needs schedule:policies)"}
            </option>
          </select>
        </Field>
        <Err placement={placement} at="trigger" />
        {form.trigger === "schedule" && (
          <>
            <Field label="Runs">
              <select data-testid="policy-form-schedule-mode" value={form.scheduleMode} onChange={(e) => set({ scheduleMode: e.target.value as "cron" | "interval" })}>
                <option value="cron">On a cron expression (UTC)</option>
                <option value="interval">Every N seconds</option>
              </select>
            </Field>
            {form.scheduleMode === "cron" ? (
              <Field label="Cron (minute hour day month weekday)">
                <input type="text" data-testid="policy-form-cron" value={form.cron} aria-invalid={invalid("trigger.config.cron")} onChange={(e) => set({ cron: e.target.value })} />
              </Field>
            ) : (
              <Field label="Interval (seconds, at least 60)">
                <input type="number" min={60} data-testid="policy-form-interval" value={form.intervalSeconds} onChange={(e) => set({ intervalSeconds: e.target.value })} />
              </Field>
            )}
            <Err placement={placement} at="trigger.config.cron" />
            <Err placement={placement} at="trigger.config.interval_seconds" />
          </>
        )}
        {form.trigger === "event" && (
          <Field label="Event">
            <select data-testid="policy-form-event" value={form.event} onChange={(e) => set({ event: e.target.value })}>
              {EVENTS.map((ev) => <option key={ev} value={ev}>{ev}</option>)}
            </select>
          </Field>
        )}
        <Err placement={placement} at="trigger.config.event" />
        {form.trigger === "threshold" && (
          <>
            <div className="wr-row">
              <Field label="Metric">
                <select data-testid="policy-form-metric" value={form.metric} onChange={(e) => set({ metric: e.target.value })}>
                  {THRESHOLD_METRICS.map((m) => <option key={m} value={m}>{m}</option>)}
                </select>
              </Field>
              <Field label="Operator">
                <select data-testid="policy-form-threshold-operator" value={form.thresholdOperator} onChange={(e) => set({ thresholdOperator: e.target.value })}>
                  {THRESHOLD_OPERATORS.map((o) => <option key={o} value={o}>{o}</option>)}
                </select>
              </Field>
              <Field label="Value">
                <input type="text" inputMode="decimal" data-testid="policy-form-threshold-value" value={form.thresholdValue} aria-invalid={invalid("trigger.config.value")} onChange={(e) => set({ thresholdValue: e.target.value })} />
              </Field>
            </div>
            <div className="wr-row">
              <Field label="Window (days)">
                <input type="number" min={1} max={90} data-testid="policy-form-window" value={form.windowDays} onChange={(e) => set({ windowDays: e.target.value })} />
              </Field>
              <Field label="Aggregation">
                <select data-testid="policy-form-aggregation" value={form.aggregation} onChange={(e) => set({ aggregation: e.target.value as "every_day" | "average" })}>
                  <option value="every_day">every day of the window</option>
                  <option value="average">the window's daily average</option>
                </select>
              </Field>
            </div>
            {["metric", "operator", "value", "window_days", "aggregation"].map((k) => <Err key={k} placement={placement} at={`trigger.config.${k}`} />)}
          </>
        )}
        {form.trigger !== "schedule" && (
          <Field label="Filters (one key=value a line)" hint={form.trigger === "event" ? "e.g. severity=high" : "e.g. service_name=Amazon EC2"}>
            <textarea rows={2} data-testid="policy-form-filters" value={form.filters} aria-invalid={invalid("trigger.config.filters")} onChange={(e) => set({ filters: e.target.value })} />
          </Field>
        )}
        <Err placement={placement} at="trigger.config.filters" />
      </fieldset>

      <fieldset data-testid="policy-form-conditions">
        <legend>Conditions (all must match; none matches every resource)</legend>
        {form.conditions.map((c, i) => (
          <div className="wr-line" key={i} data-testid="policy-form-condition">
            <input type="text" aria-label={`Condition ${i + 1} field`} placeholder="resource_type, tags.team, metrics.cpu_percent.avg" data-testid={`policy-form-condition-field-${i}`} value={c.field} aria-invalid={invalid(`conditions.${i}.field`)} onChange={(e) => setCondition(i, { field: e.target.value })} />
            <select aria-label={`Condition ${i + 1} operator`} data-testid={`policy-form-condition-operator-${i}`} value={c.operator} onChange={(e) => setCondition(i, { operator: e.target.value })}>
              {CONDITION_OPERATORS.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
            <input type="text" aria-label={`Condition ${i + 1} value`} placeholder={c.operator === "in" || c.operator === "not_in" ? "a, b, c" : c.operator === "exists" ? "true / false" : "value"} data-testid={`policy-form-condition-value-${i}`} value={c.value} onChange={(e) => setCondition(i, { value: e.target.value })} />
            <button type="button" aria-label={`Remove condition ${i + 1}`} onClick={() => set({ conditions: form.conditions.filter((_, j) => j !== i) })}>Remove</button>
            <Err placement={placement} at={`conditions.${i}.field`} />
            <Err placement={placement} at={`conditions.${i}.operator`} />
            <Err placement={placement} at={`conditions.${i}.value`} />
            <Err placement={placement} at={`conditions.${i}`} />
          </div>
        ))}
        <button type="button" data-testid="policy-form-add-condition" onClick={() => set({ conditions: [...form.conditions, { field: "", operator: "eq", value: "" }] })}>
          Add condition
        </button>
        {appliesToEveryResource(form) && (
          <label className="wr-check" data-testid="policy-form-every-resource">
            <input type="checkbox" data-testid="policy-form-confirm-every-resource" checked={form.confirmEveryResource} onChange={(e) => set({ confirmEveryResource: e.target.checked })} />
            No conditions: this enabled policy applies to every resource in scope, including its destructive actions
          </label>
        )}
        <Err placement={placement} at="conditions" />
      </fieldset>

      <fieldset data-testid="policy-form-actions">
        <legend>Actions *</legend>
        {form.actions.map((a, i) => (
          <div className="wr-line wr-line-action" key={i} data-testid="policy-form-action">
            <select aria-label={`Action ${i + 1} type`} data-testid={`policy-form-action-type-${i}`} value={a.type} onChange={(e) => setAction(i, { type: e.target.value })}>
              {ACTION_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
            <input type="text" aria-label={`Action ${i + 1} config (JSON)`} placeholder={ACTION_CONFIG_EXAMPLES[a.type] ?? "config as JSON (optional)"} data-testid={`policy-form-action-config-${i}`} value={a.config} aria-invalid={invalid(`actions.${i}.config`)} onChange={(e) => setAction(i, { config: e.target.value })} />
            <button type="button" aria-label={`Remove action ${i + 1}`} disabled={form.actions.length === 1} onClick={() => set({ actions: form.actions.filter((_, j) => j !== i) })}>Remove</button>
            <Err placement={placement} at={`actions.${i}.type`} />
            <Err placement={placement} at={`actions.${i}.config`} />
            <Err placement={placement} at={`actions.${i}`} />
          </div>
        ))}
        <button type="button" data-testid="policy-form-add-action" onClick={() => set({ actions: [...form.actions, { type: "tag", config: "" }] })}>
          Add action
        </button>
        <Err placement={placement} at="actions" />
      </fieldset>

      <fieldset>
        <legend>Safety controls</legend>
        <div className="wr-row">
          <label className="wr-check"><input type="checkbox" data-testid="policy-form-dry-run-first" checked={form.dryRunFirst} onChange={(e) => set({ dryRunFirst: e.target.checked })} />Dry run first</label>
          <label className="wr-check"><input type="checkbox" data-testid="policy-form-require-approval" checked={form.requireApproval} onChange={(e) => set({ requireApproval: e.target.checked })} />Require approval</label>
          <label className="wr-check"><input type="checkbox" data-testid="policy-form-rollback" checked={form.rollbackEnabled} onChange={(e) => set({ rollbackEnabled: e.target.checked })} />Rollback enabled</label>
        </div>
        <Field label="At most this many resources per run">
          <input type="number" min={1} max={10000} data-testid="policy-form-max-resources" value={form.maxResources} aria-invalid={invalid("safety_controls.max_resources_per_execution")} onChange={(e) => set({ maxResources: e.target.value })} />
        </Field>
        <Err placement={placement} at="safety_controls.max_resources_per_execution" />
        <Err placement={placement} at="safety_controls" />
      </fieldset>

      {(placement.unplaced.length > 0 || failure) && (
        <div className="error" role="alert" data-testid="policy-form-failure">
          {failure && <p>{failure}</p>}
          {placement.unplaced.map((m) => <p key={m}>{m}</p>)}
        </div>
      )}
      <div className="co-actions">
        <button type="submit" data-testid="policy-form-submit" disabled={busy}>
          {busy ? "Saving…" : initial ? "Save changes" : "Create policy"}
        </button>
        <button type="button" data-testid="policy-form-cancel" onClick={() => navigate(initial ? `/policies/${initial.id}` : "/policies")}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Back({ to }: { to: string }) {
  return (
    <p>
      <a href={to} data-testid="policy-back" onClick={(e) => { e.preventDefault(); navigate(to); }}>← Back</a>
    </p>
  );
}

/** ``/policies/new``: the empty form. */
export function NewPolicy() {
  const canWrite = useCan("write:policies");
  return (
    <section data-testid="policy-editor" data-state="ready">
      <Back to="/policies" />
      <header className="page-header"><h1>New policy</h1></header>
      {canWrite ? <PolicyForm initial={null} /> : <p className="muted" data-testid="policy-form-forbidden">Your role cannot create policies.</p>}
    </section>
  );
}

/** ``/policies/<id>/edit``: the stored policy in the form. */
export function EditPolicy({ id }: { id: string }) {
  const canWrite = useCan("write:policies");
  const loaded = useLoad(`policy-edit:${id}`, () => getJson<PolicyOut>(`/v1/policies/${encodeURIComponent(id)}`));
  return (
    <section data-testid="policy-editor" data-state={loaded.state}>
      <Back to={`/policies/${id}`} />
      <header className="page-header"><h1>Edit policy</h1></header>
      {loaded.state === "loading" && <p className="muted">Loading…</p>}
      {loaded.state === "error" && <p className="error" role="alert">{loaded.message}</p>}
      {loaded.state === "ready" && (canWrite ? <PolicyForm initial={loaded.value} /> : <p className="muted" data-testid="policy-form-forbidden">Your role cannot change policies.</p>)}
    </section>
  );
}

interface DryRunResource {
  resource_id: string;
  resource_name: string | null;
  resource_type: string;
  region: string | null;
  action: string;
  valid: boolean | null;
  problems: string[];
  monthly_cost_before: string;
  monthly_cost_after: string | null;
}

/** Dry-run rows listed before "Show all". */
const DRY_RUN_ROWS = 50;

interface DryRunAnswer {
  execution_id: string;
  matched_resource_ids: string[] | null;
  resources: DryRunResource[] | null;
  plan_problems: string[] | null;
}

/** "Edit" and "Dry run" on a policy's page, only for readers who may change the policy (policies.canChange). */
export function PolicyWriteTools({ policy }: { policy: PolicyOut }) {
  const principal = usePrincipal();
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<DryRunAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showAll, setShowAll] = useState(false);
  if (!canChange(policy, (p) => can(principal, p))) return null;
  const dryRun = (): void => {
    setBusy(true);
    setError(null);
    setShowAll(false);
    submitJson<DryRunAnswer>("POST", `/v1/policies/${encodeURIComponent(policy.id)}/execute`, { dry_run: true }).then(
      (a) => { setBusy(false); setAnswer(a); },
      (e: unknown) => { setBusy(false); setError(message(e)); },
    );
  };
  const resources = answer?.resources ?? [];
  // A policy matching hundreds of resources listed them all (a 17 000 px page): the first rows, then on demand.
  const shown = showAll ? resources : resources.slice(0, DRY_RUN_ROWS);
  return (
    <div className="wr-tools">
      <div className="policy-actions">
        <a className="button wr-button" href={`/policies/${policy.id}/edit`} data-testid="policy-edit" onClick={(e) => { e.preventDefault(); navigate(`/policies/${policy.id}/edit`); }}>
          Edit
        </a>
        <button type="button" data-testid="policy-dry-run" disabled={busy} onClick={dryRun}>
          {busy ? "Running…" : "Dry run"}
        </button>
      </div>
      {error && <p className="error small" role="alert" data-testid="policy-dry-run-error">{error}</p>}
      {answer && (
        <section className="card" data-testid="policy-dry-run-result" data-matched={answer.matched_resource_ids?.length ?? 0}>
          <h2>Dry run</h2>
          <p className="small">
            {answer.matched_resource_ids?.length ?? 0} resource{answer.matched_resource_ids?.length === 1 ? "" : "s"} match now; nothing was changed.
          </p>
          {(answer.plan_problems ?? []).map((p) => <p key={p} className="error small">{p}</p>)}
          {resources.length > 0 && (
            <div className="co-scroll">
              <table className="co-table">
                <thead><tr><th>Resource</th><th>Type</th><th>Region</th><th>Action</th><th>Check</th></tr></thead>
                <tbody>
                  {shown.map((r) => (
                    <tr key={`${r.resource_id}:${r.action}`} data-testid="policy-dry-run-row">
                      <td>{r.resource_name ?? r.resource_id}</td>
                      <td>{r.resource_type}</td>
                      <td>{r.region ?? ""}</td>
                      <td>{r.action}</td>
                      <td>{r.valid === false ? r.problems.join("; ") : "ok"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown.length < resources.length && (
                <button type="button" data-testid="policy-dry-run-all" onClick={() => setShowAll(true)}>
                  Show all {resources.length} rows
                </button>
              )}
            </div>
          )}
        </section>
      )}
    </div>
  );
}
