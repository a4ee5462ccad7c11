// Commitments (#22): reservations and savings plans seen in the billing data with their utilisation
// (GET /v1/commitments for a period), the commitments the providers' APIs say are owned (AWS, Azure, GCP;
// with any account whose inventory could not be read) and the coverage per day and currency
// (GET /v1/commitments/coverage).
// Periods are UTC days, end exclusive. Read-only (read:costs).

import { useState } from "react";
import { getJson } from "../lib/api";
import { useLoad } from "../lib/hooks";
import { covers, KIND_LABELS, readProblems, type OwnedCommitmentList } from "../lib/ownedCommitments";
import { cents, lastDays, pct, type CoverageReport } from "../lib/savings";
import "./co-forms.css";
import "./savings.css";

function CommitmentTable({ start, end }: { start: string; end: string }) {
  const list = useLoad(`commitments:${start}:${end}`, () => getJson<OwnedCommitmentList>("/v1/commitments", { start_date: start, end_date: end }));
  if (list.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (list.state === "error") return <p className="error" role="alert" data-state="error">{list.message}</p>;
  const rows = list.value.commitments;
  const owned = <Owned list={list.value} />;
  if (rows.length === 0) return <>{owned}<p className="muted" data-testid="commitments-empty" data-state="ready">No commitment in the billing data for this period.</p></>;
  return (
    <>{owned}<div className="co-scroll">
      <table className="co-table" data-testid="commitments-table" data-state="ready" data-count={rows.length}>
        <thead>
          <tr><th>Commitment</th><th>Type</th><th>Seen</th><th className="num">Used</th><th className="num">Unused</th><th className="num">Utilisation</th></tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={`${c.provider}:${c.commitment_id}`} data-testid="commitment-row" data-utilisation={c.utilisation_percent === null ? "" : cents(c.utilisation_percent)}>
              <td>{c.name ?? c.commitment_id}<span className="muted sv-meta">{c.provider}</span></td>
              <td>{[c.category, c.type].filter(Boolean).join(" · ") || "—"}</td>
              <td>{c.first_seen} – {c.last_seen}</td>
              <td className="num">{cents(c.used_cost)} {c.currency}</td>
              <td className="num">{cents(c.unused_cost)} {c.currency}</td>
              <td className="num">{pct(c.utilisation_percent)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div></>
  );
}

function Owned({ list }: { list: OwnedCommitmentList }) {
  const owned = list.owned ?? [];
  const problems = readProblems(list.inventory_reads);
  return (
    <div data-testid="owned-commitments">
      {problems.map((p) => <p key={p} className="muted" data-testid="owned-read-problem">Inventory not read: {p}</p>)}
      {owned.length > 0 && (
        <div className="co-scroll">
          <table className="co-table" data-testid="owned-table" data-count={owned.length}>
            <caption>Owned (provider APIs)</caption>
            <thead>
              <tr><th>Commitment</th><th>Kind</th><th>Covers</th><th>Region · scope</th><th>Ends</th><th className="num">Days left</th><th>State</th></tr>
            </thead>
            <tbody>
              {owned.map((o) => (
                <tr key={`${o.provider}:${o.commitment_id}`} data-testid="owned-row">
                  <td>{o.commitment_id}<span className="muted sv-meta">{o.provider} {o.account_id}</span></td>
                  <td>{KIND_LABELS[o.kind] ?? o.kind}{o.plan_type ? ` · ${o.plan_type}` : ""}</td>
                  <td>{covers(o)}</td>
                  <td>{[o.region ?? "any region", o.applied_scope].filter(Boolean).join(" · ")}</td>
                  <td>{o.end.slice(0, 10)}</td>
                  <td className="num">{o.days_to_expiry}</td>
                  <td>{o.state}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Coverage({ start, end }: { start: string; end: string }) {
  const report = useLoad(`coverage:${start}:${end}`, () => getJson<CoverageReport>("/v1/commitments/coverage", { start_date: start, end_date: end }));
  if (report.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (report.state === "error") return <p className="error" role="alert" data-state="error">{report.message}</p>;
  const r = report.value;
  if (r.days.length === 0) return <p className="muted" data-testid="coverage-empty" data-state="ready">No eligible usage in this period.</p>;
  return (
    <div data-state="ready">
      <p className="muted">
        Coverage = committed-priced {r.basis} / eligible {r.basis} ({r.eligible_services.join(", ") || "no eligible service"}).
        {" "}Period total: {r.totals.map((t) => `${pct(t.coverage_percent)} of ${cents(t.eligible_cost)} ${t.currency}`).join("; ")}.
      </p>
      <div className="co-scroll">
        <table className="co-table" data-testid="coverage-table" data-count={r.days.length}>
          <thead>
            <tr><th>Day</th><th>Currency</th><th className="num">Covered</th><th className="num">Eligible</th><th className="num">Coverage</th></tr>
          </thead>
          <tbody>
            {r.days.map((d) => (
              <tr key={`${d.day}:${d.currency}`} data-testid="coverage-day">
                <td>{d.day}</td>
                <td>{d.currency}</td>
                <td className="num">{cents(d.covered_cost)}</td>
                <td className="num">{cents(d.eligible_cost)}</td>
                <td className="num">{pct(d.coverage_percent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function Commitments({ now }: { now?: Date }) {
  const initial = lastDays((now ?? new Date()).toISOString().slice(0, 10), 30);
  const [start, setStart] = useState(initial.start);
  const [end, setEnd] = useState(initial.end);
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(start) && /^\d{4}-\d{2}-\d{2}$/.test(end) && start < end;
  return (
    <div className="co-screen" data-testid="commitments-screen">
      <h1>Commitments</h1>
      <div className="sv-period">
        <label>From<input type="date" data-testid="commitments-start" value={start} onChange={(e) => setStart(e.target.value)} /></label>
        <label>To (exclusive)<input type="date" data-testid="commitments-end" value={end} onChange={(e) => setEnd(e.target.value)} /></label>
      </div>
      {!valid && <p className="error" role="alert" data-testid="commitments-period-error">The start date must be before the end date.</p>}
      {valid && (
        <>
          <section className="card" data-testid="commitments-card" aria-labelledby="commitments-title">
            <h2 id="commitments-title">Commitments and utilisation</h2>
            <CommitmentTable start={start} end={end} />
          </section>
          <section className="card" data-testid="coverage-card" aria-labelledby="coverage-title">
            <h2 id="coverage-title">Coverage per day</h2>
            <Coverage start={start} end={end} />
          </section>
        </>
      )}
    </div>
  );
}
