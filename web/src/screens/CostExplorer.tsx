// Cost explorer: the API's /v1/costs/overview grouped by any dimension it supports (and the organisation's
// rollup tag keys), filtered by provider, for a chosen period against the previous period of the same length,
// daily / weekly / monthly; a chart, a table and a CSV export of exactly the table's strings.

import { useState } from "react";
import { CompareChart } from "../components/CompareChart";
import { getJson } from "../lib/api";
import { todayUtc } from "../lib/dates";
import { money, percent } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { alignPrevious, csvFileName, explorerCsv, explorerRows, periodProblem, presetPeriod, previousPeriod, PRESETS, type Period, type PresetName } from "../lib/costs";
import type { CostOverview } from "../lib/types";
import "./explorer.css";

const DIMENSIONS: readonly { value: string; label: string }[] = [
  { value: "service", label: "Service" },
  { value: "account", label: "Account" },
  { value: "region", label: "Region" },
  { value: "provider", label: "Provider" },
  { value: "category", label: "Category" },
];

type Granularity = "daily" | "weekly" | "monthly";

interface OrganisationSettings {
  settings: { rollup_tag_keys?: string[] };
}

function overview(period: Period, groupBy: string, granularity: Granularity, provider: string): Promise<CostOverview> {
  const tag = groupBy.startsWith("tag:") ? groupBy.slice(4) : undefined;
  return getJson<CostOverview>("/v1/costs/overview", {
    start_date: period.start,
    end_date: period.end,
    granularity,
    group_by: tag === undefined ? groupBy : "tag",
    tag_key: tag,
    cloud_provider: provider || undefined,
  });
}

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function CostExplorer({ now }: { now?: Date }) {
  const today = todayUtc(now);
  const [preset, setPreset] = useState<PresetName | null>("this_month");
  const [period, setPeriod] = useState<Period>(presetPeriod("this_month", today));
  const [groupBy, setGroupBy] = useState("service");
  const [granularity, setGranularity] = useState<Granularity>("daily");
  const [provider, setProvider] = useState("");
  const [compare, setCompare] = useState(true);
  const problem = periodProblem(period);
  const compared = previousPeriod(period);
  const key = `${period.start}|${period.end}|${groupBy}|${granularity}|${provider}`;

  const org = useLoad("organization", () => getJson<OrganisationSettings>("/v1/organization"));
  const tagKeys = org.state === "ready" ? (org.value.settings.rollup_tag_keys ?? []) : [];
  const current = useLoad(`cur:${key}:${problem ?? ""}`, () => (problem ? Promise.reject(new Error(problem)) : overview(period, groupBy, granularity, provider)));
  const before = useLoad(`prev:${key}:${String(compare)}:${problem ?? ""}`, () =>
    compare && !problem ? overview(compared, groupBy, granularity, provider) : Promise.resolve<CostOverview | null>(null),
  );

  const choosePreset = (name: PresetName): void => {
    setPreset(name);
    setPeriod(presetPeriod(name, today));
  };
  const previous = before.state === "ready" ? before.value : null;
  const rows = current.state === "ready" ? explorerRows(current.value, previous) : [];
  const dimensionLabel = groupBy.startsWith("tag:") ? `Tag ${groupBy.slice(4)}` : (DIMENSIONS.find((d) => d.value === groupBy)?.label ?? groupBy);

  return (
    <div data-testid="cost-explorer">
      <header className="page-header">
        <h1>Cost explorer</h1>
        <p className="muted">
          {period.start} – up to {period.end} (end not included, UTC)
          {compare ? ` · compared with ${compared.start} – up to ${compared.end}` : ""}
        </p>
      </header>

      <section className="card controls" aria-label="Explorer settings" data-testid="explorer-controls">
        <div className="preset-group" role="group" aria-label="Period presets">
          {PRESETS.map((p) => (
            <button key={p.name} type="button" aria-pressed={preset === p.name} data-testid={`explorer-preset-${p.name}`} onClick={() => choosePreset(p.name)}>
              {p.label}
            </button>
          ))}
        </div>
        <label>
          Start
          <input type="date" value={period.start} data-testid="explorer-start" onChange={(e) => { setPreset(null); setPeriod({ ...period, start: e.target.value }); }} />
        </label>
        <label>
          End (not included)
          <input type="date" value={period.end} data-testid="explorer-end" onChange={(e) => { setPreset(null); setPeriod({ ...period, end: e.target.value }); }} />
        </label>
        <label>
          Group by
          <select value={groupBy} data-testid="explorer-group-by" onChange={(e) => setGroupBy(e.target.value)}>
            {DIMENSIONS.map((d) => (
              <option key={d.value} value={d.value}>{d.label}</option>
            ))}
            {tagKeys.map((k) => (
              <option key={k} value={`tag:${k}`}>Tag: {k}</option>
            ))}
          </select>
        </label>
        <label>
          Provider
          <select value={provider} data-testid="explorer-provider" onChange={(e) => setProvider(e.target.value)}>
            <option value="">All providers</option>
            <option value="aws">AWS</option>
            <option value="azure">Azure</option>
            <option value="gcp">GCP</option>
          </select>
        </label>
        <label>
          Granularity
          <select value={granularity} data-testid="explorer-granularity" onChange={(e) => setGranularity(e.target.value as Granularity)}>
            <option value="daily">Daily</option>
            <option value="weekly">Weekly</option>
            <option value="monthly">Monthly</option>
          </select>
        </label>
        <label className="checkbox">
          <span>
            <input type="checkbox" checked={compare} data-testid="explorer-compare" onChange={(e) => setCompare(e.target.checked)} /> Compare with the previous period
          </span>
        </label>
      </section>

      {current.state === "loading" && <p className="muted" data-testid="explorer-state" data-state="loading">Loading…</p>}
      {current.state === "error" && (
        <p className="error" role="alert" data-testid="explorer-state" data-state="error">
          {current.status === 403 ? "Your role cannot see costs." : current.message}
        </p>
      )}
      {current.state === "ready" && (
        <div data-testid="explorer-result" data-state="ready" data-group-by={groupBy} data-start={current.value.start_date} data-end={current.value.end_date}>
          <section className="card summary" aria-label="Totals">
            <div>
              <div className="muted small">Total</div>
              <p className="figure" data-testid="explorer-total" data-value={current.value.total_cost.toFixed(2)} data-currency={current.value.currency}>
                {money(current.value.total_cost, current.value.currency)}
              </p>
            </div>
            {compare && (
              <div>
                <div className="muted small">Previous period</div>
                <p className="figure" data-testid="explorer-previous-total" data-value={current.value.period_comparison.previous_period.toFixed(2)}>
                  {money(current.value.period_comparison.previous_period, current.value.currency)}
                </p>
                <span data-testid="explorer-change" data-value={current.value.period_comparison.change_amount.toFixed(2)} className={current.value.period_comparison.change_amount > 0 ? "up" : "down"}>
                  {money(current.value.period_comparison.change_amount, current.value.currency)} ({percent(current.value.period_comparison.change_percent)})
                </span>
              </div>
            )}
            <span className="spacer" />
            <button type="button" data-testid="explorer-export" disabled={rows.length === 0} onClick={() => download(explorerCsv(rows, groupBy, current.value.currency), csvFileName(groupBy, period))}>
              Export CSV
            </button>
          </section>

          <section className="card spaced" aria-label="Chart">
            <CompareChart
              testId="explorer-chart"
              dates={current.value.time_series.map((p) => p.date)}
              current={current.value.time_series.map((p) => p.cost)}
              previous={compare ? alignPrevious(current.value, previous) : current.value.time_series.map(() => null)}
              currency={current.value.currency}
            />
            {before.state === "error" && <p className="error small" role="alert">Previous period: {before.message}</p>}
          </section>

          <section className="card table-wrap spaced" aria-label="Breakdown">
            {rows.length === 0 ? (
              <p className="muted" data-testid="explorer-empty">No costs in this period.</p>
            ) : (
              <table className="data" data-testid="explorer-table">
                <caption className="visually-hidden">Cost by {dimensionLabel.toLowerCase()}</caption>
                <thead>
                  <tr>
                    <th scope="col">{dimensionLabel}</th>
                    <th scope="col" className="num">Cost ({current.value.currency})</th>
                    {compare && <th scope="col" className="num">Previous</th>}
                    {compare && <th scope="col" className="num">Change</th>}
                    <th scope="col" className="num">Share %</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.dimension} data-testid="explorer-row" data-dimension={r.dimension}>
                      <th scope="row" title={r.dimension}>{r.label}</th>
                      <td className="num" data-testid="explorer-row-cost" data-value={r.cost}>{r.cost}</td>
                      {compare && <td className="num" data-testid="explorer-row-previous">{r.previous}</td>}
                      {compare && <td className="num" data-testid="explorer-row-change">{r.change}</td>}
                      <td className="num">{r.share}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
      )}
    </div>
  );
}
