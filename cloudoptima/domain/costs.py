"""Cost analytics results (the seed's ``/costs/overview`` and ``/costs/by-service``): Decimal money, UTC dates.

Periods are end-exclusive: ``end_date`` is the first day *not* included.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

Granularity = Literal["daily", "weekly", "monthly"]
BASE_DIMENSIONS = ("service", "region", "account", "provider", "category", "charge_category")
MAX_RANGE_DAYS = 366


class CostQueryError(ValueError):
    """The question cannot be answered as asked (bad range, unknown dimension, mixed currencies)."""


class PeriodComparison(BaseModel):
    previous_period: Decimal
    previous_start: date
    previous_end: date
    change_amount: Decimal
    change_percent: Decimal | None = Field(description="None when the previous period cost is 0")


class BreakdownItem(BaseModel):
    dimension: str
    cost: Decimal
    percentage: Decimal
    name: str | None = Field(
        default=None,
        description="Display name of the value: the cloud account's name when grouped by account.",
    )


class TimePoint(BaseModel):
    date: date
    cost: Decimal


class GroupSeries(BaseModel):
    """One group's cost per period of an overview's series, in cents (``other`` = every group not listed:
    the listed groups' points add up exactly to the overview's cent-rounded series)."""

    key: str
    name: str | None = None
    other: bool = False
    total: Decimal
    points: list[TimePoint]


class CostOverview(BaseModel):
    start_date: date
    end_date: date
    granularity: Granularity
    group_by: str
    provider: str | None
    currency: str
    total_cost: Decimal
    period_comparison: PeriodComparison
    breakdown: list[BreakdownItem]
    time_series: list[TimePoint]
    source: Literal["rollup", "raw"]
    group_series: list[GroupSeries] = Field(
        default_factory=list, description="Per-group series (top groups + other) when asked for."
    )
    trend_basis: TrendBasis | None = Field(
        default=None, description="What a month-to-date answer covers and compares with (else None)."
    )


class ResourceCost(BaseModel):
    resource_id: str
    cost: Decimal


class ServiceCost(BaseModel):
    service_name: str
    provider: str
    current_month: Decimal
    last_month: Decimal = Field(description="The whole previous calendar month.")
    last_month_same_days: Decimal = Field(
        description="The previous month over the same days as month to date (see TrendBasis)."
    )
    trend: Decimal | None = Field(
        description="% change of month to date vs last_month_same_days; None when that was 0"
    )
    top_resources: list[ResourceCost]


class TrendBasis(BaseModel):
    """What month to date covers and what it is compared with (one definition everywhere, see
    ``cloudoptima.analytics.month_to_date``): the complete UTC days of the month through yesterday,
    ``[current_start, current_end)`` with ``current_end`` = today, against the same day numbers of the previous
    month ``[previous_start, previous_end)``, clamped to that month's last day: on 31 March, 1-30 March against
    1-28 February (the whole of February, 29 in a leap year); on 7 December, 1-6 December against 1-6
    November. On the 1st of a month no day is complete yet, so it covers the whole previous month
    (``complete_month``): on 1 December, 1-30 November against 1-30 October."""

    current_start: date
    current_end: date = Field(description="exclusive (today: today's unfinished day is not counted)")
    previous_start: date
    previous_end: date = Field(description="exclusive")
    rule: str = "complete_days_of_month_to_date_vs_same_days_of_previous_month"
    complete_month: bool = Field(
        default=False, description="True on the 1st of a month: the period is the whole previous month."
    )


class CostsByService(BaseModel):
    currency: str
    month_start: date
    trend_basis: TrendBasis
    services: list[ServiceCost]


class GroupTotal(BaseModel):
    """Cost of one value of a dimension over a period."""

    key: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    charge_rows: int
    name: str | None = Field(default=None, description="The cloud account's name when grouped by account.")


class GroupPage(BaseModel):
    """One page of a period's cost grouped by a dimension, largest first (``count`` = every group)."""

    currency: str
    group_by: str
    total_billed_cost: Decimal
    count: int
    groups: list[GroupTotal]
    time_series: list[TimePoint]
    source: Literal["rollup", "raw"]


class Driver(BaseModel):
    """One value's cost in a period and in the baseline period, and its share of the total change."""

    key: str
    current: Decimal
    previous: Decimal
    change: Decimal
    change_percent: Decimal | None
    share_of_change_percent: Decimal | None
    name: str | None = Field(default=None, description="The cloud account's name when grouped by account.")


class PeriodDrivers(BaseModel):
    """What changed between two periods of equal length, by one dimension (largest moves first)."""

    currency: str
    current_total: Decimal
    previous_total: Decimal
    change: Decimal
    change_percent: Decimal | None
    drivers: list[Driver]
    new_keys: int
    gone_keys: int


class ResourceSpend(BaseModel):
    """A resource's billed cost over a period, with where it runs."""

    resource_id: str
    resource_name: str | None
    service: str | None
    account: str | None
    region: str | None
    provider: str
    billed_cost: Decimal
    account_name: str | None = Field(default=None, description="The cloud account's name (cloud_accounts).")


class ResourcePage(BaseModel):
    """One page of resources by billed cost, largest first (``count`` = every resource)."""

    currency: str
    count: int
    resources: list[ResourceSpend]
