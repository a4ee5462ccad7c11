// Policies: the organisation's automation policies (GET /v1/policies) with name, trigger, actions, enabled
// state and last run; enable/disable (PUT /v1/policies/{id} with the stored definition, only ``enabled``
// changed) and delete (DELETE /v1/policies/{id}) for readers holding ``write:policies`` (plus
// ``schedule:policies`` for a schedule trigger; the API enforces both). ``/policies/<id>`` shows one policy's
// definition (GET /v1/policies/{id}), its recent executions (GET /v1/policies/{id}/executions) and what fired
// its trigger (GET /v1/policies/{id}/firings).

import { useState } from "react";
import { getJson, sendJson } from "../lib/api";
import { relativeAge } from "../lib/format";
import { useLoad, usePrincipal } from "../lib/hooks";
import { useLiveVersion } from "../lib/live";
import {
  actionsSummary,
  canChange,
  toggledBody,
  triggerSummary,
  triggerType,
  type PolicyExecutionList,
  type PolicyFiringList,
  type PolicyList,
  type PolicyOut,
} from "../lib/policies";
import { navigate } from "../lib/router";
import { can } from "../lib/session";
import { EditPolicy, NewPolicy, NewPolicyButton, PolicyWriteTools } from "./PolicyEditor";
import "./policies.css";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function Link({ to, testId, children }: { to: string; testId: string; children: string }) {
  return (
    <a href={to} data-testid={testId} onClick={(e) => { e.preventDefault(); navigate(to); }}>
      {children}
    </a>
  );
}

function EnabledBadge({ enabled }: { enabled: boolean }) {
  return (
    <span className={enabled ? "badge badge-active" : "badge policy-off"} data-testid="policy-enabled" data-value={String(enabled)}>
      {enabled ? "Enabled" : "Disabled"}
    </span>
  );
}

/** Enable/disable and delete buttons for one policy, shown only when the reader may change it. */
function PolicyActions({ policy, onChanged, onDeleted }: { policy: PolicyOut; onChanged: (p: PolicyOut) => void; onDeleted: () => void }) {
  const principal = usePrincipal();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!canChange(policy, (p) => can(principal, p))) return null;

  const toggle = (): void => {
    setBusy(true);
    setError(null);
    sendJson(`PUT`, `/v1/policies/${encodeURIComponent(policy.id)}`, toggledBody(policy, !policy.enabled)).then(
      () => { setBusy(false); onChanged({ ...policy, enabled: !policy.enabled }); },
      (e: unknown) => { setBusy(false); setError(message(e)); },
    );
  };
  const remove = (): void => {
    setBusy(true);
    setError(null);
    sendJson("DELETE", `/v1/policies/${encodeURIComponent(policy.id)}`).then(
      () => { setBusy(false); onDeleted(); },
      (e: unknown) => { setBusy(false); setConfirming(false); setError(message(e)); },
    );
  };
  return (
    <div className="policy-actions">
      <button type="button" data-testid="policy-toggle" disabled={busy} onClick={toggle} aria-label={`${policy.enabled ? "Disable" : "Enable"} ${policy.name}`}>
        {policy.enabled ? "Disable" : "Enable"}
      </button>
      {confirming ? (
        <>
          <button type="button" className="danger" data-testid="policy-delete-confirm" disabled={busy} onClick={remove} aria-label={`Confirm deleting ${policy.name}`}>
            Confirm delete
          </button>
          <button type="button" data-testid="policy-delete-cancel" disabled={busy} onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" data-testid="policy-delete" disabled={busy} onClick={() => setConfirming(true)} aria-label={`Delete ${policy.name}`}>
          Delete
        </button>
      )}
      {error && <p className="error small" role="alert" data-testid="policy-action-error">{error}</p>}
    </div>
  );
}

function LastRun({ policy }: { policy: PolicyOut }) {
  return (
    <span data-testid="policy-last-run" data-value={policy.last_executed ?? ""}>
      {policy.last_executed ? `last run ${relativeAge(policy.last_executed)}` : "never run"}
      {` · ${policy.execution_count} run${policy.execution_count === 1 ? "" : "s"}`}
      {policy.success_rate !== null ? ` · ${Math.round(policy.success_rate * 100)} % succeeded` : ""}
    </span>
  );
}

function PolicyListView() {
  const list = useLoad("policies", () => getJson<PolicyList>("/v1/policies"), useLiveVersion("policies"));
  const [changed, setChanged] = useState<Record<string, PolicyOut | null>>({});
  const policies = list.state === "ready" ? list.value.policies.map((p) => (p.id in changed ? changed[p.id] : p)).filter((p): p is PolicyOut => p !== null && p !== undefined) : [];
  return (
    <section data-testid="policies">
      <header className="page-header">
        <h1>Policies</h1>
        <p className="muted">Automation policies: what triggers them, the resources they match and the actions they take.</p>
        <NewPolicyButton />
      </header>
      {list.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
      {list.state === "error" && (
        <p className="error" role="alert" data-state="error" data-testid="policies-error">{list.message}</p>
      )}
      {list.state === "ready" && policies.length === 0 && (
        <p className="muted" data-testid="policies-empty" data-state="ready">No policies yet.</p>
      )}
      {list.state === "ready" && policies.length > 0 && (
        <ul className="policy-list" data-testid="policies-list" data-state="ready" data-count={policies.length}>
          {policies.map((p) => (
            <li key={p.id} className="card policy-item" data-testid="policy-item" data-policy-id={p.id} data-trigger={triggerType(p)}>
              <div className="policy-item-head">
                <Link to={`/policies/${p.id}`} testId="policy-link">{p.name}</Link>
                <EnabledBadge enabled={p.enabled} />
              </div>
              <p className="small policy-meta">
                <span data-testid="policy-trigger">{triggerSummary(p)}</span>
                {" · "}
                <span data-testid="policy-actions-summary">{actionsSummary(p)}</span>
              </p>
              <p className="muted small"><LastRun policy={p} /></p>
              <PolicyActions
                policy={p}
                onChanged={(next) => setChanged((c) => ({ ...c, [p.id]: next }))}
                onDeleted={() => setChanged((c) => ({ ...c, [p.id]: null }))}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Json({ value, testId }: { value: unknown; testId: string }) {
  return <pre className="policy-json" data-testid={testId}>{JSON.stringify(value, null, 2)}</pre>;
}

function Executions({ id }: { id: string }) {
  const runs = useLoad(`policy-executions:${id}`, () => getJson<PolicyExecutionList>(`/v1/policies/${encodeURIComponent(id)}/executions`));
  return (
    <section className="card" data-testid="policy-executions" aria-labelledby="policy-executions-title">
      <h2 id="policy-executions-title">Recent executions</h2>
      {runs.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
      {runs.state === "error" && <p className="error" role="alert" data-state="error">{runs.message}</p>}
      {runs.state === "ready" && runs.value.executions.length === 0 && (
        <p className="muted" data-testid="policy-executions-empty" data-state="ready">This policy has not run yet.</p>
      )}
      {runs.state === "ready" && runs.value.executions.length > 0 && (
        <ul className="plain" data-testid="policy-executions-list" data-state="ready" data-count={runs.value.executions.length}>
          {runs.value.executions.map((x) => (
            <li key={x.id} data-testid="policy-execution" data-status={x.status} data-execution-id={x.id}>
              <span className={`badge badge-${x.status}`}>{x.status}</span>{" "}
              <Link to={`/approvals/${x.id}`} testId="policy-execution-link">{new Date(x.started_at).toLocaleString()}</Link>
              <span className="muted small">
                {x.dry_run ? " · dry run" : ""}
                {x.resources_affected !== null ? ` · ${x.resources_affected} resource${x.resources_affected === 1 ? "" : "s"}` : ""}
                {` · ${x.state}`}
              </span>
              {x.error && <span className="error small"> · {x.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Firings({ id }: { id: string }) {
  const firings = useLoad(`policy-firings:${id}`, () => getJson<PolicyFiringList>(`/v1/policies/${encodeURIComponent(id)}/firings`));
  if (firings.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (firings.state === "error" || firings.value.firings.length === 0) return null;
  return (
    <section className="card" data-testid="policy-firings" aria-labelledby="policy-firings-title">
      <h2 id="policy-firings-title">Trigger firings</h2>
      <ul className="plain" data-state="ready" data-count={firings.value.firings.length}>
        {firings.value.firings.map((f) => (
          <li key={f.id} data-testid="policy-firing">
            {new Date(f.fired_at).toLocaleString()} · {f.event ?? f.metric ?? f.trigger}
            {f.observed !== null ? ` · observed ${f.observed}` : ""}
            {f.threshold !== null ? ` (threshold ${f.threshold})` : ""}
            {` · ${f.resource_ids.length} resource${f.resource_ids.length === 1 ? "" : "s"}`}
          </li>
        ))}
      </ul>
    </section>
  );
}

function PolicyDetail({ id }: { id: string }) {
  const loaded = useLoad(`policy:${id}`, () => getJson<PolicyOut>(`/v1/policies/${encodeURIComponent(id)}`), useLiveVersion("policies"));
  const [current, setCurrent] = useState<PolicyOut | null>(null);
  const back = <p><Link to="/policies" testId="policy-back">← All policies</Link></p>;
  if (loaded.state === "loading") return <section data-testid="policy-detail">{back}<p className="muted" data-state="loading">Loading…</p></section>;
  if (loaded.state === "error")
    return (
      <section data-testid="policy-detail">
        {back}
        <p className="error" role="alert" data-state="error" data-testid="policy-error">
          {loaded.status === 404 || loaded.status === 422 ? "This policy does not exist." : loaded.message}
        </p>
      </section>
    );
  const policy = current !== null && current.id === loaded.value.id ? current : loaded.value;
  const { risk_level: risk, ...safety } = policy.safety_controls;
  return (
    <section data-testid="policy-detail" data-state="ready" data-policy-id={policy.id}>
      {back}
      <header className="page-header policy-item-head">
        <h1 data-testid="policy-name">{policy.name}</h1>
        <EnabledBadge enabled={policy.enabled} />
      </header>
      {policy.description && <p data-testid="policy-description">{policy.description}</p>}
      <p className="muted small"><LastRun policy={policy} /></p>
      <PolicyActions policy={policy} onChanged={setCurrent} onDeleted={() => navigate("/policies")} />
      <PolicyWriteTools policy={policy} />
      <div className="policy-grid">
        <section className="card" data-testid="policy-definition" aria-labelledby="policy-definition-title">
          <h2 id="policy-definition-title">Definition</h2>
          <dl className="policy-dl">
            <dt>Trigger</dt>
            <dd data-testid="policy-trigger" data-value={triggerType(policy)}>{triggerSummary(policy)}</dd>
            <dt>Risk</dt>
            <dd data-testid="policy-risk" data-value={typeof risk === "string" ? risk : ""}>{typeof risk === "string" ? risk : "not set"}</dd>
          </dl>
          <h3>Conditions ({policy.conditions.length})</h3>
          {policy.conditions.length === 0 ? (
            <p className="muted small">Matches every resource.</p>
          ) : (
            <ul className="plain" data-testid="policy-conditions" data-count={policy.conditions.length}>
              {policy.conditions.map((c, i) => (
                <li key={i} data-testid="policy-condition">
                  <code>{String(c["field"])} {String(c["operator"])}{c["value"] !== undefined && c["value"] !== null ? ` ${JSON.stringify(c["value"])}` : ""}</code>
                </li>
              ))}
            </ul>
          )}
          <h3>Actions ({policy.actions.length})</h3>
          <Json value={policy.actions} testId="policy-actions-json" />
          <h3>Safety controls</h3>
          <Json value={safety} testId="policy-safety" />
        </section>
        <div className="policy-side">
          <Executions id={policy.id} />
          <Firings id={policy.id} />
        </div>
      </div>
    </section>
  );
}

/** ``/policies`` (``rest`` empty) lists the policies; ``/policies/<id>`` shows one; ``/policies/new`` and
 * ``/policies/<id>/edit`` are the editor (PolicyEditor.tsx). */
export function Policies({ rest }: { rest: string }) {
  if (rest === "new") return <NewPolicy />;
  if (rest.endsWith("/edit")) return <EditPolicy key={rest} id={rest.slice(0, -"/edit".length)} />;
  return rest ? <PolicyDetail key={rest} id={rest} /> : <PolicyListView />;
}
