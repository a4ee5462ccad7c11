"""Cost tools: spend by dimension and period, period comparison with drivers, top spenders, forecast.

All amounts are ``Decimal`` in the billing currency (``currency`` in each output), of the caller's
organisation only, answered by the services the REST API uses (``services.cost_analytics.CostAnalytics``,
``services.cost_forecast``): the same numbers on every surface. Periods are ``[start_date, end_date)`` in UTC
days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cloudoptima.domain.analytics import ForecastModelName, ForecastPoint
from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services import provider_forecasts
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.cost_scope import ForecastScope
from cloudoptima_tools.context import ToolContext
from cloudoptima_tools.spec import (
    CloudScope,
    DataSource,
    PagedOutput,
    PageInput,
    ToolInputError,
    ToolSpec,
    day_range,
    decode_cursor,
    page_of,
)

Dimension = Literal["service", "region", "account", "provider", "category", "charge_category"]


class PeriodInput(CloudScope):
    start_date: date | None = Field(default=None, description="First day (UTC); default 30 days ago.")
    end_date: date | None = Field(
        default=None, description="Day after the last day (exclusive); default today."
    )
    currency: str | None = Field(
        default=None, description="Billing currency (ISO 4217) when data has several."
    )


# ---- cost_by_dimension -----------------------------------------------------------------------------------


class CostByDimensionInput(PeriodInput, PageInput):
    group_by: str = Field(
        default="service",
        description="service, region, account, provider, category, charge_category or tag:<key>.",
    )
    granularity: Literal["none", "daily", "weekly", "monthly"] = Field(
        default="none", description="Also return the total per day / ISO week / month."
    )


class CostGroup(BaseModel):
    key: str
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal
    percent_of_total: Decimal | None
    charge_rows: int = Field(description="Billing line items summed into this group.")


class TimeBucket(BaseModel):
    period_start: date
    billed_cost: Decimal


class CostByDimensionOutput(PagedOutput):
    items: list[CostGroup]
    start_date: date
    end_date: date
    currency: str
    group_by: str
    total_billed_cost: Decimal
    series: list[TimeBucket] = Field(default_factory=list)


def _analytics(ctx: ToolContext, session: Session) -> CostAnalytics:
    return CostAnalytics.for_organisation(session.connection(), ctx.organization_id)


def cost_by_dimension(ctx: ToolContext, params: CostByDimensionInput) -> CostByDimensionOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        try:
            found = _analytics(ctx, session).groups(
                start,
                end,
                group_by=params.group_by,
                provider=params.provider,
                account=params.account,
                currency=params.currency,
                granularity=None if params.granularity == "none" else params.granularity,
                offset=offset,
                limit=params.limit + 1,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    page, cursor = page_of(params, found.groups, found.count, offset)
    total = found.total_billed_cost
    items = [
        CostGroup(
            key=g.key,
            billed_cost=g.billed_cost,
            effective_cost=g.effective_cost,
            list_cost=g.list_cost,
            percent_of_total=_pct(g.billed_cost, total),
            charge_rows=g.charge_rows,
        )
        for g in page
    ]
    return CostByDimensionOutput(
        items=items,
        returned=len(items),
        total=found.count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=found.currency,
        group_by=params.group_by,
        total_billed_cost=total,
        series=[TimeBucket(period_start=p.date, billed_cost=p.cost) for p in found.time_series],
    )


# ---- cost_compare_periods ----------------------------------------------------------------------------------


class ComparePeriodsInput(PeriodInput):
    previous_start_date: date | None = Field(
        default=None, description="First day of the baseline period; default: same length just before."
    )
    group_by: str = Field(default="service", description="Dimension whose values explain the change.")
    top_drivers: int = Field(default=10, ge=1, le=50, description="Largest increases and decreases to list.")


class Driver(BaseModel):
    key: str
    current: Decimal
    previous: Decimal
    change: Decimal
    change_percent: Decimal | None
    share_of_change_percent: Decimal | None


class ComparePeriodsOutput(BaseModel):
    currency: str
    group_by: str
    current_start: date
    current_end: date
    previous_start: date
    previous_end: date
    current_total: Decimal
    previous_total: Decimal
    change: Decimal
    change_percent: Decimal | None
    increases: list[Driver]
    decreases: list[Driver]
    new_keys: int = Field(description="Values with spend now and none before.")
    gone_keys: int = Field(description="Values with spend before and none now.")
    data: DataSource = Field(default_factory=DataSource)


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * 100).quantize(Decimal("0.01")) if whole else None


def cost_compare_periods(ctx: ToolContext, params: ComparePeriodsInput) -> ComparePeriodsOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    previous_start = params.previous_start_date or start - (end - start)
    with ctx.read_session() as session:
        try:
            found = _analytics(ctx, session).compare(
                start,
                end,
                previous_start,
                group_by=params.group_by,
                provider=params.provider,
                account=params.account,
                currency=params.currency,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    drivers = [Driver.model_validate(d.model_dump()) for d in found.drivers]
    return ComparePeriodsOutput(
        currency=found.currency,
        group_by=params.group_by,
        current_start=start,
        current_end=end,
        previous_start=previous_start,
        previous_end=previous_start + (end - start),
        current_total=found.current_total,
        previous_total=found.previous_total,
        change=found.change,
        change_percent=found.change_percent,
        increases=[d for d in drivers if d.change > 0][: params.top_drivers],
        decreases=[d for d in drivers if d.change < 0][: params.top_drivers],
        new_keys=found.new_keys,
        gone_keys=found.gone_keys,
    )


# ---- cost_top_spenders -------------------------------------------------------------------------------------


class TopSpendersInput(PeriodInput, PageInput):
    service: str | None = Field(default=None, description="Only this service (FOCUS ServiceName).")


class Spender(BaseModel):
    resource_id: str
    resource_name: str | None
    service: str | None
    account: str | None
    region: str | None
    provider: str
    billed_cost: Decimal


class TopSpendersOutput(PagedOutput):
    items: list[Spender]
    start_date: date
    end_date: date
    currency: str


def cost_top_spenders(ctx: ToolContext, params: TopSpendersInput) -> TopSpendersOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    offset = decode_cursor(params)
    with ctx.read_session() as session:
        try:
            found = _analytics(ctx, session).top_resources(
                start,
                end,
                provider=params.provider,
                account=params.account,
                service=params.service,
                currency=params.currency,
                offset=offset,
                limit=params.limit + 1,
            )
        except CostQueryError as exc:
            raise ToolInputError(str(exc)) from exc
    page, cursor = page_of(params, found.resources, found.count, offset)
    items = [Spender.model_validate(r.model_dump()) for r in page]
    return TopSpendersOutput(
        items=items,
        returned=len(items),
        total=found.count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=found.currency,
    )


# ---- cost_forecast -----------------------------------------------------------------------------------------


class ForecastInput(CloudScope):
    days_ahead: int = Field(default=30, ge=1, le=365, description="Days to forecast after today (1-365).")
    history_days: int = Field(default=90, ge=14, le=366, description="Days of history to fit on.")
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1)
    model: ForecastModelName = Field(
        default="fast", description="auto compares models by backtest (slower); fast is a seasonal ETS."
    )
    currency: str | None = None
    include_daily: bool = Field(default=True, description="Return each forecast day (else totals only).")
    services: list[str] = Field(
        default_factory=list, description="Only these services (e.g. AmazonEC2); default: every service."
    )


class ProviderForecast(BaseModel):
    account: str
    account_name: str
    provider: str
    source: str
    currency: str
    start: date
    end: date = Field(description="End-exclusive.")
    provider_total: Decimal
    ours_total: Decimal | None
    difference_percent: float | None = Field(description="(ours - provider) / provider x 100.")


class ForecastOutput(BaseModel):
    currency: str
    model: str
    history_start: date
    history_end: date
    days_ahead: int
    confidence_level: float
    total: Decimal
    total_lower: Decimal
    total_upper: Decimal
    mape_percent: float | None = Field(description="Backtest mean absolute percentage error, when measured.")
    flags: list[str]
    points: list[ForecastPoint]
    provider_forecasts: list[ProviderForecast] = Field(
        default_factory=list,
        description="The clouds' own forecasts (AWS Cost Explorer, Azure Cost Management) of the accounts in "
        "scope, each beside ours over the same days; none for a service scope.",
    )
    data: DataSource = Field(default_factory=DataSource)


def cost_forecast(ctx: ToolContext, params: ForecastInput) -> ForecastOutput:
    today = ctx.now().date()
    scope = ForecastScope(
        provider=params.provider,
        accounts=(params.account,) if params.account else (),
        services=tuple(params.services),
    )
    with ctx.read_session() as session:
        try:
            found = forecast_organisation(
                session.connection(),
                ctx.organization_id,
                today=today,
                days_ahead=params.days_ahead,
                confidence_level=params.confidence_level,
                currency=params.currency,
                history_days=params.history_days,
                model=params.model,
                scope=scope,
            )
            beside = provider_forecasts.compare(
                session.connection(),
                ctx.organization_id,
                scope,
                today=today,
                confidence_level=params.confidence_level,
                model=params.model,
            )
        except (CostQueryError, ValueError) as exc:
            raise ToolInputError(str(exc)) from exc
    result = found.result
    if result is None:
        raise ToolInputError("no cost history in the selected scope to forecast from")
    currency = found.currency
    return ForecastOutput(
        currency=currency,
        model=result.model,
        history_start=result.history_start,
        history_end=result.history_end,
        days_ahead=result.days_ahead,
        confidence_level=result.confidence_level,
        total=result.total,
        total_lower=result.total_lower,
        total_upper=result.total_upper,
        mape_percent=result.accuracy.mape if result.accuracy else None,
        flags=[str(f) for f in result.flags],
        points=list(result.points) if params.include_daily else [],
        provider_forecasts=[ProviderForecast.model_validate(c, from_attributes=True) for c in beside],
    )


TOOLS: list[ToolSpec[Any, Any]] = [
    ToolSpec(
        name="cost_by_dimension",
        domain="cost",
        title="Cost by dimension",
        description=(
            "Billed, effective and list cost (in the billing currency, e.g. USD) for a period, grouped by "
            "service, region, account, provider, category, charge category or a tag, largest first, with an "
            "optional daily/weekly/monthly total series. Period is [start_date, end_date) in UTC days.\n"
            'Example: {"group_by": "service", "start_date": "2025-11-01", "end_date": "2025-12-01", "limit": 10}'
        ),
        input_model=CostByDimensionInput,
        output_model=CostByDimensionOutput,
        handler=cost_by_dimension,
        permission="read:costs",
        cacheable=True,
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"group_by": "service", "limit": 10},
    ),
    ToolSpec(
        name="cost_compare_periods",
        domain="cost",
        title="Compare two periods",
        description=(
            "Total cost of a period against a baseline period of the same length (default: just before) "
            "with the drivers: the dimension values (e.g. services) that rose or fell most, in currency "
            "units and % of the change.\n"
            'Example: {"start_date": "2025-12-01", "end_date": "2026-01-01", "group_by": "service"}'
        ),
        input_model=ComparePeriodsInput,
        output_model=ComparePeriodsOutput,
        handler=cost_compare_periods,
        permission="read:costs",
        cacheable=True,
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"group_by": "service", "top_drivers": 5},
    ),
    ToolSpec(
        name="cost_top_spenders",
        domain="cost",
        title="Top spending resources",
        description=(
            "Resources ranked by billed cost (currency units) over a period, with service, account, region "
            "and provider.\n"
            'Example: {"start_date": "2025-12-01", "end_date": "2026-01-01", "limit": 20}'
        ),
        input_model=TopSpendersInput,
        output_model=TopSpendersOutput,
        handler=cost_top_spenders,
        permission="read:costs",
        cacheable=True,
        cloud_scoped=True,
        max_output_tokens=10_000,
        example={"limit": 20},
    ),
    ToolSpec(
        name="cost_forecast",
        domain="cost",
        title="Forecast spend",
        description=(
            "Daily cost forecast for the next days_ahead days (currency units per day) with a prediction "
            "interval at confidence_level, and the forecast total.\n"
            'Example: {"days_ahead": 30, "model": "fast"}'
        ),
        input_model=ForecastInput,
        output_model=ForecastOutput,
        handler=cost_forecast,
        permission="read:costs",
        cacheable=True,
        cloud_scoped=True,
        long_running=True,
        max_output_tokens=10_000,
        example={"days_ahead": 30},
    ),
]
