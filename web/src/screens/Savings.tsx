// Savings (#22): the ledger (GET /v1/savings) — buckets open/applying/applied/realised, estimated vs realised per
// month of the change, the completed recommendations with their measurement — and per-rule accuracy
// (GET /v1/savings/by-rule), flagged rules marked. Read-only (read:costs).

import { getJson } from "../lib/api";
import { useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";
import {
  BUCKETS,
  cents,
  explainMeasurement,
  explainNetting,
  perCurrency,
  sortRules,
  type RuleAccuracyReport,
  type SavingsLedger,
} from "../lib/savings";
import "./co-forms.css";
import "./savings.css";

function Amounts({ amounts, testId }: { amounts: Record<string, string | number>; testId: string }) {
  const pairs = perCurrency(amounts);
  if (pairs.length === 0) return <span className="muted" data-testid={testId} data-value="">none</span>;
  return (
    <span data-testid={testId} data-value={pairs.map(([c, v]) => `${c}:${v}`).join(" ")}>
      {pairs.map(([c, v]) => `${v} ${c}`).join(", ")}
    </span>
  );
}

function Ledger({ ledger }: { ledger: SavingsLedger }) {
  return (
    <>
      <section className="card" data-testid="savings-buckets" data-state="ready" aria-labelledby="savings-buckets-title">
        <h2 id="savings-buckets-title">Ledger (estimated per month)</h2>
        <div className="sv-buckets">
          {BUCKETS.map(({ key, label, help }) => {
            const bucket = ledger.buckets[key] ?? { count: 0, estimated_monthly: "0", realised_monthly: {} };
            return (
              <div className="sv-bucket" key={key} data-testid={`savings-bucket-${key}`} data-count={bucket.count}>
                <div className="sv-bucket-label">{label}</div>
                <div className="sv-bucket-value" data-testid={`savings-bucket-${key}-estimated`} data-value={cents(bucket.estimated_monthly)}>
                  {cents(bucket.estimated_monthly)}
                </div>
                <div className="muted">
                  {bucket.count} recommendation{bucket.count === 1 ? "" : "s"} · {help}
                </div>
                {key === "accepted" && (
                  <div data-testid="savings-bucket-accepted-owners" data-overdue={bucket.overdue ?? 0}>
                    {Object.keys(bucket.owners ?? {}).length === 0
                      ? "No owners yet"
                      : Object.entries(bucket.owners ?? {})
                          .map(([email, n]) => `${email} (${n})`)
                          .join(", ")}
                    {(bucket.overdue ?? 0) > 0 && <span> · {bucket.overdue} overdue</span>}
                  </div>
                )}
                {key === "realised" && (
                  <div>
                    Realised: <Amounts amounts={bucket.realised_monthly} testId="savings-bucket-realised-amounts" />
                  </div>
                )}
              </div>
            );
          })}
        </div>
        <p className="muted">
          Estimates are monthly amounts in the recommendations' currency; realised amounts are measured from the
          bill over {ledger.window_days}-day windows before and after each change.
        </p>
      </section>
      <section className="card" data-testid="savings-months" aria-labelledby="savings-months-title">
        <h2 id="savings-months-title">Estimated vs realised per month of the change</h2>
        {ledger.months.length === 0 ? (
          <p className="muted" data-testid="savings-months-empty">No completed recommendations yet.</p>
        ) : (
          <div className="co-scroll">
            <table className="co-table" data-count={ledger.months.length}>
              <thead>
                <tr><th>Month</th><th>Completed</th><th>Measured</th><th className="num">Estimated (measured)</th><th className="num">Realised</th></tr>
              </thead>
              <tbody>
                {ledger.months.map((m) => (
                  <tr key={m.month} data-testid="savings-month-row" data-month={m.month}>
                    <td>{m.month}</td>
                    <td>{m.completed}</td>
                    <td>{m.measured}</td>
                    <td className="num" data-value={cents(m.estimated_monthly)}>{cents(m.estimated_monthly)}</td>
                    <td className="num"><Amounts amounts={m.realised_monthly} testId="savings-month-realised" /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" data-testid="savings-rows" aria-labelledby="savings-rows-title">
        <h2 id="savings-rows-title">Completed recommendations ({ledger.total})</h2>
        {ledger.items.length === 0 ? (
          <p className="muted" data-testid="savings-rows-empty">Nothing completed yet.</p>
        ) : (
          <div className="co-scroll">
            <table className="co-table" data-count={ledger.items.length}>
              <thead>
                <tr><th>Recommendation</th><th className="num">Estimate</th><th className="num">Realised</th><th className="num">Error</th><th>Confidence</th><th>Status</th></tr>
              </thead>
              <tbody>
                {ledger.items.map((row) => {
                  const m = row.measurement;
                  return (
                    <tr key={row.recommendation_id} data-testid="savings-row" data-status={m.status}>
                      <td>
                        <a
                          href={`/recommendations/${row.recommendation_id}`}
                          onClick={(e) => { e.preventDefault(); navigate(`/recommendations/${row.recommendation_id}`); }}
                        >
                          {row.title}
                        </a>
                        <span className="muted sv-meta">{row.rule_id ?? "no rule"}{row.applied_at ? ` · applied ${row.applied_at.slice(0, 10)}` : ""}</span>
                      </td>
                      <td className="num" data-value={cents(row.estimated_monthly)}>{cents(row.estimated_monthly) || "n/a"}</td>
                      <td className="num" data-value={cents(m.realised_monthly)}>
                        {m.realised_monthly === null ? "—" : `${cents(m.realised_monthly)} ${m.currency ?? ""}`}
                      </td>
                      <td className="num">{m.error_percent === null ? "—" : `${cents(m.error_percent)} %`}</td>
                      <td>{m.confidence ?? "—"}</td>
                      <td>
                        <span className={`sv-status sv-${m.status}`}>{m.status}</span>
                        <span className="muted sv-meta">{explainMeasurement(m)}</span>
                        {explainNetting(m).map((line) => (
                          <span className="muted sv-meta" data-testid="savings-row-netting" key={line}>{line}</span>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function RuleAccuracyCard() {
  const report = useLoad("savings-by-rule", () => getJson<RuleAccuracyReport>("/v1/savings/by-rule"));
  let body;
  if (report.state === "loading") body = <p className="muted" data-state="loading">Loading…</p>;
  else if (report.state === "error") body = <p className="error" role="alert" data-state="error">{report.message}</p>;
  else if (report.value.rules.length === 0) body = <p className="muted" data-testid="savings-rules-empty" data-state="ready">No rule has a measured recommendation yet.</p>;
  else {
    const r = report.value;
    body = (
      <div className="co-scroll" data-state="ready">
        <p className="muted">
          A rule is flagged when its estimates are off by more than {cents(r.flag_threshold_percent)} % on average over at
          least {r.flag_min_measured} measured recommendations.
        </p>
        <table className="co-table" data-testid="savings-rules" data-count={r.rules.length}>
          <thead>
            <tr><th>Rule</th><th>Measured</th><th>Measuring</th><th className="num">Estimated</th><th className="num">Realised</th><th className="num">Mean error</th><th className="num">Mean |error|</th></tr>
          </thead>
          <tbody>
            {sortRules(r.rules).map((rule) => (
              <tr key={rule.rule_id ?? "none"} data-testid="savings-rule" data-flagged={rule.flagged ? "true" : "false"} className={rule.flagged ? "sv-flagged" : undefined}>
                <td>{rule.rule_id ?? "no rule"}{rule.flagged && <span className="sv-flag" data-testid="savings-rule-flag"> flagged: estimates systematically off</span>}</td>
                <td>{rule.measured}</td>
                <td>{rule.measuring}</td>
                <td className="num">{cents(rule.estimated_monthly)}</td>
                <td className="num">{cents(rule.realised_monthly)}</td>
                <td className="num">{rule.mean_error_percent === null ? "—" : `${cents(rule.mean_error_percent)} %`}</td>
                <td className="num">{rule.mean_absolute_error_percent === null ? "—" : `${cents(rule.mean_absolute_error_percent)} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <section className="card" data-testid="savings-accuracy" aria-labelledby="savings-accuracy-title">
      <h2 id="savings-accuracy-title">Accuracy per rule</h2>
      {body}
    </section>
  );
}

export function Savings() {
  const ledger = useLoad("savings-ledger", () => getJson<SavingsLedger>("/v1/savings", { limit: 50 }));
  return (
    <div className="co-screen" data-testid="savings-screen">
      <h1>Savings</h1>
      {ledger.state === "loading" && <p className="muted" data-testid="savings-state" data-state="loading">Loading…</p>}
      {ledger.state === "error" && <p className="error" role="alert" data-testid="savings-state" data-state="error">{ledger.message}</p>}
      {ledger.state === "ready" && <Ledger ledger={ledger.value} />}
      <RuleAccuracyCard />
    </div>
  );
}
