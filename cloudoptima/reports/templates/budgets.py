"""The ``budgets`` template: every budget of the organisation with its burn-down, and the alerts that fired.

:func:`build_budgets_report` is pure: it takes a :class:`BudgetsReportInput` whose numbers the budget service
has already computed and returns a :class:`~cloudoptima.reports.document.ReportDocument` with

- ``overview``: one row per budget — name, scope, period, the first and last day counted, limit, spent,
  used %, forecasted end-of-period spend and its % (empty when no forecast is available), status
  (``ok`` / ``at risk`` / ``over``), with a totals row (limit and spent only);
- ``burn_down``: a burn-down chart per budget — the cumulative actual spend of each day of the budget's
  period that lies in the report period (counted from the budget period's first day) against its limit;
- ``alerts``: the thresholds that fired during the report period.

A budget's *period* is the budget period (month, quarter or year, clipped to the budget's own dates) that
contains the report's last day with data; spend counts ``[period_start, as_of)``. The checks that the inputs
tell one story (each raises a ``ValueError`` naming the field): ``spent`` is the sum of ``daily`` rounded
half-even to the cent (as the budget service rounds), the days lie in ``[period_start, as_of)``, the forecast
is not below the spend, the status is the one the numbers give (``over`` when spent > limit, else ``at risk``
when the forecast > limit, else ``ok``), and every alert names a budget of the report and fired inside the
report period. Percentages are rounded half-even to 0.01 points.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloudoptima.reports.document import (
    BurnDownChart,
    BurnDownPoint,
    Chart,
    Column,
    Highlight,
    ReportDocument,
    Section,
    Table,
)
from cloudoptima.reports.templates.comparison import CENTI as _CENTI
from cloudoptima.reports.templates.comparison import percent_of
from cloudoptima.reports.templates.spend import DailySpend

TEMPLATE_ID = "budgets"

BudgetState = Literal["ok", "at risk", "over"]


class _Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class BudgetLine(_Input):
    """One budget on its period: ``daily`` holds its scoped spend per day of ``[period_start, as_of)``."""

    name: str = Field(min_length=1)
    scope: str = Field(description="as people read it, e.g. 'all accounts' or 'tag team: web'")
    period: str = Field(description="monthly, quarterly or annual")
    period_start: date
    period_end: date = Field(description="exclusive")
    as_of: date = Field(description="spend counts the days before it; period_start < as_of ≤ period_end")
    limit: Decimal = Field(gt=0)
    spent: Decimal
    forecast: Decimal | None = Field(default=None, description="forecasted end-of-period spend")
    status: BudgetState
    daily: list[DailySpend] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> BudgetLine:
        where = f"budget {self.name!r}"
        if not self.period_start < self.as_of <= self.period_end:
            raise ValueError(
                f"{where}: as_of {self.as_of} must lie in ({self.period_start}, {self.period_end}]"
            )
        days = [d.date for d in self.daily]
        if len(set(days)) != len(days):
            raise ValueError(f"{where}: daily: a date appears twice")
        outside = [d for d in days if not self.period_start <= d < self.as_of]
        if outside:
            raise ValueError(f"{where}: daily: {outside[0]} is outside [{self.period_start}, {self.as_of})")
        total = sum((d.cost for d in self.daily), Decimal(0)).quantize(_CENTI, rounding=ROUND_HALF_EVEN)
        if total != self.spent:
            raise ValueError(f"{where}: spent: {self.spent} but the daily spend sums to {total}")
        if self.forecast is not None and self.forecast < self.spent:
            raise ValueError(f"{where}: forecast: {self.forecast} is below the spend {self.spent}")
        if self.spent > self.limit:
            expected: BudgetState = "over"
        elif self.forecast is not None and self.forecast > self.limit:
            expected = "at risk"
        else:
            expected = "ok"
        if self.status != expected:
            raise ValueError(f"{where}: status: {self.status!r} but the numbers give {expected!r}")
        return self


class FiredAlert(_Input):
    """A threshold that fired: ``type`` ``actual`` (spend) or ``forecasted``, ``threshold`` in % of the limit."""

    budget: str
    type: Literal["actual", "forecasted"]
    threshold: Decimal = Field(gt=0)
    fired_at: datetime = Field(description="aware UTC")


class BudgetsReportInput(_Input):
    """Every budget of the report with its period, spend and forecast, and the alerts fired in the period."""

    organisation_name: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    start_date: date
    end_date: date = Field(description="exclusive")
    generated_at: datetime = Field(description="aware UTC; the caller's clock")
    budgets: list[BudgetLine]
    alerts: list[FiredAlert] = Field(default_factory=list)
    title: str = "Budgets"

    @model_validator(mode="after")
    def _consistent(self) -> BudgetsReportInput:
        if self.end_date <= self.start_date:
            raise ValueError(
                f"period: end_date {self.end_date} must be after start_date {self.start_date} (end-exclusive)"
            )
        names = {b.name for b in self.budgets}
        for budget in self.budgets:
            if budget.as_of <= self.start_date or budget.period_start >= self.end_date:
                raise ValueError(
                    f"budgets: {budget.name!r} counts [{budget.period_start}, {budget.as_of}), "
                    f"outside the report period [{self.start_date}, {self.end_date})"
                )
        for alert in self.alerts:
            if alert.budget not in names:
                raise ValueError(f"alerts: {alert.budget!r} is not a budget of the report")
            day = alert.fired_at.date()
            if not self.start_date <= day < self.end_date:
                raise ValueError(
                    f"alerts: {alert.budget!r} fired on {day}, outside [{self.start_date}, {self.end_date})"
                )
        return self


def _burn_down(index: int, budget: BudgetLine, start: date) -> BurnDownChart:
    spend = {d.date: d.cost for d in budget.daily}
    cumulative = sum((cost for day, cost in spend.items() if day < start), Decimal(0))
    first = max(budget.period_start, start)
    points: list[BurnDownPoint] = []
    for n in range((budget.as_of - first).days):
        day = first + timedelta(days=n)
        cumulative += spend.get(day, Decimal(0))
        points.append(BurnDownPoint(date=day, cumulative_actual=cumulative))
    last = budget.as_of - timedelta(days=1)
    return BurnDownChart(
        id=f"burn_down_{index}",
        title=f"{budget.name}: {first.isoformat()} – {last.isoformat()} against {budget.limit}",
        limit=budget.limit,
        points=points,
    )


def _budget_table(data: BudgetsReportInput) -> Table:
    return Table(
        id="budgets",
        title="Budgets",
        columns=[
            Column(key="name", title="Budget", kind="text"),
            Column(key="scope", title="Scope", kind="text"),
            Column(key="period", title="Period", kind="text"),
            Column(key="period_start", title="From", kind="date"),
            Column(key="through", title="Through", kind="date"),
            Column(key="limit", title="Limit", kind="money"),
            Column(key="spent", title="Spent", kind="money"),
            Column(key="used_percent", title="Used %", kind="percent"),
            Column(key="forecast", title="Forecast end of period", kind="money", total=False),
            Column(key="forecast_percent", title="Forecast %", kind="percent"),
            Column(key="status", title="Status", kind="text"),
        ],
        rows=[
            [
                b.name,
                b.scope,
                b.period,
                b.period_start,
                b.as_of - timedelta(days=1),
                b.limit,
                b.spent,
                percent_of(b.spent, b.limit),
                b.forecast,
                percent_of(b.forecast, b.limit) if b.forecast is not None else None,
                b.status,
            ]
            for b in data.budgets
        ],
        totals=True,
    )


def _alert_table(data: BudgetsReportInput) -> Table:
    limits = {b.name: b.limit for b in data.budgets}
    ordered = sorted(data.alerts, key=lambda a: (a.fired_at, a.budget, a.type, a.threshold))
    return Table(
        id="alerts",
        title="Alerts fired in the period",
        columns=[
            Column(key="budget", title="Budget", kind="text"),
            Column(key="type", title="Type", kind="text"),
            Column(key="threshold", title="Threshold %", kind="percent"),
            Column(key="threshold_amount", title="Threshold amount", kind="money", total=False),
            Column(key="fired_on", title="Fired on", kind="date"),
            Column(key="fired_at", title="Fired at (UTC)", kind="text"),
        ],
        rows=[
            [
                a.budget,
                a.type,
                a.threshold,
                (limits[a.budget] * a.threshold / 100).quantize(_CENTI, rounding=ROUND_HALF_EVEN),
                a.fired_at.date(),
                a.fired_at.strftime("%H:%M:%S"),
            ]
            for a in ordered
        ],
    )


def build_budgets_report(data: BudgetsReportInput) -> ReportDocument:
    """The budgets document for ``data`` (pure; see the module docstring)."""
    charts: list[Chart] = [_burn_down(n, b, data.start_date) for n, b in enumerate(data.budgets, start=1)]
    sections = [Section(id="overview", title="Budgets", tables=[_budget_table(data)])]
    if charts:
        sections.append(Section(id="burn_down", title="Burn-down", charts=charts))
    sections.append(Section(id="alerts", title="Alerts", tables=[_alert_table(data)]))
    total_limit = sum((b.limit for b in data.budgets), Decimal(0))
    total_spent = sum((b.spent for b in data.budgets), Decimal(0))
    highlights = [
        Highlight(label="Budgets", kind="integer", value=len(data.budgets)),
        Highlight(label="Over budget", kind="integer", value=sum(b.status == "over" for b in data.budgets)),
        Highlight(label="At risk", kind="integer", value=sum(b.status == "at risk" for b in data.budgets)),
        Highlight(label="Total limit", kind="money", value=total_limit),
        Highlight(label="Total spent", kind="money", value=total_spent),
        Highlight(label="Spent of limit %", kind="percent", value=percent_of(total_spent, total_limit)),
        Highlight(label="Alerts fired", kind="integer", value=len(data.alerts)),
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
