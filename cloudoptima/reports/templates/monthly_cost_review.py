"""The ``monthly_cost_review`` template: spend by account, service, region and one tag key, this period against
the previous period of the same length, the daily trend with its forecast band, and the top N.

:func:`build_monthly_cost_review` is pure: it takes a :class:`MonthlyCostReviewInput` whose numbers a service
has already computed (from the rollups, the forecaster) and returns a
:class:`~cloudoptima.reports.document.ReportDocument`. It checks that the inputs tell one story — every
breakdown sums exactly to ``total_cost`` (and its previous costs to ``previous_total_cost``), the daily costs
sum to ``total_cost`` and lie inside the period — and raises a ``ValueError`` naming the field otherwise.

The previous period is the same number of days ending where this one starts: ``[start - n, start)`` for a period
of ``n`` days. Change % is ``(cost - previous) / previous × 100`` rounded half-even to 0.01 percentage points,
empty when the previous cost is 0; share is the line's cost over ``total_cost`` × 100, likewise.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import Field, model_validator

from cloudoptima.reports.document import (
    BarChart,
    BarItem,
    Chart,
    Column,
    Highlight,
    ReportDocument,
    Section,
    Table,
    TrendChart,
    TrendPoint,
)
from cloudoptima.reports.templates.comparison import comparison_table, ordered, percent_of
from cloudoptima.reports.templates.spend import DailySpend, SpendLine, _Input

TEMPLATE_ID = "monthly_cost_review"
__all__ = ["DailySpend", "ForecastDay", "MonthlyCostReviewInput", "SpendLine", "build_monthly_cost_review"]


class ForecastDay(_Input):
    """The forecast of one day with its interval (``lower ≤ forecast ≤ upper``)."""

    date: date
    forecast: Decimal
    lower: Decimal
    upper: Decimal

    @model_validator(mode="after")
    def _ordered(self) -> ForecastDay:
        if not self.lower <= self.forecast <= self.upper:
            raise ValueError(f"forecast {self.date}: expected lower ≤ forecast ≤ upper")
        return self


class MonthlyCostReviewInput(_Input):
    """Everything the monthly cost review shows, already computed. Money is Decimal in ``currency``."""

    organisation_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    start_date: date
    end_date: date = Field(description="exclusive")
    generated_at: datetime = Field(description="aware UTC; the caller's clock")
    total_cost: Decimal
    previous_total_cost: Decimal
    by_account: list[SpendLine]
    by_service: list[SpendLine]
    by_region: list[SpendLine]
    tag_key: str | None = None
    by_tag: list[SpendLine] = Field(default_factory=list)
    daily: list[DailySpend] = Field(default_factory=list)
    forecast: list[ForecastDay] = Field(default_factory=list)
    top_n: int = Field(default=10, ge=1, le=50)
    title: str = "Monthly cost review"

    @model_validator(mode="after")
    def _consistent(self) -> MonthlyCostReviewInput:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        if self.tag_key is None and self.by_tag:
            raise ValueError("by_tag: given without a tag_key")
        breakdowns = {
            "by_account": self.by_account,
            "by_service": self.by_service,
            "by_region": self.by_region,
        }
        if self.tag_key is not None:
            breakdowns["by_tag"] = self.by_tag
        for name, lines in breakdowns.items():
            cost = sum((line.cost for line in lines), Decimal(0))
            previous = sum((line.previous_cost for line in lines), Decimal(0))
            if cost != self.total_cost:
                raise ValueError(f"{name}: costs sum to {cost}, total_cost is {self.total_cost}")
            if previous != self.previous_total_cost:
                raise ValueError(
                    f"{name}: previous costs sum to {previous}, previous_total_cost is {self.previous_total_cost}"
                )
        days = [d.date for d in self.daily]
        if len(set(days)) != len(days):
            raise ValueError("daily: a date appears twice")
        outside = [d for d in days if not self.start_date <= d < self.end_date]
        if outside:
            raise ValueError(
                f"daily: {outside[0]} is outside the period [{self.start_date}, {self.end_date})"
            )
        if self.daily and sum((d.cost for d in self.daily), Decimal(0)) != self.total_cost:
            raise ValueError(f"daily: costs do not sum to total_cost {self.total_cost}")
        forecast_days = [f.date for f in self.forecast]
        if len(set(forecast_days)) != len(forecast_days):
            raise ValueError("forecast: a date appears twice")
        return self

    @property
    def previous_start(self) -> date:
        return self.start_date - (self.end_date - self.start_date)


def _breakdown_table(
    table_id: str, title: str, label_title: str, lines: list[SpendLine], total: Decimal
) -> Table:
    return comparison_table(
        table_id=table_id, title=title, label_key="name", label_title=label_title, lines=lines, total=total
    )


def _trend(data: MonthlyCostReviewInput) -> TrendChart | None:
    actual = {d.date: d.cost for d in data.daily}
    forecast = {f.date: f for f in data.forecast}
    days = sorted(set(actual) | set(forecast))
    if not days:
        return None
    points = [
        TrendPoint(
            date=day,
            actual=actual.get(day),
            forecast=forecast[day].forecast if day in forecast else None,
            lower=forecast[day].lower if day in forecast else None,
            upper=forecast[day].upper if day in forecast else None,
        )
        for day in days
    ]
    return TrendChart(id="daily_trend", title="Daily cost with forecast", points=points)


def _top(chart_id: str, title: str, lines: list[SpendLine], n: int) -> BarChart | None:
    top = ordered(lines)[:n]
    if not top:
        return None
    return BarChart(
        id=chart_id, title=title, items=[BarItem(label=line.label, value=line.cost) for line in top]
    )


def build_monthly_cost_review(data: MonthlyCostReviewInput) -> ReportDocument:
    """The monthly cost review document for ``data`` (pure; see the module docstring)."""
    change = data.total_cost - data.previous_total_cost
    change_percent = percent_of(change, data.previous_total_cost)
    previous_last = data.start_date - timedelta(days=1)
    previous_label = f"Previous period ({data.previous_start.isoformat()} – {previous_last.isoformat()})"

    comparison = Table(
        id="period_comparison",
        title="This period against the previous period",
        columns=[
            Column(key="metric", title="Metric", kind="text"),
            Column(key="cost", title="This period", kind="money"),
            Column(key="previous_cost", title="Previous period", kind="money"),
            Column(key="change", title="Change", kind="money"),
            Column(key="change_percent", title="Change %", kind="percent"),
        ],
        rows=[["Total cost", data.total_cost, data.previous_total_cost, change, change_percent]],
    )
    charts: list[Chart] = []
    trend = _trend(data)
    if trend is not None:
        charts.append(trend)
    for chart in (
        _top("top_services", f"Top {data.top_n} services", data.by_service, data.top_n),
        _top("top_accounts", f"Top {data.top_n} accounts", data.by_account, data.top_n),
    ):
        if chart is not None:
            charts.append(chart)

    sections = [
        Section(id="overview", title="Overview", tables=[comparison], charts=charts),
        Section(
            id="by_account",
            title="By account",
            tables=[
                _breakdown_table("accounts", "Cost by account", "Account", data.by_account, data.total_cost)
            ],
        ),
        Section(
            id="by_service",
            title="By service",
            tables=[
                _breakdown_table("services", "Cost by service", "Service", data.by_service, data.total_cost)
            ],
        ),
        Section(
            id="by_region",
            title="By region",
            tables=[_breakdown_table("regions", "Cost by region", "Region", data.by_region, data.total_cost)],
        ),
    ]
    if data.tag_key is not None:
        sections.append(
            Section(
                id="by_tag",
                title=f"By tag: {data.tag_key}",
                tables=[
                    _breakdown_table(
                        "tag_values",
                        f"Cost by tag {data.tag_key}",
                        data.tag_key,
                        data.by_tag,
                        data.total_cost,
                    )
                ],
            )
        )
    highlights = [
        Highlight(label="Total cost", kind="money", value=data.total_cost),
        Highlight(label=previous_label, kind="money", value=data.previous_total_cost),
        Highlight(label="Change", kind="money", value=change),
        Highlight(label="Change %", kind="percent", value=change_percent),
    ]
    return ReportDocument(
        title=data.title,
        organisation_name=data.organisation_name,
        start_date=data.start_date,
        end_date=data.end_date,
        generated_at=data.generated_at,
        currency=data.currency,
        highlights=highlights,
        sections=sections,
    )
