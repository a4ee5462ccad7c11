// Overview: each card reads the public REST API on its own, so one failing part (a missing permission, an
// empty organisation) shows its own message and the others still load.

import type { ReactNode } from "react";
import { TrendChart } from "../components/TrendChart";
import { TrustWarning } from "../components/TrustWarning";
import { getJson } from "../lib/api";
import { addDays, monthStart, todayUtc } from "../lib/dates";
import { money, percent, relativeAge } from "../lib/format";
import { useCan, useLoad, type Loadable } from "../lib/hooks";
import {
  addSavings,
  changePercent,
  firstRollupTagKey,
  forecastHorizon,
  monthEndForecast,
  monthToDateWindows,
  NO_SAVINGS,
  splitUntagged,
  type OpenSavings,
} from "../lib/overview";
import type { RecommendationList } from "../lib/recommendations";
import { useLiveVersion } from "../lib/live";
import { dayRangeLabel, fromTrendBasis, monthToDate, monthToDateLabel } from "../lib/monthToDate";
import type { AnomalyList, ApprovalList, BudgetList, CloudAccountList, CostOverview, Forecast } from "../lib/types";

const TREND_DAYS = 90;
interface TopTags {
  key: string | null;
  data: CostOverview | null;
}

/** The month's cost by the first rollup tag key (GET /v1/organization), or no key when none is configured. */
async function topTags(start: string, end: string): Promise<TopTags> {
  const org = await getJson<{ settings: Record<string, unknown> }>("/v1/organization");
  const key = firstRollupTagKey(org.settings);
  if (key === null) return { key, data: null };
  const data = await getJson<CostOverview>("/v1/costs/overview", { start_date: start, end_date: end, granularity: "daily", group_by: "tag", tag_key: key });
  return { key, data };
}

/** The API has no savings total: sum ``estimated_savings_monthly`` over every page of active recommendations. */
async function openSavings(): Promise<OpenSavings> {
  let sum = NO_SAVINGS;
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await getJson<RecommendationList>("/v1/recommendations", { status: "active", sort_by: "savings", limit: 500, cursor });
    sum = addSavings(sum, page.recommendations);
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  return sum;
}

function Card({ title, testId, children, wide = false }: { title: string; testId: string; children: ReactNode; wide?: boolean }) {
  return (
    <section className={wide ? "card card-wide" : "card"} data-testid={testId} aria-labelledby={`${testId}-title`}>
      <h2 id={`${testId}-title`}>{title}</h2>
      {children}
    </section>
  );
}

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

/** Both answers when both are ready; the first error otherwise. */
function combine<A, B>(a: Loadable<A>, b: Loadable<B>): Loadable<[A, B]> {
  if (a.state === "error") return a;
  if (b.state === "error") return b;
  if (a.state === "ready" && b.state === "ready") return { state: "ready", value: [a.value, b.value] };
  return { state: "loading" };
}

/** The recorded days of ``series``: up to the forecast's history end (later days are still being collected). */
function recorded(series: CostOverview, fc: Forecast): CostOverview["time_series"] {
  const end = fc.history_end;
  return end === null ? series.time_series : series.time_series.filter((p) => p.date <= end);
}

function overview(start: string, end: string, groupBy: string): Promise<CostOverview> {
  return getJson<CostOverview>("/v1/costs/overview", { start_date: start, end_date: end, granularity: "daily", group_by: groupBy });
}

/** Month to date as the API defines it (complete days vs the same days of last month, in trend_basis). */
function monthToDateOverview(): Promise<CostOverview> {
  return getJson<CostOverview>("/v1/costs/overview", { period: "month_to_date", granularity: "daily", group_by: "service" });
}

function TopList({ data, testId }: { data: CostOverview; testId: string }) {
  const top = data.breakdown.slice(0, 5);
  if (top.length === 0) return <p className="muted">No costs this month yet.</p>;
  return (
    <ol className="top-list" data-testid={testId}>
      {top.map((item) => (
        <li key={item.dimension} data-testid={`${testId}-item`}>
          <span className="top-name" title={item.dimension}>
            {item.name ?? item.dimension}
          </span>
          <span className="top-cost" data-testid={`${testId}-cost`}>
            {money(item.cost, data.currency)}
          </span>
          <span className="bar" aria-hidden="true">
            <span style={{ width: `${Math.min(item.percentage, 100)}%` }} />
          </span>
        </li>
      ))}
    </ol>
  );
}

export function Overview({ now }: { now?: Date }) {
  const today = todayUtc(now);
  const windows = monthToDateWindows(today);
  const canApprove = useCan("apply:low_risk_recommendations");
  // Live refresh: a card reloads in place (previous numbers shown meanwhile) when a channel whose events change it
  // delivers one (its load's version).
  const costV = useLiveVersion("cost_updates");
  const anomalyV = useLiveVersion("anomalies");
  const budgetV = useLiveVersion("budget_alerts");
  const execV = useLiveVersion("policy_executions");
  const recV = useLiveVersion("recommendations");
  const mtd = useLoad(`mtd:${today}`, monthToDateOverview, costV);
  const byAccount = useLoad(`acc:${today}`, () => overview(windows.current.start, windows.current.end, "account"), costV);
  const byRegion = useLoad(`reg:${today}`, () => overview(windows.current.start, windows.current.end, "region"), costV);
  const trend = useLoad(`trend:${today}`, () => overview(addDays(today, 1 - TREND_DAYS), addDays(today, 1), "provider"), costV);
  const forecast = useLoad(`fc:${today}`, () => getJson<Forecast>("/v1/costs/forecast", { days_ahead: forecastHorizon(today) }), costV);
  const anomalies = useLoad(`an:${today}`, () => getJson<AnomalyList>("/v1/costs/anomalies", { status: "active", limit: 500 }), anomalyV);
  const budgets = useLoad("budgets", () => getJson<BudgetList>("/v1/budgets"), `${costV}:${budgetV}`);
  const accounts = useLoad("accounts", () => getJson<CloudAccountList>("/v1/cloud-accounts"), costV);
  const approvals = useLoad(
    `approvals:${String(canApprove)}`,
    () => (canApprove ? getJson<ApprovalList>("/v1/approvals") : Promise.resolve<ApprovalList | null>(null)),
    execV,
  );

  const tags = useLoad(`tags:${today}`, () => topTags(windows.current.start, windows.current.end), costV);
  const savings = useLoad("savings", openSavings, `${execV}:${recV}`);

  const trendAndForecast = combine(trend, forecast);
  const monthAndForecast = combine(mtd, forecast);

  return (
    <div className="overview" data-testid="overview">
      <header className="page-header">
        <h1>Overview</h1>
        <p className="muted">
          Month to date: {dayRangeLabel(windows.current)}{monthToDate(today).completeMonth ? " (last month, complete)" : ""} (UTC, complete days)
        </p>
      </header>
      <div className="grid">
        <Card title="Month-to-date spend" testId="overview-mtd">
          <Pending value={mtd}>
            {(current) => {
              const prior = current.period_comparison.previous_period;
              const change = changePercent(current.total_cost, prior);
              const basis = current.trend_basis ? fromTrendBasis(current.trend_basis) : monthToDate(today);
              return (
                <>
                  <p className="figure" data-testid="overview-mtd-total" data-value={current.total_cost.toFixed(2)}>
                    {money(current.total_cost, current.currency)}
                  </p>
                  <p className="muted">
                    <span data-testid="overview-mtd-change" className={change !== null && change > 0 ? "up" : "down"}>
                      {percent(change)}
                    </span>{" "}
                    against{" "}
                    <span data-testid="overview-mtd-previous" data-value={prior.toFixed(2)}>
                      {money(prior, current.currency)}
                    </span>
                  </p>
                  <p className="muted small" data-testid="overview-mtd-basis" data-start={basis.current.start} data-end={basis.current.end} data-previous-start={basis.previous.start} data-previous-end={basis.previous.end} data-complete-month={String(basis.completeMonth)}>
                    {monthToDateLabel(basis)} (UTC, complete days; today is not counted)
                  </p>
                </>
              );
            }}
          </Pending>
        </Card>

        <Card title="End-of-month forecast" testId="overview-forecast">
          <Pending value={monthAndForecast}>
            {([month, fc]) => {
              const eom = monthEndForecast(today, month, fc);
              if (eom === null) return <p className="muted">{fc.message ?? "Not enough history to forecast."}</p>;
              return (
                <>
                  <p className="figure" data-testid="overview-forecast-total" data-value={eom.expected.toFixed(2)}>
                    {money(eom.expected, fc.currency)}
                  </p>
                  <p className="muted" data-testid="overview-forecast-interval" data-lower={eom.lower.toFixed(2)} data-upper={eom.upper.toFixed(2)}>
                    {Math.round(eom.confidence * 100)} % interval {money(eom.lower, fc.currency)} – {money(eom.upper, fc.currency)}
                    {fc.model ? ` · model ${fc.model}` : ""}
                  </p>
                </>
              );
            }}
          </Pending>
        </Card>

        <Card title="Open anomalies" testId="overview-anomalies">
          <Pending value={anomalies}>
            {(list) => (
              <p className="figure" data-testid="overview-anomalies-count" data-value={list.total}>
                {list.total}
              </p>
            )}
          </Pending>
        </Card>

        <Card title="Pending approvals" testId="overview-approvals">
          <Pending value={approvals}>
            {(list) =>
              list === null ? (
                <p className="muted">Your role takes no approval decisions.</p>
              ) : (
                <p className="figure" data-testid="overview-approvals-count" data-value={list.total}>
                  {list.total}
                </p>
              )
            }
          </Pending>
        </Card>

        <Card title={`Daily cost, last ${TREND_DAYS} days, and forecast`} testId="overview-trend" wide>
          <Pending value={trendAndForecast}>
            {([series, fc]) => (
              <TrendChart actual={recorded(series, fc)} forecast={fc.forecast} currency={series.currency} />
            )}
          </Pending>
          <TrustWarning start={addDays(today, 1 - TREND_DAYS)} end={addDays(today, 1)} version={costV} testId="overview-trust-warning" />
        </Card>

        <Card title="Top services" testId="overview-top-services">
          <Pending value={mtd}>{(data) => <TopList data={data} testId="overview-top-services-list" />}</Pending>
        </Card>
        <Card title="Top accounts" testId="overview-top-accounts">
          <Pending value={byAccount}>{(data) => <TopList data={data} testId="overview-top-accounts-list" />}</Pending>
        </Card>
        <Card title="Top regions" testId="overview-top-regions">
          <Pending value={byRegion}>{(data) => <TopList data={data} testId="overview-top-regions-list" />}</Pending>
        </Card>

        <Card title="Top tags" testId="overview-top-tags">
          <Pending value={tags}>
            {({ key, data }) => {
              if (key === null || data === null) return <p className="muted">No rollup tag key is configured.</p>;
              const { top, untagged } = splitUntagged(data.breakdown);
              return (
                <>
                  <p className="muted small">
                    By <code>{key}</code>
                  </p>
                  <TopList data={{ ...data, breakdown: top }} testId="overview-top-tags-list" />
                  {untagged !== null && (
                    <p className="muted small" data-testid="overview-top-tags-untagged" data-value={untagged.cost.toFixed(2)}>
                      Untagged: {money(untagged.cost, data.currency)} ({untagged.percentage.toFixed(1)} %)
                    </p>
                  )}
                </>
              );
            }}
          </Pending>
        </Card>

        <Card title="Open savings" testId="overview-savings">
          <Pending value={savings}>
            {(sum) => (
              <>
                <p className="figure" data-testid="overview-savings-open" data-value={sum.monthly.toFixed(2)}>
                  {mtd.state === "ready" ? money(sum.monthly, mtd.value.currency) : sum.monthly.toFixed(2)}
                  <span className="muted small"> / month</span>
                </p>
                <p className="muted small">
                  Estimated monthly savings of {sum.counted} active recommendation{sum.counted === 1 ? "" : "s"}
                  {sum.unpriced > 0 ? ` (${sum.unpriced} without a price estimate, not counted)` : ""}. Realised savings are
                  not measured yet.
                </p>
              </>
            )}
          </Pending>
        </Card>

        <Card title="Budgets at risk" testId="overview-budgets">
          <Pending value={budgets}>
            {(list) => {
              const risky = list.budgets.filter((b) => b.status !== "on_track");
              return (
                <>
                  <p className="figure" data-testid="overview-budgets-count" data-value={risky.length}>
                    {risky.length} <span className="muted small">of {list.budgets.length}</span>
                  </p>
                  <ul className="plain">
                    {risky.slice(0, 5).map((b) => (
                      <li key={b.id} data-testid="overview-budgets-item">
                        <span className={`badge badge-${b.status}`}>{b.status === "exceeded" ? "exceeded" : "at risk"}</span> {b.name}:{" "}
                        {money(b.current_spend, b.currency)} of {money(b.amount, b.currency)}
                      </li>
                    ))}
                  </ul>
                </>
              );
            }}
          </Pending>
        </Card>

        <Card title="Data freshness" testId="overview-freshness">
          <Pending value={accounts}>
            {(list) =>
              list.accounts.length === 0 ? (
                <p className="muted">No cloud account connected.</p>
              ) : (
                <ul className="plain">
                  {list.accounts.map((a) => (
                    <li key={a.id} data-testid="overview-freshness-item">
                      <span className="provider">{a.provider.toUpperCase()}</span> {a.account_name ?? a.account_id}:{" "}
                      <span title={a.last_sync ?? "never synced"}>synced {relativeAge(a.last_sync, now)}</span>{" "}
                      <span className={`badge badge-${a.status}`}>{a.status}</span>
                    </li>
                  ))}
                </ul>
              )
            }
          </Pending>
        </Card>
      </div>
      <p className="muted small">Month start {monthStart(today)}; amounts in the organisation's currency.</p>
    </div>
  );
}
