// Recommendations: the list (filters the API supports, sorted by savings by default, "load more" on the API's
// cursor) at /recommendations, and one recommendation at /recommendations/<id>: impact preview, narrative,
// and the actions the reader's role allows (apply = dry run, then a confirmed request that waits for
// approval; dismiss for 30 days (snooze) or for good, with a reason).

import { useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError, getJson, sendJson } from "../lib/api";
import { useCan, useLoad, type Loadable } from "../lib/hooks";
import { LifecyclePanel } from "./RecommendationLifecycle";
import { TicketPanel } from "./TicketPanel";
import { useLiveVersion } from "../lib/live";
import {
  amount,
  appendPage,
  applyPermission,
  CATEGORIES,
  confidenceText,
  DEFAULT_FILTERS,
  listParams,
  RISKS,
  settled,
  SORTS,
  STATUSES,
  toggled,
  type ApplyResult,
  type Execution,
  type Filters,
  type ImpactPreview,
  type Narrative,
  type Recommendation,
  type RecommendationList,
} from "../lib/recommendations";
import { navigate } from "../lib/router";
import "./recommendations.css";

const POLL_MS = 700;
const POLL_LIMIT = 120;

function Pending<T>({ value, children }: { value: Loadable<T>; children: (v: T) => ReactNode }) {
  if (value.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (value.state === "error")
    return (
      <p className="error" role="alert" data-state="error">
        {value.status === 403 ? "Your role cannot see this." : value.message}
      </p>
    );
  return <>{children(value.value)}</>;
}

function link(path: string, label: ReactNode, testId?: string) {
  return (
    <a href={path} data-testid={testId} onClick={(e) => { e.preventDefault(); navigate(path); }}>
      {label}
    </a>
  );
}

function errorText(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/** Routes /recommendations and /recommendations/<id>. */
export function Recommendations({ rest }: { rest: string }) {
  return rest ? <RecommendationDetail id={rest} /> : <RecommendationListScreen />;
}

// ---- list -----------------------------------------------------------------------------------------------

interface Shown {
  rows: Recommendation[];
  total: number | null;
  next: string | null;
}

function Select<T extends string>({ label, value, options, testId, onChange }: { label: string; value: T; options: readonly (T | "")[]; testId: string; onChange: (v: T) => void }) {
  return (
    <label className="rec-filter">
      <span>{label}</span>
      <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o === "" ? "any" : o}
          </option>
        ))}
      </select>
    </label>
  );
}

function RecommendationListScreen() {
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [shown, setShown] = useState<Loadable<Shown>>({ state: "loading" });
  const [more, setMore] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const key = JSON.stringify(filters);

  useEffect(() => {
    let live = true;
    setShown({ state: "loading" });
    getJson<RecommendationList>("/v1/recommendations", listParams(filters, null)).then(
      (page) => live && setShown({ state: "ready", value: { rows: page.recommendations, total: page.total_matching, next: page.next_cursor } }),
      (error: unknown) => live && setShown({ state: "error", message: errorText(error), ...(error instanceof ApiError ? { status: error.status } : {}) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loadMore = (current: Shown): void => {
    if (current.next === null) return;
    setMore({ busy: true, error: null });
    getJson<RecommendationList>("/v1/recommendations", listParams(filters, current.next)).then(
      (page) => {
        setShown({ state: "ready", value: { rows: appendPage(current.rows, page.recommendations), total: page.total_matching ?? current.total, next: page.next_cursor } });
        setMore({ busy: false, error: null });
      },
      (error: unknown) => setMore({ busy: false, error: errorText(error) }),
    );
  };

  const set = <K extends keyof Filters>(k: K) => (v: Filters[K]) => setFilters({ ...filters, [k]: v });

  return (
    <div className="recommendations" data-testid="recommendations">
      <header className="page-header">
        <h1>Recommendations</h1>
        <p className="muted">Estimated monthly savings, risk and confidence of each finding.</p>
      </header>
      <form className="rec-filters" data-testid="rec-filters" onSubmit={(e) => e.preventDefault()}>
        <Select label="Status" value={filters.status} options={STATUSES} testId="rec-filter-status" onChange={set("status")} />
        <Select label="Category" value={filters.category} options={["", ...CATEGORIES]} testId="rec-filter-category" onChange={set("category")} />
        <Select label="Risk" value={filters.risk} options={["", ...RISKS]} testId="rec-filter-risk" onChange={set("risk")} />
        <Select label="Sort by" value={filters.sort} options={SORTS} testId="rec-sort" onChange={set("sort")} />
        <label className="rec-filter">
          <input type="checkbox" data-testid="rec-filter-mine" checked={filters.mine ?? false} onChange={(e) => setFilters(toggled(filters, "mine", e.target.checked))} />
          <span>Mine</span>
        </label>
        <label className="rec-filter">
          <input type="checkbox" data-testid="rec-filter-overdue" checked={filters.overdue ?? false} onChange={(e) => setFilters(toggled(filters, "overdue", e.target.checked))} />
          <span>Overdue</span>
        </label>
      </form>
      <Pending value={shown}>
        {(s) => (
          <>
            <p className="muted" data-testid="rec-count" data-shown={s.rows.length} data-total={s.total ?? ""}>
              {s.rows.length} of {s.total ?? "?"} shown
            </p>
            {s.rows.length === 0 ? (
              <p className="muted" data-testid="rec-empty">No recommendations match.</p>
            ) : (
              <table className="rec-table" data-testid="rec-table">
                <thead>
                  <tr>
                    <th scope="col">Recommendation</th>
                    <th scope="col" className="num">Savings / month</th>
                    <th scope="col">Risk</th>
                    <th scope="col" className="num">Confidence</th>
                  </tr>
                </thead>
                <tbody>
                  {s.rows.map((r) => (
                    <tr key={r.id} data-testid="rec-row" data-id={r.id} data-risk={r.risk_level}>
                      <td>
                        {link(`/recommendations/${r.id}`, r.title, "rec-link")}
                        <span className="muted small rec-meta">
                          {" "}
                          {r.category}
                          {r.provider ? ` · ${r.provider}` : ""}
                          {r.region ? ` · ${r.region}` : ""}
                          {r.due_date ? <span data-testid="rec-due" data-value={r.due_date}>{` · due ${r.due_date}`}</span> : null}
                        </span>
                      </td>
                      <td className="num" data-testid="rec-savings" data-value={r.estimated_savings_monthly?.toFixed(2) ?? ""}>
                        {amount(r.estimated_savings_monthly, r.currency)}
                      </td>
                      <td>
                        <span className={`badge risk-${r.risk_level}`} data-testid="rec-risk">
                          {r.risk_level}
                        </span>
                      </td>
                      <td className="num" data-testid="rec-confidence" data-value={r.confidence ?? ""}>
                        {confidenceText(r.confidence)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {s.next !== null && (
              <button type="button" data-testid="rec-load-more" disabled={more.busy} onClick={() => loadMore(s)}>
                {more.busy ? "Loading…" : "Load more"}
              </button>
            )}
            {more.error && (
              <p className="error" role="alert" data-testid="rec-load-more-error">
                {more.error}
              </p>
            )}
          </>
        )}
      </Pending>
    </div>
  );
}

// ---- detail ---------------------------------------------------------------------------------------------

/** Follow an execution of ``recommendationId`` until it has settled: the organisation's list of the
 * recommendation's executions is polled (it simply lacks the new one until the workflow records it, where the
 * one-execution route would answer 404), then the settled execution is read in full. Null when it has not
 * settled within the polling limit. */
async function follow(
  recommendationId: string,
  executionId: string,
  dryRun: boolean,
  onUpdate: (state: string) => void,
  alive: () => boolean,
): Promise<Execution | null> {
  for (let i = 0; i < POLL_LIMIT && alive(); i++) {
    const list = await getJson<{ executions: { id: string; state: string }[] }>("/v1/executions", { recommendation_id: recommendationId, limit: 50 });
    const found = list.executions.find((e) => e.id === executionId);
    if (found) {
      onUpdate(found.state);
      if (settled(found, dryRun)) return getJson<Execution>(`/v1/executions/${executionId}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return null;
}

type ApplyStage =
  | { stage: "idle" }
  | { stage: "dry-running"; executionId?: string }
  | { stage: "dry-run-done"; execution: Execution }
  | { stage: "requesting"; executionId?: string; state?: string }
  | { stage: "requested"; execution: Execution }
  | { stage: "error"; message: string };

function DryRunResult({ execution }: { execution: Execution }) {
  const result = execution.dry_run_result;
  return (
    <div className="rec-dry-run" data-testid="rec-dry-run-result" data-valid={String(result.valid)} data-state={execution.state}>
      <p>
        Dry run <strong>{result.valid ? "passed" : "found problems"}</strong>{" "}
        <span className="muted small">(execution {execution.id})</span>
      </p>
      {execution.error && <p className="error">{execution.error}</p>}
      {result.problems.length > 0 && (
        <ul className="plain error" data-testid="rec-dry-run-problems">
          {result.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <ol className="plain" data-testid="rec-dry-run-steps">
        {result.steps.map((s) => (
          <li key={s.index} data-testid="rec-dry-run-step" data-valid={String(s.valid)}>
            {s.action} on <code>{s.resource_id}</code> — {s.valid === false ? "refused" : "ok"}
            {s.rollback_available ? " · can be rolled back" : ""}
            {s.irreversible ? ` · irreversible: ${s.irreversible}` : ""}
            {s.problems.length > 0 ? ` · ${s.problems.join("; ")}` : ""}
          </li>
        ))}
      </ol>
    </div>
  );
}

function ApplyPanel({ rec }: { rec: Recommendation }) {
  const [stage, setStage] = useState<ApplyStage>({ stage: "idle" });
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  const isAlive = (): boolean => alive.current;

  const run = async (dryRun: boolean): Promise<void> => {
    setStage(dryRun ? { stage: "dry-running" } : { stage: "requesting" });
    try {
      const started = await sendJson<ApplyResult>("POST", `/v1/recommendations/${rec.id}/apply`, { dry_run: dryRun, approval_required: true });
      setStage(dryRun ? { stage: "dry-running", executionId: started.execution_id } : { stage: "requesting", executionId: started.execution_id });
      const done = await follow(
        rec.id,
        started.execution_id,
        dryRun,
        (state) => !dryRun && setStage({ stage: "requesting", executionId: started.execution_id, state }),
        isAlive,
      );
      if (done === null) setStage({ stage: "error", message: `execution ${started.execution_id} has not settled yet; see /approvals` });
      else setStage(dryRun ? { stage: "dry-run-done", execution: done } : { stage: "requested", execution: done });
    } catch (error) {
      setStage({ stage: "error", message: errorText(error) });
    }
  };

  return (
    <section className="card" data-testid="rec-apply" data-stage={stage.stage} aria-labelledby="rec-apply-title">
      <h2 id="rec-apply-title">Apply</h2>
      {stage.stage === "idle" && (
        <>
          <p className="muted small">A dry run validates the plan first; nothing changes until you confirm and an approver approves.</p>
          <button type="button" className="primary" data-testid="rec-dry-run" onClick={() => void run(true)}>
            Dry run
          </button>
        </>
      )}
      {stage.stage === "dry-running" && (
        <p className="muted" data-state="loading" data-testid="rec-dry-running">
          Running the dry run…{stage.executionId ? ` (execution ${stage.executionId})` : ""}
        </p>
      )}
      {stage.stage === "dry-run-done" && (
        <>
          <DryRunResult execution={stage.execution} />
          <div className="rec-buttons">
            <button type="button" className="primary" data-testid="rec-confirm-apply" disabled={!stage.execution.dry_run_result.valid} onClick={() => void run(false)}>
              Request remediation
            </button>
            <button type="button" data-testid="rec-cancel-apply" onClick={() => setStage({ stage: "idle" })}>
              Cancel
            </button>
          </div>
        </>
      )}
      {stage.stage === "requesting" && (
        <p className="muted" data-state="loading" data-testid="rec-requesting">
          Requesting…{stage.executionId ? ` execution ${stage.executionId}` : ""}
          {stage.state ? ` (${stage.state})` : ""}
        </p>
      )}
      {stage.stage === "requested" && (
        <div data-testid="rec-execution" data-id={stage.execution.id} data-state={stage.execution.state}>
          <p>
            Execution <code data-testid="rec-execution-id">{stage.execution.id}</code> is{" "}
            <strong data-testid="rec-execution-state">{stage.execution.state.replace("_", " ")}</strong>.
          </p>
          {stage.execution.state === "pending_approval" && (
            <p className="muted" data-testid="rec-execution-waits">
              Another person must approve it (you cannot approve your own request)
              {stage.execution.risk_level ? `; the plan's risk is ${stage.execution.risk_level}, so their role must allow ${stage.execution.risk_level}-risk changes` : ""}.
            </p>
          )}
          {stage.execution.error && <p className="error">{stage.execution.error}</p>}
          <p>{link("/approvals", "Go to approvals", "rec-approvals-link")}</p>
        </div>
      )}
      {stage.stage === "error" && (
        <>
          <p className="error" role="alert" data-testid="rec-apply-error">
            {stage.message}
          </p>
          <button type="button" data-testid="rec-apply-retry" onClick={() => setStage({ stage: "idle" })}>
            Start over
          </button>
        </>
      )}
    </section>
  );
}

function DismissPanel({ rec, onDone }: { rec: Recommendation; onDone: () => void }) {
  const [reason, setReason] = useState("");
  const [permanent, setPermanent] = useState(false);
  const [state, setState] = useState<{ busy: boolean; error: string | null; done: boolean }>({ busy: false, error: null, done: false });
  const submit = (): void => {
    setState({ busy: true, error: null, done: false });
    sendJson("POST", `/v1/recommendations/${rec.id}/dismiss`, { reason, permanent }).then(
      () => {
        setState({ busy: false, error: null, done: true });
        onDone();
      },
      (error: unknown) => setState({ busy: false, error: errorText(error), done: false }),
    );
  };
  return (
    <section className="card" data-testid="rec-dismiss" aria-labelledby="rec-dismiss-title">
      <h2 id="rec-dismiss-title">Dismiss</h2>
      {state.done ? (
        <p data-testid="rec-dismissed">{permanent ? "Dismissed for good." : "Snoozed: it comes back in 30 days if still found."}</p>
      ) : (
        <form className="rec-dismiss-form" onSubmit={(e) => { e.preventDefault(); submit(); }}>
          <label>
            <span>Reason</span>
            <input data-testid="rec-dismiss-reason" required maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <label className="rec-check">
            <input type="checkbox" data-testid="rec-dismiss-permanent" checked={permanent} onChange={(e) => setPermanent(e.target.checked)} />
            <span>For good (otherwise snoozed for 30 days)</span>
          </label>
          <button type="submit" data-testid="rec-dismiss-submit" disabled={state.busy || reason.trim() === ""}>
            {permanent ? "Dismiss" : "Snooze 30 days"}
          </button>
          {state.error && (
            <p className="error" role="alert" data-testid="rec-dismiss-error">
              {state.error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}

function Actions({ rec, onChanged }: { rec: Recommendation; onChanged: () => void }) {
  const canApply = useCan(applyPermission(rec.risk_level));
  const canDismiss = useCan("dismiss:recommendations");
  const applicable = rec.status === "active" || rec.status === "scheduled" || rec.status === "accepted";
  if (!applicable) return <p className="muted" data-testid="rec-not-actionable">This recommendation is {rec.status}.</p>;
  if (!canApply && !canDismiss) return <p className="muted" data-testid="rec-read-only">Your role can read this recommendation but not act on it.</p>;
  return (
    <>
      {canApply && <ApplyPanel rec={rec} />}
      {canDismiss && <DismissPanel rec={rec} onDone={onChanged} />}
    </>
  );
}

function RecommendationDetail({ id }: { id: string }) {
  const [version, setVersion] = useState(0);
  const [audience, setAudience] = useState<"engineer" | "finance">("engineer");
  const live = useLiveVersion("recommendations");
  const rec = useLoad(`rec:${id}`, () => getJson<Recommendation>(`/v1/recommendations/${id}`), `${version}:${live}`);
  const preview = useLoad(`preview:${id}`, () => getJson<ImpactPreview>(`/v1/recommendations/${id}/impact-preview`), `${version}:${live}`);
  const narrative = useLoad(`narrative:${id}:${audience}`, () => getJson<Narrative>(`/v1/recommendations/${id}/narrative`, { audience }));

  return (
    <div className="recommendation" data-testid="rec-detail">
      <p className="small">{link("/recommendations", "← All recommendations", "rec-back")}</p>
      <Pending value={rec}>
        {(r) => (
          <>
            <header className="page-header">
              <h1 data-testid="rec-title">{r.title}</h1>
              <p className="muted">
                <span className={`badge risk-${r.risk_level}`} data-testid="rec-detail-risk" data-value={r.risk_level}>
                  {r.risk_level} risk
                </span>{" "}
                <span data-testid="rec-detail-status" data-value={r.status}>{r.status}</span> · {r.category}
                {r.provider ? ` · ${r.provider}` : ""}
                {r.region ? ` · ${r.region}` : ""}
              </p>
            </header>
            <div className="rec-grid">
              <section className="card" data-testid="rec-savings-card" aria-labelledby="rec-savings-title">
                <h2 id="rec-savings-title">Estimated savings</h2>
                <p className="figure" data-testid="rec-detail-savings" data-value={r.estimated_savings_monthly?.toFixed(2) ?? ""}>
                  {amount(r.estimated_savings_monthly, r.currency)} <span className="muted small">/ month</span>
                </p>
                <p className="muted small">
                  {amount(r.estimated_savings_annual, r.currency)} a year · confidence{" "}
                  <span data-testid="rec-detail-confidence" data-value={r.confidence ?? ""}>{confidenceText(r.confidence)}</span>
                  {r.price_source ? ` · ${r.price_source}` : ""}
                </p>
                {r.description && <p>{r.description}</p>}
              </section>

              <section className="card" data-testid="rec-impact" aria-labelledby="rec-impact-title">
                <h2 id="rec-impact-title">Impact preview</h2>
                <Pending value={preview}>
                  {(p) => (
                    <>
                      <p data-testid="rec-impact-cost" data-current={p.cost_impact.current_monthly ?? ""} data-projected={p.cost_impact.projected_monthly ?? ""}>
                        {amount(p.cost_impact.current_monthly, r.currency)} → {amount(p.cost_impact.projected_monthly, r.currency)} a month
                      </p>
                      {p.resource_changes.length > 0 && (
                        <ul className="plain" data-testid="rec-impact-changes">
                          {p.resource_changes.map((c, i) => (
                            <li key={`${c.resource_id}-${i}`}>
                              {c.change_type}: <code>{c.resource_id}</code>
                            </li>
                          ))}
                        </ul>
                      )}
                      {p.risks.length > 0 && (
                        <ul className="plain" data-testid="rec-impact-risks">
                          {p.risks.map((risk) => (
                            <li key={risk}>⚠ {risk}</li>
                          ))}
                        </ul>
                      )}
                      {p.rollback && <p className="muted small" data-testid="rec-impact-rollback">Rollback: {p.rollback}</p>}
                    </>
                  )}
                </Pending>
              </section>

              <section className="card card-wide" data-testid="rec-narrative" aria-labelledby="rec-narrative-title">
                <h2 id="rec-narrative-title">Narrative</h2>
                <div className="rec-buttons" role="group" aria-label="Audience">
                  {(["engineer", "finance"] as const).map((a) => (
                    <button key={a} type="button" data-testid={`rec-narrative-${a}`} aria-pressed={audience === a} onClick={() => setAudience(a)}>
                      {a === "engineer" ? "For engineers" : "For finance"}
                    </button>
                  ))}
                </div>
                <Pending value={narrative}>
                  {(n) => (
                    <>
                      <p className="rec-narrative-text" data-testid="rec-narrative-text" data-source={n.source}>
                        {n.narrative}
                      </p>
                      <p className="muted small">{n.source === "model" ? "Written by the configured model." : "Written by the offline narrator (no model)."}</p>
                    </>
                  )}
                </Pending>
              </section>

              {r.affected_resources.length > 0 && (
                <section className="card card-wide" data-testid="rec-resources" aria-labelledby="rec-resources-title">
                  <h2 id="rec-resources-title">Affected resources</h2>
                  <ul className="plain">
                    {r.affected_resources.map((a) => (
                      <li key={a.id} data-testid="rec-resource">
                        {a.name} <code className="muted small">{a.id}</code> · {amount(a.current_cost, r.currency)} / month
                      </li>
                    ))}
                  </ul>
                </section>
              )}

              <div className="rec-actions card-wide">
                <Actions rec={r} onChanged={() => setVersion(version + 1)} />
              </div>
              <LifecyclePanel rec={r} onChanged={() => setVersion(version + 1)} />
              <TicketPanel recId={r.id} ticket={r.ticket ?? null} onChanged={() => setVersion(version + 1)} />
            </div>
          </>
        )}
      </Pending>
    </div>
  );
}
