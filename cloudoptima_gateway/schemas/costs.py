"""Cost Data API bodies (seed §3.2): overview, forecast, anomalies, by-service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from cloudoptima_gateway.schemas.common import Money, Schema, StrictBody

GroupBy = Literal["service", "region", "tag", "account", "provider", "category"]
Granularity = Literal["daily", "weekly", "monthly"]
CloudProviderName = Literal["aws", "azure", "gcp"]


class PeriodComparison(Schema):
    previous_period: Money
    previous_start: date
    previous_end: date
    change_amount: Money
    change_percent: float | None = Field(description="null when the previous period cost is 0")


class BreakdownItem(Schema):
    dimension: str
    cost: Money
    percentage: float
    name: str | None = Field(
        default=None,
        description="Display name of the value: the cloud account's name when group_by=account (null if unknown).",
    )


class TimePoint(Schema):
    date: date
    cost: Money


class GroupSeriesOut(Schema):
    key: str = Field(description="The group's value; '(other)' for the groups not listed.")
    name: str | None = Field(default=None, description="Display name (the cloud account's name by account).")
    other: bool = False
    total: Money = Field(description="Sum of this group's points.")
    points: list[TimePoint] = Field(
        description="One per period of time_series; per period the groups add up exactly to its cost."
    )


class CostOverviewOut(Schema):
    start_date: date
    end_date: date = Field(description="exclusive")
    granularity: Granularity
    group_by: str
    currency: str
    total_cost: Money
    period_comparison: PeriodComparison
    breakdown: list[BreakdownItem]
    time_series: list[TimePoint]
    source: Literal["rollup", "raw"]
    group_series: list[GroupSeriesOut] = Field(
        default_factory=list, description="With series_by_group=true: the top groups' series and '(other)'."
    )
    trend_basis: TrendBasisOut | None = Field(
        default=None,
        description="With period=month_to_date: the complete days covered and the same days of last month "
        "that period_comparison compares with (null for an explicit range).",
    )


class ForecastPointOut(Schema):
    date: date
    predicted_cost: Money
    lower_bound: Money
    upper_bound: Money


class AccuracyOut(Schema):
    model: str
    mape: float | None
    rmse: float
    mae: float | None = None
    coverage: float | None = None


class ProviderForecastOut(Schema):
    """A connected account's forecast made by its cloud, beside ours over the same days."""

    cloud_account_id: uuid.UUID
    account: str = Field(description="The provider's account id.")
    account_name: str
    provider: str
    source: str = Field(description="aws_cost_explorer or azure-cost-management-forecast.")
    currency: str
    start: date
    end: date = Field(description="End-exclusive.")
    provider_total: Money
    ours_total: Money | None = Field(description="CloudOptima's forecast of the account over the same days.")
    ours_lower: Money | None
    ours_upper: Money | None
    difference_percent: float | None = Field(description="(ours - provider) / provider x 100.")
    fetched_at: datetime


class ForecastOut(Schema):
    currency: str
    days_ahead: int
    confidence_level: float
    model: str | None
    forecast: list[ForecastPointOut]
    total_forecasted: Money
    total_lower: Money
    total_upper: Money
    accuracy_metrics: AccuracyOut | None
    history_start: date | None
    history_end: date | None
    scope: dict[str, Any] | None = None
    message: str | None = None
    provider_forecasts: list[ProviderForecastOut] = Field(
        default_factory=list,
        description="The clouds' own forecasts of the accounts in scope (none for a service or budget scope).",
    )


class AnomalyDriverOut(Schema):
    key: str = Field(description="Resource id, usage type or key=value tag.")
    label: str | None = None
    actual: Money
    expected: Money
    change: Money
    share_percent: float | None = Field(description="change / impact × 100.")
    new: bool = Field(description="No cost in the baseline before the incident.")


class AnomalyDriversOut(Schema):
    resources: list[AnomalyDriverOut] = Field(default_factory=list)
    usage_types: list[AnomalyDriverOut] = Field(default_factory=list)
    tags: list[AnomalyDriverOut] = Field(default_factory=list)


class AnomalyOut(Schema):
    id: uuid.UUID
    detected_at: datetime
    start_date: date | None = Field(description="The first anomalous day.")
    end_date: date | None = Field(
        description="The last anomalous day (inclusive; equal to start_date for one day)."
    )
    service: str | None
    region: str | None
    severity: str
    kind: Literal["anomaly", "change"] = Field(
        default="anomaly",
        description="'anomaly' (a spike or dip) or 'change' (a lasting step of level reported once from its start).",
    )
    impact_amount: Money | None
    expected_spend: Money | None
    actual_spend: Money | None
    deviation_percent: float | None
    currency: str | None = Field(
        default=None,
        description="The currency of the amounts: that of the organisation's costs in the incident's window "
        "(null when unknown or several).",
    )
    root_cause: str | None
    root_cause_source: str = Field(
        description="'contributions' (deterministic text) or 'agent:<provider>' (the root-cause agent)."
    )
    status: str
    feedback: str | None
    affected_resources: list[str]
    drivers: AnomalyDriversOut | None = Field(
        default=None,
        description="What changed inside the top cell, ranked by change with each one's share of the impact.",
    )


class AnomalyList(Schema):
    anomalies: list[AnomalyOut]
    total: int


class AnomalyStatusUpdate(StrictBody):
    status: Literal["active", "resolved", "ignored"]
    note: str | None = Field(default=None, max_length=2000)


class AnomalyFeedbackIn(StrictBody):
    feedback: Literal["yes", "no", "planned_activity"]


class ResourceCostOut(Schema):
    resource_id: str
    cost: Money


class ServiceCostOut(Schema):
    service_name: str
    provider: str
    current_month: Money
    last_month: Money = Field(description="The whole previous calendar month.")
    last_month_same_days: Money = Field(description="The previous month over trend_basis's previous period.")
    trend: float | None = Field(
        description="% change of current_month vs last_month_same_days (null when that was 0)."
    )
    top_resources: list[ResourceCostOut]


class TrendBasisOut(Schema):
    """Month to date = the complete UTC days of the month through yesterday, ``[current_start, current_end)``
    with current_end = today (exclusive), against the same day numbers of the previous month, clamped to that
    month's last day: on 31 March, 1-30 March vs 1-28 February (all of February); on 7 December, 1-6 Dec vs
    1-6 Nov. On the 1st of a month (no complete day yet) it is the whole previous month (complete_month)."""

    current_start: date
    current_end: date = Field(description="exclusive (today; today's unfinished day is not counted)")
    previous_start: date
    previous_end: date = Field(description="exclusive")
    rule: str
    complete_month: bool = Field(
        default=False, description="True on the 1st of a month: the period is the whole previous month."
    )


class CostsByServiceOut(Schema):
    currency: str
    month_start: date
    trend_basis: TrendBasisOut
    services: list[ServiceCostOut]
