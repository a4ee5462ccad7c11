// Approvals: the reader's inbox of remediations waiting for their role (GET /v1/approvals), and one
// remediation at /approvals/<execution id> (GET /v1/executions/{id}): plan, dry-run result, risk and impact;
// approve or reject with a comment (POST /v1/approvals/{id}/decision); the execution's progress live
// (policy_executions on the WebSocket, and a 2 s poll as a fallback) until it reaches a final state; a
// rollback request where the API allows one (POST /v1/executions/{id}/rollback).

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { ApiError, getJson, sendJson } from "../lib/api";
import {
  decisionBlocker,
  eventExecutionId,
  impactOf,
  isTerminal,
  type DecisionOut,
  type ExecutionDetail,
  type Impact,
  type PendingApprovalList,
  type RollbackOut,
} from "../lib/approvals";
import { money, relativeAge } from "../lib/format";
import { dateTimeText } from "../lib/polish";
import { channelLabel } from "../lib/labels";
import { useCan, useLoad, usePrincipal } from "../lib/hooks";
import { navigate } from "../lib/router";
import { subscribe } from "../lib/stream";
import "./approvals.css";

const POLL_MS = 2_000;
const CURRENCY = "USD";

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

function Risk({ level }: { level: string | null }) {
  const value = level ?? "unknown";
  return (
    <span className={`badge risk risk-${value}`} data-testid="approval-risk" data-value={value}>
      {value} risk
    </span>
  );
}

function ImpactLine({ impact }: { impact: Impact }) {
  return (
    <dl className="approval-impact" data-testid="approval-impact">
      <dt>Now</dt>
      <dd data-testid="approval-impact-current" data-value={impact.current ?? ""}>{impact.current === null ? "—" : `${money(Number(impact.current), CURRENCY)}/mo`}</dd>
      <dt>After</dt>
      <dd data-testid="approval-impact-projected" data-value={impact.projected ?? ""}>{impact.projected === null ? "—" : `${money(Number(impact.projected), CURRENCY)}/mo`}</dd>
      <dt>Saves</dt>
      <dd data-testid="approval-impact-savings" data-value={impact.savings ?? ""}>{impact.savings === null ? "—" : `${money(Number(impact.savings), CURRENCY)}/mo`}</dd>
    </dl>
  );
}

function Inbox() {
  const inbox = useLoad("approvals", () => getJson<PendingApprovalList>("/v1/approvals"));
  return (
    <section data-testid="approvals-inbox">
      <header className="page-header">
        <h1>Approvals</h1>
        <p className="muted">Remediations waiting for a decision from your role. Your own requests need another approver.</p>
      </header>
      {inbox.state === "loading" && <p className="muted" data-state="loading">Loading…</p>}
      {inbox.state === "error" && (
        <p className="error" role="alert" data-state="error" data-testid="approvals-error">
          {inbox.status === 403 ? "Your role cannot approve remediations." : inbox.message}
        </p>
      )}
      {inbox.state === "ready" && inbox.value.approvals.length === 0 && (
        <p className="muted" data-testid="approvals-empty" data-state="ready">Nothing is waiting for you.</p>
      )}
      {inbox.state === "ready" && inbox.value.approvals.length > 0 && (
        <ul className="approval-list" data-testid="approvals-list" data-state="ready" data-count={inbox.value.total}>
          {inbox.value.approvals.map((a) => (
            <li key={a.execution_id} className="card approval-item" data-testid="approval-item" data-execution-id={a.execution_id}>
              <div className="approval-item-head">
                <Link to={`/approvals/${a.execution_id}`} testId="approval-link">{a.title}</Link>
                <Risk level={a.risk_level} />
              </div>
              <ImpactLine impact={impactOf(a.impact)} />
              <p className="muted small">
                {a.kind} · requested <time dateTime={a.requested_at} data-testid="approval-requested-at">{dateTimeText(a.requested_at)}</time> ({relativeAge(a.requested_at)})
                {a.expires_at ? ` · expires ${dateTimeText(a.expires_at)}` : ""}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The execution, refreshed on each policy_executions event about it and every 2 s until it is final. */
function useExecution(id: string): { execution: ExecutionDetail | null; error: string | null; status: number | null; refresh: () => void } {
  const [execution, setExecution] = useState<ExecutionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let live = true;
    getJson<ExecutionDetail>(`/v1/executions/${encodeURIComponent(id)}`).then(
      (value) => {
        if (!live) return;
        setExecution(value);
        setError(null);
        setStatus(null);
      },
      (e: unknown) => {
        if (!live) return;
        setError(message(e));
        setStatus(e instanceof ApiError ? e.status : null);
      },
    );
    return () => {
      live = false;
    };
  }, [id, tick]);

  const final = execution !== null && execution.id === id && isTerminal(execution.state);
  useEffect(() => {
    if (final) return;
    const off = subscribe("policy_executions", (data) => {
      if (eventExecutionId(data) === id) refresh();
    });
    const timer = setInterval(refresh, POLL_MS);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [id, final, refresh]);

  return { execution: execution?.id === id ? execution : null, error, status, refresh };
}

function DecisionResult({ result }: { result: DecisionOut }) {
  return (
    <p className="decision-result" data-testid="approval-decision-result" data-approved={String(result.approved)} data-state={result.state}>
      {result.approved ? "Approved" : "Rejected"}
      {result.approved && result.approvals < result.approvals_needed
        ? ` (${result.approvals} of ${result.approvals_needed} approvals; waiting for another approver)`
        : ""}
      .
    </p>
  );
}

function DecisionForm({ id, onDecided }: { id: string; onDecided: (result: DecisionOut) => void }) {
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const decide = (approve: boolean) => async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const out = await sendJson<DecisionOut>("POST", `/v1/approvals/${encodeURIComponent(id)}/decision`, { approve, comment });
      onDecided(out);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent): void => e.preventDefault();

  return (
    <form className="decision-form" data-testid="approval-decision" onSubmit={submit}>
      <label htmlFor="approval-comment">Comment</label>
      <textarea id="approval-comment" data-testid="approval-comment" maxLength={2000} rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="decision-buttons">
        <button type="button" className="primary" data-testid="approval-approve" disabled={busy} onClick={() => void decide(true)()}>
          Approve
        </button>
        <button type="button" className="danger" data-testid="approval-reject" disabled={busy} onClick={() => void decide(false)()}>
          Reject
        </button>
      </div>
      {error !== null && (
        <p className="error" role="alert" data-testid="approval-decision-error">
          {error}
        </p>
      )}
    </form>
  );
}

function Rollback({ execution }: { execution: ExecutionDetail }) {
  const canApply = useCan("apply:low_risk_recommendations");
  const [started, setStarted] = useState<RollbackOut | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (execution.state !== "completed" && execution.rolled_back_by.length === 0) return null;

  const request = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setStarted(await sendJson<RollbackOut>("POST", `/v1/executions/${encodeURIComponent(execution.id)}/rollback`));
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const link = started?.execution_id ?? execution.rolled_back_by[0]?.execution_id;
  return (
    <section className="card" data-testid="execution-rollback-section">
      <h2>Rollback</h2>
      {link !== undefined ? (
        <p data-testid="execution-rollback-started">
          Rollback requested; it waits for an approver: <Link to={`/approvals/${link}`} testId="execution-rollback-link">open it</Link>
        </p>
      ) : execution.rollback_possible ? (
        canApply ? (
          <button type="button" data-testid="execution-rollback" disabled={busy} onClick={() => void request()}>
            Request rollback
          </button>
        ) : (
          <p className="muted">Your role cannot request a rollback.</p>
        )
      ) : (
        <p className="muted" data-testid="execution-rollback-refusal">{execution.rollback_refusal ?? "This execution cannot be rolled back."}</p>
      )}
      {error !== null && (
        <p className="error" role="alert" data-testid="execution-rollback-error">
          {error}
        </p>
      )}
    </section>
  );
}

function Detail({ id }: { id: string }) {
  const principal = usePrincipal();
  const { execution, error, status, refresh } = useExecution(id);
  const [decided, setDecided] = useState<DecisionOut | null>(null);
  const canDecide = useCan("apply:low_risk_recommendations");
  const inbox = useLoad(`approvals:${id}`, () =>
    canDecide ? getJson<PendingApprovalList>("/v1/approvals") : Promise.resolve<PendingApprovalList>({ approvals: [], total: 0 }),
  );

  if (execution === null)
    return error !== null ? (
      <p className="error" role="alert" data-state="error" data-testid="execution-error">
        {status === 404 ? "No such remediation in your organisation." : status === 403 ? "Your role cannot see remediations." : error}
      </p>
    ) : (
      <p className="muted" data-state="loading">Loading…</p>
    );

  const inInbox = inbox.state === "ready" && inbox.value.approvals.some((a) => a.execution_id === id);
  const blocker = inbox.state === "loading" ? "…" : decisionBlocker(execution, inInbox, principal);
  const impact = impactOf(execution.plan.impact);
  const final = isTerminal(execution.state);
  return (
    <section data-testid="execution-detail" data-execution-id={execution.id}>
      <header className="page-header">
        <p className="small">
          <Link to="/approvals" testId="approvals-back">← Approvals</Link>
        </p>
        <h1 data-testid="execution-title">{execution.title}</h1>
        <p className="execution-meta">
          <span className={`badge state state-${execution.state}`} data-testid="execution-state" data-value={execution.state} data-final={String(final)} aria-live="polite">
            {execution.state.replace(/_/g, " ")}
          </span>{" "}
          <Risk level={execution.risk_level} />{" "}
          <span className="muted small">
            {execution.kind} · requested <time dateTime={execution.started_at} data-testid="execution-requested-at">{dateTimeText(execution.started_at)}</time> ({relativeAge(execution.started_at)})
            {execution.requested_by_role ? ` by a ${execution.requested_by_role.replace("_", " ")}` : ""}
            {execution.dry_run ? " · dry run" : ""}
          </span>
        </p>
        {execution.error && <p className="error" data-testid="execution-failure">{execution.error}</p>}
      </header>

      <div className="approval-grid">
        <section className="card" data-testid="execution-plan">
          <h2>Plan and dry run</h2>
          <ImpactLine impact={impact} />
          {impact.risks.length > 0 && (
            <ul className="plain" data-testid="execution-risks">
              {impact.risks.map((r) => <li key={r}>⚠ {r}</li>)}
            </ul>
          )}
          <p data-testid="execution-dry-run" data-value={String(execution.dry_run_result.valid)} className={execution.dry_run_result.valid ? "down" : "error"}>
            Dry run {execution.dry_run_result.valid ? "passed" : "found problems"}
          </p>
          {execution.dry_run_result.problems.length > 0 && (
            <ul className="plain error">{execution.dry_run_result.problems.map((p) => <li key={p}>{p}</li>)}</ul>
          )}
          <ol className="plan-steps" data-testid="execution-steps">
            {execution.dry_run_result.steps.map((s) => (
              <li key={s.index} data-testid="execution-step" data-valid={String(s.valid)}>
                <code>{s.action}</code> on <span className="resource" title={s.resource_id}>{s.resource_id}</span>
                <span className="muted small">
                  {" "}· {s.valid === null ? "not checked" : s.valid ? "valid" : "invalid"} ·{" "}
                  {s.irreversible ? `irreversible: ${s.irreversible}` : s.rollback_available ? "can be undone" : "no rollback"}
                </span>
                {s.problems.length > 0 && <span className="error small"> {s.problems.join("; ")}</span>}
              </li>
            ))}
          </ol>
        </section>

        <section className="card" data-testid="execution-decision">
          <h2>Decision</h2>
          {execution.decision !== null && (
            <p data-testid="execution-decided" data-value={execution.decision.decision}>
              {execution.decision.decision} by a {execution.decision.role?.replace("_", " ") ?? "user"}
              {execution.decision.channel ? ` via ${channelLabel(execution.decision.channel)}` : ""}
              {execution.decision.comment ? `: “${execution.decision.comment}”` : ""}
            </p>
          )}
          {decided !== null ? (
            <DecisionResult result={decided} />
          ) : blocker === null ? (
            <DecisionForm
              id={id}
              onDecided={(out) => {
                setDecided(out);
                refresh();
              }}
            />
          ) : execution.decision === null ? (
            <p className="muted" data-testid="approval-blocked">{blocker}</p>
          ) : null}
        </section>

        <section className="card" data-testid="execution-progress">
          <h2>Progress {final ? "" : <span className="muted small" data-testid="execution-live">(live)</span>}</h2>
          <ol className="timeline" data-testid="execution-timeline">
            {execution.timeline.map((t, i) => (
              <li key={`${t.state}-${i}`} data-testid="execution-timeline-item" data-value={t.state}>
                <span>{t.state.replace(/_/g, " ")}</span> <time className="muted small" dateTime={t.at}>{dateTimeText(t.at)}</time>
              </li>
            ))}
          </ol>
          {execution.saving.net_monthly !== null && execution.state === "completed" && (
            <p data-testid="execution-saving" data-value={String(execution.saving.net_monthly)}>
              Net saving {money(Number(execution.saving.net_monthly), CURRENCY)}/mo
            </p>
          )}
        </section>

        <Rollback execution={execution} />
      </div>
    </section>
  );
}

export function Approvals({ rest }: { rest: string }) {
  return rest ? <Detail key={rest} id={rest} /> : <Inbox />;
}
