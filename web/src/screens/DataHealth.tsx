// Data health (#21 cost-data trust): can the numbers be believed. Freshness per account (GET
// /v1/data/freshness: last arrival, latest usage day, days still open to restatement), the reconciliation of a
// billing month picked from the last twelve (GET /v1/data/reconciliation?month=YYYY-MM: our total vs the
// provider's, delta, delta %, tolerance, status badge, cost basis, findings in words), and the chart warning
// of the picked month (the shared TrustWarning). Amounts read to the cent; the API's exact decimals are each
// cell's title and the row's data attributes.

import { useState } from "react";
import { TrustWarning } from "../components/TrustWarning";
import { getJson } from "../lib/api";
import { nextMonthStart, todayUtc } from "../lib/dates";
import { money, relativeAge } from "../lib/format";
import {
  accountLabel,
  findingsSummary,
  lastClosedMonth,
  recentMonths,
  statusBadge,
  type FreshnessReport,
  type ReconciliationReport,
} from "../lib/governance";
import { useLoad } from "../lib/hooks";
import type { CloudAccountList } from "../lib/types";
import "./co-forms.css";
import "./governance.css";

/** A decimal string of the API as money to the cent for reading (the exact value is the cell's title). */
function amount(value: string, currency: string): string {
  return money(Number(value), currency);
}

function useAccountNames(): Map<string, string> {
  const accounts = useLoad("cloud-accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"));
  const names = new Map<string, string>();
  if (accounts.state === "ready") for (const a of accounts.value.accounts) names.set(a.id, a.account_name ?? a.account_id);
  return names;
}

function Freshness({ names }: { names: Map<string, string> }) {
  const report = useLoad("data-freshness", () => getJson<FreshnessReport>("/v1/data/freshness"));
  if (report.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (report.state === "error") return <p className="error" role="alert" data-state="error">{report.message}</p>;
  const { accounts, restatement_days } = report.value;
  if (accounts.length === 0) return <p className="muted" data-testid="freshness-empty" data-state="ready">No cost data yet.</p>;
  return (
    <>
      <p className="muted small">Providers may restate the last {restatement_days} days of usage; those days can still change.</p>
      <div className="co-scroll">
        <table className="co-table" data-testid="freshness-table" data-state="ready" data-count={accounts.length}>
          <thead>
            <tr><th scope="col">Account</th><th scope="col">Source</th><th scope="col">Last arrival</th><th scope="col">Latest usage day</th><th scope="col">Restating days</th></tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={`${a.account.provider}:${a.account.billing_account_id}:${a.account.cloud_account_id ?? ""}`} data-testid="freshness-row" data-latest={a.latest_usage_day ?? ""}>
                <td>{accountLabel(a.account, names)}</td>
                <td title={`${a.basis} cost: ${a.basis_source}`}>{a.origin === "file" ? "billing file" : "API collection"}<span className="muted small"> · {a.basis}</span></td>
                <td title={a.last_arrived_at ?? ""}>{relativeAge(a.last_arrived_at)}</td>
                <td>{a.latest_usage_day ?? <span className="muted">none</span>}</td>
                <td data-value={a.restating_days.length}>{a.restating_days.length === 0 ? <span className="muted">none</span> : `${a.restating_days.length} (from ${a.restating_from})`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Reconciliation({ month, names }: { month: string; names: Map<string, string> }) {
  const report = useLoad(`data-reconciliation:${month}`, () => getJson<ReconciliationReport>("/v1/data/reconciliation", { month }));
  if (report.state === "loading") return <p className="muted" data-state="loading">Loading…</p>;
  if (report.state === "error") return <p className="error" role="alert" data-state="error">{report.message}</p>;
  const rows = report.value.accounts;
  if (rows.length === 0) return <p className="muted" data-testid="reconciliation-empty" data-state="ready">No costs in {month}.</p>;
  return (
    <div className="co-scroll">
      <table className="co-table gv-reconciliation" data-testid="reconciliation-table" data-state="ready" data-month={month} data-count={rows.length}>
        <thead>
          <tr>
            <th scope="col">Account</th><th scope="col">Status</th><th scope="col">Our total</th><th scope="col">Provider total</th>
            <th scope="col">Delta</th><th scope="col">Delta %</th><th scope="col">Tolerance</th><th scope="col">Basis</th><th scope="col">Problems found</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const badge = statusBadge(r.status);
            return (
              <tr key={`${r.account.provider}:${r.account.billing_account_id}:${r.account.cloud_account_id ?? ""}:${r.currency}`} data-testid="reconciliation-row" data-status={r.status} data-our-total={r.our_total} data-provider-total={r.provider_total ?? ""} data-delta={r.delta ?? ""}>
                <td>{accountLabel(r.account, names)}<span className="muted small"> · {r.currency}</span></td>
                <td><span className={`gv-badge gv-badge-${badge.tone}`} data-testid="reconciliation-status">{badge.label}</span>{!r.month_closed && <span className="muted small"> (month open)</span>}</td>
                <td className="gv-num" data-testid="reconciliation-our" title={r.our_total}>{amount(r.our_total, r.currency)}</td>
                <td className="gv-num" data-testid="reconciliation-provider" title={r.provider_total ?? r.unavailable_reason ?? ""}>{r.provider_total === null ? <span className="muted" data-testid="reconciliation-unavailable">n/a{r.unavailable_reason ? <span className="small">: {r.unavailable_reason}</span> : null}</span> : amount(r.provider_total, r.currency)}</td>
                <td className="gv-num" data-testid="reconciliation-delta" title={r.delta ?? ""}>{r.delta === null ? "—" : amount(r.delta, r.currency)}</td>
                <td className="gv-num" title={r.delta_percent ?? ""}>{r.delta_percent === null ? "—" : `${Number(r.delta_percent).toFixed(2)} %`}</td>
                <td className="gv-num" title={r.tolerance ?? ""}>{r.tolerance === null ? "—" : amount(r.tolerance, r.currency)}</td>
                <td title={r.comparison}>{r.basis} vs {r.provider_basis}{r.provider_source ? <span className="muted small" title={r.provider_source}> ({r.provider_source.split("/").pop()})</span> : null}</td>
                <td data-testid="reconciliation-findings" title={r.findings.map((f) => f.message).join("\n")}>{findingsSummary(r.findings)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function DataHealth({ now }: { now?: Date }) {
  const today = todayUtc(now);
  const months = recentMonths(today, 12);
  const [month, setMonth] = useState(lastClosedMonth(today));
  const names = useAccountNames();
  const first = `${month}-01`;
  return (
    <div className="co-screen gv-screen" data-testid="data-health-screen">
      <h1>Data health</h1>
      <section className="card" data-testid="freshness-card" aria-labelledby="freshness-title">
        <h2 id="freshness-title">Freshness</h2>
        <Freshness names={names} />
      </section>
      <section className="card" data-testid="reconciliation-card" aria-labelledby="reconciliation-title">
        <h2 id="reconciliation-title">Reconciliation with the provider's bill</h2>
        <label className="gv-inline">
          Billing month{" "}
          <select data-testid="reconciliation-month" value={month} onChange={(e) => setMonth(e.target.value)}>
            {months.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
        <TrustWarning start={first} end={nextMonthStart(first)} testId="reconciliation-trust-warning" />
        <Reconciliation month={month} names={names} />
      </section>
    </div>
  );
}
