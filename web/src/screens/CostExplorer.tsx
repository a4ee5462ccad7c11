// Cost explorer: the API's /v1/costs/overview grouped by any dimension it supports (and the organisation's
// rollup tag keys), filtered by provider, cloud accounts, services, regions and a tag value, for a chosen period
// against the same days of the previous month ("this month" / "last month") or the previous period of the
// same length (any other period), daily / weekly / monthly; a comparison chart, a per-group
// chart (the API's group_series), the breakdown table and the period × group table, each exported as CSV with
// exactly the table's strings. The whole state lives in the query string (a shareable link; reload restores it).

import { useEffect, useState } from "react";
import { CompareChart } from "../components/CompareChart";
import { GroupChart } from "../components/GroupChart";
import { TrustWarning } from "../components/TrustWarning";
import { getJson } from "../lib/api";
import { todayUtc } from "../lib/dates";
import { money, percent } from "../lib/format";
import { useLoad } from "../lib/hooks";
import { alignPrevious, comparisonPeriod, comparisonTotals, csvFileName, explorerCsv, explorerRows, periodProblem, presetPeriod, PRESETS, type Period, type PresetName } from "../lib/costs";
import { MultiPick } from "../components/MultiPick";
import { tagHasData, tagOptionLabel } from "../lib/multiPick";
import { groupCsv, groupCsvName, groupTable, overviewQuery, stateFromQuery, stateToQuery, tagProblem, type ExplorerState, type GroupSeries } from "../lib/explorer";
import type { CloudAccountList, CostOverview } from "../lib/types";
import "./explorer.css";
import "./explorer-groups.css";

const DIMENSIONS: readonly { value: string; label: string }[] = [
  { value: "service", label: "Service" },
  { value: "account", label: "Account" },
  { value: "region", label: "Region" },
  { value: "provider", label: "Provider" },
  { value: "category", label: "Category" },
];

type Granularity = "daily" | "weekly" | "monthly";
type ExplorerOverview = CostOverview & { group_series?: GroupSeries[] };

interface OrganisationSettings {
  settings: { rollup_tag_keys?: string[] };
}

function overview(state: ExplorerState, period: Period): Promise<ExplorerOverview> {
  return getJson<ExplorerOverview>("/v1/costs/overview", overviewQuery(state, period));
}

/** The values one dimension has in ``period`` (for the service and region filters), largest first. */
function dimensionValues(period: Period, groupBy: string, provider: string): Promise<string[]> {
  return getJson<CostOverview>("/v1/costs/overview", {
    start_date: period.start,
    end_date: period.end,
    group_by: groupBy,
    cloud_provider: provider || undefined,
  }).then((answer) => answer.breakdown.map((b) => b.dimension).filter((d) => d !== "(none)"));
}

/** The options of a filter: the values found, plus any chosen value the data no longer has. */
function withChosen(values: readonly string[], chosen: readonly string[]): string[] {
  return [...values, ...chosen.filter((c) => !values.includes(c))];
}

/** For each rollup tag key, whether the period has spend on any of its values (a grouping of only
 * "(untagged)" otherwise); one overview request per key. */
function tagKeyData(period: Period, provider: string, keys: readonly string[]): Promise<Record<string, boolean>> {
  return Promise.all(
    keys.map((k) =>
      getJson<CostOverview>("/v1/costs/overview", { start_date: period.start, end_date: period.end, group_by: "tag", tag_key: k, cloud_provider: provider || undefined }).then(
        (answer): [string, boolean] => [k, tagHasData(answer.breakdown)],
      ),
    ),
  ).then((pairs) => Object.fromEntries(pairs));
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
  const [state, setState] = useState<ExplorerState>(() => stateFromQuery(window.location.search, today));
  const { preset, period, groupBy, granularity, provider, compare } = state;
  const update = (change: Partial<ExplorerState>): void => setState((old) => ({ ...old, ...change }));
  const setGroupBy = (value: string): void => update({ groupBy: value });
  const setGranularity = (value: Granularity): void => update({ granularity: value });
  const setProvider = (value: string): void => update({ provider: value });
  const setCompare = (value: boolean): void => update({ compare: value });
  const [tagDraft, setTagDraft] = useState(state.tag);
  const tagError = tagProblem(tagDraft);
  const query = stateToQuery(state);
  useEffect(() => {
    // Keep the link shareable: the query string follows the state (replace, so Back leaves the explorer).
    if (window.location.pathname === "/costs" && window.location.search !== `?${query}`) {
      window.history.replaceState(null, "", `/costs?${query}`);
    }
  }, [query]);
  const problem = periodProblem(period);
  // "This month" / "last month" against the same days of the previous month; other periods against the
  // previous period of equal length (lib/costs comparisonPeriod; the label says which).
  const comparison = comparisonPeriod(preset, period);
  const compared = comparison.period;
  const key = stateToQuery({ ...state, compare: true });

  const accountList = useLoad("cloud-accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"));
  const accounts = accountList.state === "ready" ? accountList.value.accounts : [];
  const valuesKey = `${period.start}|${period.end}|${provider}|${problem ?? ""}`;
  const serviceValues = useLoad(`services:${valuesKey}`, () => (problem ? Promise.resolve([]) : dimensionValues(period, "service", provider)));
  const regionValues = useLoad(`regions:${valuesKey}`, () => (problem ? Promise.resolve([]) : dimensionValues(period, "region", provider)));
  const services = withChosen(serviceValues.state === "ready" ? serviceValues.value : [], state.services);
  const regions = withChosen(regionValues.state === "ready" ? regionValues.value : [], state.regions);
  const filtered = state.accounts.length + state.services.length + state.regions.length > 0 || state.tag !== "";

  const org = useLoad("organization", () => getJson<OrganisationSettings>("/v1/organization"));
  const tagKeys = org.state === "ready" ? (org.value.settings.rollup_tag_keys ?? []) : [];
  const tagDataLoad = useLoad(`tag-data:${valuesKey}:${tagKeys.join(",")}`, () =>
    problem || tagKeys.length === 0 ? Promise.resolve({}) : tagKeyData(period, provider, tagKeys),
  );
  const tagData: Record<string, boolean> = tagDataLoad.state === "ready" ? tagDataLoad.value : {};
  const current = useLoad(`cur:${key}:${problem ?? ""}`, () => (problem ? Promise.reject(new Error(problem)) : overview(state, period)));
  const before = useLoad(`prev:${key}:${String(compare)}:${problem ?? ""}`, () =>
    compare && !problem ? overview(state, compared) : Promise.resolve<CostOverview | null>(null),
  );

  const choosePreset = (name: PresetName): void => update({ preset: name, period: presetPeriod(name, today) });
  const previous = before.state === "ready" ? before.value : null;
  const rows = current.state === "ready" ? explorerRows(current.value, previous) : [];
  const seriesByGroup = current.state === "ready" ? (current.value.group_series ?? []) : [];
  const table = current.state === "ready" ? groupTable(seriesByGroup, current.value.time_series) : null;
  const dimensionLabel = groupBy.startsWith("tag:") ? `Tag ${groupBy.slice(4)}` : (DIMENSIONS.find((d) => d.value === groupBy)?.label ?? groupBy);

  return (
    <div data-testid="cost-explorer">
      <header className="page-header">
        <h1>Cost explorer</h1>
        <p className="muted">
          {period.start} – up to {period.end} (end not included, UTC)
          {compare ? <span data-testid="explorer-comparison" data-rule={comparison.rule} data-start={compared.start} data-end={compared.end}>{` · ${comparison.label}`}</span> : ""}
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
          <input type="date" value={period.start} data-testid="explorer-start" onChange={(e) => update({ preset: null, period: { ...period, start: e.target.value } })} />
        </label>
        <label>
          End (not included)
          <input type="date" value={period.end} data-testid="explorer-end" onChange={(e) => update({ preset: null, period: { ...period, end: e.target.value } })} />
        </label>
        <label>
          Group by
          <select value={groupBy} data-testid="explorer-group-by" onChange={(e) => setGroupBy(e.target.value)}>
            {DIMENSIONS.map((d) => (
              <option key={d.value} value={d.value}>{d.label}</option>
            ))}
            {tagKeys.map((k) => (
              <option key={k} value={`tag:${k}`} data-testid="explorer-tag-key" data-key={k} data-has-data={tagData[k] === undefined ? "unknown" : String(tagData[k])}>
                {tagOptionLabel(k, tagData[k])}
              </option>
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
        <MultiPick
          testId="explorer-accounts"
          label="Accounts"
          allText="All accounts"
          options={accounts.map((a) => ({ value: a.id, label: a.account_name ?? a.account_id, hint: `${a.provider} ${a.account_id}` }))}
          selected={state.accounts}
          onChange={(next) => update({ accounts: next })}
        />
        <MultiPick testId="explorer-services" label="Services" allText="All services" options={services.map((v) => ({ value: v, label: v }))} selected={state.services} onChange={(next) => update({ services: next })} />
        <MultiPick testId="explorer-regions" label="Regions" allText="All regions" options={regions.map((v) => ({ value: v, label: v }))} selected={state.regions} onChange={(next) => update({ regions: next })} />
        <label className="tag-filter">
          Tag (key:value)
          <input
            type="text"
            value={tagDraft}
            placeholder="team:web"
            data-testid="explorer-tag"
            aria-invalid={tagError !== null}
            aria-describedby={tagError ? "explorer-tag-error" : undefined}
            onChange={(e) => {
              setTagDraft(e.target.value);
              if (tagProblem(e.target.value) === null) update({ tag: e.target.value.trim() });
            }}
          />
          {tagError && <span id="explorer-tag-error" className="field-error" data-testid="explorer-tag-error">{tagError}</span>}
        </label>
        {filtered && (
          <button type="button" data-testid="explorer-clear-filters" onClick={() => { setTagDraft(""); update({ accounts: [], services: [], regions: [], tag: "" }); }}>
            Clear filters
          </button>
        )}
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
                <div className="muted small">{comparison.rule === "same_days_of_previous_month" ? "Same days of the previous month" : "Previous period"}</div>
                {previous === null ? (
                  <p className="muted" data-testid="explorer-previous-total" data-state="loading">…</p>
                ) : (
                  <>
                    <p className="figure" data-testid="explorer-previous-total" data-value={comparisonTotals(current.value, previous).previous.toFixed(2)}>
                      {money(comparisonTotals(current.value, previous).previous, current.value.currency)}
                    </p>
                    <span data-testid="explorer-change" data-value={comparisonTotals(current.value, previous).change.toFixed(2)} className={comparisonTotals(current.value, previous).change > 0 ? "up" : "down"}>
                      {money(comparisonTotals(current.value, previous).change, current.value.currency)} ({percent(comparisonTotals(current.value, previous).percent)})
                    </span>
                  </>
                )}
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
            <TrustWarning start={current.value.start_date} end={current.value.end_date} testId="explorer-trust-warning" />
          </section>

          {table !== null && table.columns.length > 0 && (
            <section className="card spaced" aria-label="Cost per group over time" data-testid="explorer-groups">
              <div className="section-head">
                <h2>{dimensionLabel} over time</h2>
                <button
                  type="button"
                  data-testid="explorer-groups-export"
                  onClick={() => download(groupCsv(table, current.value.currency), groupCsvName(groupBy, granularity, period))}
                >
                  Export CSV (per {granularity === "daily" ? "day" : granularity === "weekly" ? "week" : "month"})
                </button>
              </div>
              <GroupChart testId="explorer-group-chart" dates={current.value.time_series.map((p) => p.date)} series={seriesByGroup} currency={current.value.currency} />
              <div className="table-wrap">
                <table className="data group-table" data-testid="explorer-group-table">
                  <caption className="visually-hidden">Cost per {granularity === "daily" ? "day" : granularity === "weekly" ? "week" : "month"} and {dimensionLabel.toLowerCase()}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Period from</th>
                      {table.columns.map((c) => (
                        <th key={c.key} scope="col" className="num" title={c.key} data-testid="explorer-group-column" data-key={c.key}>{c.label}</th>
                      ))}
                      <th scope="col" className="num">Total</th>
                    </tr>
                  </thead>
                  <tbody>
                    {table.rows.map((r) => (
                      <tr key={r.period} data-testid="explorer-group-row" data-period={r.period}>
                        <th scope="row" className="period">{r.period}</th>
                        {r.cells.map((cell, i) => (
                          <td key={table.columns[i]?.key ?? i} className="num" data-value={cell}>{cell}</td>
                        ))}
                        <td className="num" data-testid="explorer-group-row-total" data-value={r.total}>{r.total}</td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">Total</th>
                      {table.totals.map((t, i) => (
                        <td key={table.columns[i]?.key ?? i} className="num" data-value={t}>{t}</td>
                      ))}
                      <td className="num" data-testid="explorer-group-total" data-value={table.total}>{table.total}</td>
                    </tr>
                  </tfoot>
                </table>
              </div>
            </section>
          )}

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
