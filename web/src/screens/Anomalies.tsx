// Anomalies: the list (GET /v1/costs/anomalies, newest first, filtered by status and severity) and one
// incident's detail (its figures, the stored explanation, the stored drivers as a contribution chart, and the
// triage the API offers: status changes and feedback, shown only with the permission the API checks).
// Both refresh when the ``anomalies`` WebSocket channel reports an event.

import { useEffect, useState } from "react";
import { getJson, sendJson } from "../lib/api";
import {
  contributionBars,
  explanationPoints,
  FEEDBACK_LABELS,
  GROUP_LABELS,
  newestFirst,
  period,
  scope,
  SEVERITIES,
  STATUSES,
  statusActions,
  TRIAGE_PERMISSION,
  type Anomaly,
  type AnomalyFeedback,
  type AnomalyPage,
  type AnomalyStatus,
} from "../lib/anomalies";
import { money, percent } from "../lib/format";
import { useCan, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";
import { subscribe } from "../lib/stream";
import "./anomalies.css";

function amount(value: number | null, currency: string | null = null): string {
  if (value === null) return "–";
  if (currency !== null && currency !== "") return money(value, currency);
  return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function exact(value: number | null): string {
  return value === null ? "" : value.toFixed(2);
}

/** A counter bumped by every ``anomalies`` event (put it in a load key to reload on events). */
function useAnomalyEvents(): number {
  const [events, setEvents] = useState(0);
  useEffect(() => subscribe("anomalies", () => setEvents((n) => n + 1)), []);
  return events;
}

function Badge({ kind, value, testId }: { kind: string; value: string; testId: string }) {
  return (
    <span className={`badge badge-${kind}-${value}`} data-testid={testId} data-value={value}>
      {value.replace("_", " ")}
    </span>
  );
}

function AnomalyList() {
  const [status, setStatus] = useState<AnomalyStatus | "">("");
  const [severity, setSeverity] = useState<string>("");
  const events = useAnomalyEvents();
  const list = useLoad(`list:${status}:${severity}`, () =>
    getJson<AnomalyPage>("/v1/costs/anomalies", { status: status || undefined, severity: severity || undefined, limit: 500 }),
    events,
  );

  return (
    <div className="anomalies" data-testid="anomalies">
      <header className="page-header">
        <h1>Anomalies</h1>
        <p className="muted">Cost incidents that began in the last 90 days, newest first. The list refreshes when new ones are detected.</p>
      </header>
      <form className="anomaly-filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{" "}
          <select data-testid="anomalies-filter-status" value={status} onChange={(e) => setStatus(e.target.value as AnomalyStatus | "")}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity{" "}
          <select data-testid="anomalies-filter-severity" value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small" data-testid="anomalies-events" data-value={events}>
          {events > 0 ? `${events} live update${events === 1 ? "" : "s"}` : "live"}
        </span>
      </form>
      {list.state === "loading" && (
        <p className="muted" data-testid="anomalies-state" data-state="loading">
          Loading…
        </p>
      )}
      {list.state === "error" && (
        <p className="error" role="alert" data-testid="anomalies-state" data-state="error">
          {list.status === 403 ? "Your role cannot see anomalies." : list.message}
        </p>
      )}
      {list.state === "ready" && list.value.anomalies.length === 0 && (
        <p className="muted" data-testid="anomalies-state" data-state="empty">
          No anomalies match these filters.
        </p>
      )}
      {list.state === "ready" && list.value.anomalies.length > 0 && (
        <div className="anomaly-table-wrap" data-testid="anomalies-state" data-state="ready">
          <table className="anomaly-table" data-testid="anomalies-table" data-total={list.value.total}>
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Scope</th>
                <th scope="col">Severity</th>
                <th scope="col" className="num">Expected</th>
                <th scope="col" className="num">Actual</th>
                <th scope="col" className="num">Impact</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {newestFirst(list.value.anomalies).map((a) => (
                <tr key={a.id} data-testid="anomaly-row" data-id={a.id}>
                  <td data-label="Period">
                    <a
                      href={`/anomalies/${a.id}`}
                      data-testid="anomaly-link"
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(`/anomalies/${a.id}`);
                      }}
                    >
                      {period(a)}
                    </a>
                    {a.kind === "change" && <span className="muted small"> · level change</span>}
                  </td>
                  <td data-label="Scope" data-testid="anomaly-scope">
                    {scope(a)}
                  </td>
                  <td data-label="Severity">
                    <Badge kind="severity" value={a.severity} testId="anomaly-severity" />
                  </td>
                  <td data-label="Expected" className="num" data-testid="anomaly-expected" data-value={exact(a.expected_spend)}>
                    {amount(a.expected_spend, a.currency ?? null)}
                  </td>
                  <td data-label="Actual" className="num" data-testid="anomaly-actual" data-value={exact(a.actual_spend)}>
                    {amount(a.actual_spend, a.currency ?? null)}
                  </td>
                  <td data-label="Impact" className="num" data-testid="anomaly-impact" data-value={exact(a.impact_amount)}>
                    {amount(a.impact_amount, a.currency ?? null)}
                  </td>
                  <td data-label="Status">
                    <Badge kind="status" value={a.status} testId="anomaly-status" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** One incident by id (GET /v1/costs/anomalies/{id}: 404 when unknown or another organisation's). */
function loadOne(id: string): Promise<Anomaly> {
  return getJson<Anomaly>(`/v1/costs/anomalies/${encodeURIComponent(id)}`);
}

function Contributions({ anomaly }: { anomaly: Anomaly }) {
  const bars = contributionBars(anomaly.drivers);
  if (bars.length === 0)
    return (
      <p className="muted" data-testid="anomaly-contributions" data-count={0}>
        No drivers were stored for this incident.
      </p>
    );
  return (
    <ul className="contribution-chart" data-testid="anomaly-contributions" data-count={bars.length} aria-label="Contribution to the impact">
      {bars.map((bar, index) => (
        <li
          key={`${bar.group}:${bar.key}`}
          className={index > 0 && bars[index - 1]?.group === bar.group ? "" : "group-start"}
          data-testid="anomaly-contribution"
          data-group={bar.group}
          data-key={bar.key}
          data-change={bar.change.toFixed(2)}
        >
          <span className="contribution-group muted small">{GROUP_LABELS[bar.group]}</span>
          <span className="contribution-label" title={bar.key}>
            {bar.label}
            {bar.isNew && <span className="muted small"> (new)</span>}
          </span>
          <span className={bar.change >= 0 ? "contribution-track up-bar" : "contribution-track down-bar"} aria-hidden="true">
            <span style={{ width: `${bar.width}%` }} />
          </span>
          <span className="contribution-value num">
            {bar.change >= 0 ? "+" : ""}
            {amount(bar.change, anomaly.currency ?? null)}
            {bar.sharePercent !== null && <span className="muted small"> ({bar.sharePercent.toFixed(1)} %)</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Actions({ anomaly, onChanged }: { anomaly: Anomaly; onChanged: (a: Anomaly) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState("");

  const run = (send: () => Promise<Anomaly>): void => {
    setBusy(true);
    setError(null);
    send().then(
      (updated) => {
        setBusy(false);
        setNote("");
        onChanged(updated);
      },
      (e: unknown) => {
        setBusy(false);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  };

  return (
    <section className="card" data-testid="anomaly-actions" aria-labelledby="anomaly-actions-title">
      <h2 id="anomaly-actions-title">Triage</h2>
      <label className="anomaly-note">
        Note (optional, kept with the status)
        <input data-testid="anomaly-note" value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
      </label>
      <div className="button-row">
        {statusActions(anomaly.status).map((action) => (
          <button
            key={action.status}
            type="button"
            className={action.status === "resolved" ? "primary" : ""}
            data-testid={action.testId}
            data-status={action.status}
            disabled={busy}
            onClick={() =>
              run(() =>
                sendJson<Anomaly>("POST", `/v1/costs/anomalies/${anomaly.id}/status`, {
                  status: action.status,
                  ...(note.trim() ? { note: note.trim() } : {}),
                }),
              )
            }
          >
            {action.label}
          </button>
        ))}
      </div>
      <p className="muted small">Was this a real anomaly?</p>
      <div className="button-row" role="group" aria-label="Feedback">
        {(Object.keys(FEEDBACK_LABELS) as AnomalyFeedback[]).map((fb) => (
          <button
            key={fb}
            type="button"
            data-testid={`anomaly-feedback-${fb}`}
            aria-pressed={anomaly.feedback === fb}
            disabled={busy}
            onClick={() => run(() => sendJson<Anomaly>("POST", `/v1/costs/anomalies/${anomaly.id}/feedback`, { feedback: fb }))}
          >
            {FEEDBACK_LABELS[fb]}
          </button>
        ))}
      </div>
      {error !== null && (
        <p className="error" role="alert" data-testid="anomaly-action-error">
          {error}
        </p>
      )}
    </section>
  );
}

function AnomalyDetail({ id }: { id: string }) {
  const events = useAnomalyEvents();
  const canTriage = useCan(TRIAGE_PERMISSION);
  const [changed, setChanged] = useState<Anomaly | null>(null);
  // a live event reloads in place (the previous answer stays on screen, so a typed note is kept)
  const loaded = useLoad(`one:${id}`, () => loadOne(id), events);
  const fresh = loaded.state === "ready" && loaded.refreshing !== true ? loaded.value : null;
  useEffect(() => setChanged(null), [id, fresh]);

  const back = (
    <p>
      <a
        href="/anomalies"
        data-testid="anomaly-back"
        onClick={(e) => {
          e.preventDefault();
          navigate("/anomalies");
        }}
      >
        ← All anomalies
      </a>
    </p>
  );
  if (loaded.state === "loading")
    return (
      <div data-testid="anomaly-detail" data-state="loading">
        {back}
        <p className="muted">Loading…</p>
      </div>
    );
  if (loaded.state === "error")
    return (
      <div data-testid="anomaly-detail" data-state="error">
        {back}
        <p className="error" role="alert">
          {loaded.status === 403 ? "Your role cannot see anomalies." : loaded.message}
        </p>
      </div>
    );
  const a = changed ?? loaded.value;
  return (
    <div className="anomaly-detail" data-testid="anomaly-detail" data-state="ready" data-id={a.id} data-refreshing={String(loaded.refreshing === true)}>
      {back}
      <header className="page-header">
        <h1>
          {a.kind === "change" ? "Level change" : "Anomaly"}: {scope(a)}
        </h1>
        <p className="muted">
          <span data-testid="anomaly-detail-period">{period(a)}</span> · detected {a.detected_at.slice(0, 16).replace("T", " ")} UTC ·{" "}
          <Badge kind="severity" value={a.severity} testId="anomaly-detail-severity" /> ·{" "}
          <Badge kind="status" value={a.status} testId="anomaly-detail-status" />
          {a.feedback !== null && (
            <>
              {" "}
              · feedback <span data-testid="anomaly-detail-feedback" data-value={a.feedback}>{FEEDBACK_LABELS[a.feedback as AnomalyFeedback] ?? a.feedback}</span>
            </>
          )}
        </p>
      </header>
      <div className="grid anomaly-figures">
        <section className="card">
          <h2>Expected</h2>
          <p className="figure" data-testid="anomaly-detail-expected" data-value={exact(a.expected_spend)}>
            {amount(a.expected_spend, a.currency ?? null)}
          </p>
        </section>
        <section className="card">
          <h2>Actual</h2>
          <p className="figure" data-testid="anomaly-detail-actual" data-value={exact(a.actual_spend)}>
            {amount(a.actual_spend, a.currency ?? null)}
          </p>
        </section>
        <section className="card">
          <h2>Impact</h2>
          <p className="figure" data-testid="anomaly-detail-impact" data-value={exact(a.impact_amount)}>
            {amount(a.impact_amount, a.currency ?? null)}
          </p>
        </section>
        <section className="card">
          <h2>Deviation</h2>
          <p className="figure" data-testid="anomaly-detail-deviation" data-value={a.deviation_percent ?? ""}>
            {percent(a.deviation_percent)}
          </p>
        </section>
      </div>
      <section className="card" aria-labelledby="anomaly-explanation-title">
        <h2 id="anomaly-explanation-title">Explanation</h2>
        {a.root_cause === null ? (
          <p className="anomaly-explanation" data-testid="anomaly-detail-explanation">
            No explanation was stored for this incident.
          </p>
        ) : (
          <ul className="anomaly-explanation anomaly-points" data-testid="anomaly-detail-explanation">
            {explanationPoints(a.root_cause).map((point, i) => (
              <li key={i} data-testid="anomaly-explanation-point">
                {point}
              </li>
            ))}
          </ul>
        )}
        <p className="muted small" data-testid="anomaly-detail-explanation-source" data-value={a.root_cause_source}>
          {a.root_cause_source === "contributions" ? "Written from the contributions." : `Written by the root-cause agent (${a.root_cause_source.replace(/^agent:/, "")}).`}
        </p>
      </section>
      <section className="card" aria-labelledby="anomaly-contributions-title">
        <h2 id="anomaly-contributions-title">What changed</h2>
        <Contributions anomaly={a} />
      </section>
      {a.affected_resources.length > 0 && (
        <section className="card" aria-labelledby="anomaly-resources-title">
          <h2 id="anomaly-resources-title">Affected resources</h2>
          <ul className="plain" data-testid="anomaly-detail-resources">
            {a.affected_resources.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      {canTriage && <Actions anomaly={a} onChanged={setChanged} />}
    </div>
  );
}

/** The Anomalies screen: ``rest`` is an anomaly id for the detail route ``/anomalies/<id>``. */
export function Anomalies({ rest }: { rest: string }) {
  return rest ? <AnomalyDetail id={rest} /> : <AnomalyList />;
}
