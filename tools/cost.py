"""Cost tools: spend by dimension and period, period comparison with drivers, top spenders, forecast.

All amounts are ``Decimal`` in the billing currency (``currency`` in each output), read from the local
``cost_daily`` rollup (top spenders: raw ``cost_data`` rows) of the caller's organisation only. Periods are
``[start_date, end_date)`` in UTC days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from cloudoptima.domain.analytics import ForecastModelName, ForecastPoint
from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.cost_scope import ForecastScope
from cloudoptima.storage.models import CostDaily, CostRow
from tools.context import ToolContext
from tools.spec import (
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
_DIMENSIONS: dict[str, Any] = {
    "service": func.coalesce(CostDaily.service_name, "(none)"),
    "region": func.coalesce(CostDaily.region_id, "(none)"),
    "account": func.coalesce(CostDaily.sub_account_id, CostDaily.billing_account_id, "(none)"),
    "provider": CostDaily.provider,
    "category": func.coalesce(CostDaily.service_category, "(none)"),
    "charge_category": func.coalesce(CostDaily.charge_category, "(none)"),
}


class PeriodInput(CloudScope):
    start_date: date | None = Field(default=None, description="First day (UTC); default 30 days ago.")
    end_date: date | None = Field(
        default=None, description="Day after the last day (exclusive); default today."
    )
    currency: str | None = Field(
        default=None, description="Billing currency (ISO 4217) when data has several."
    )


def _where(ctx: ToolContext, scope: CloudScope, start: date, end: date) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        CostDaily.organization_id == ctx.organization_id,
        CostDaily.usage_date >= start,
        CostDaily.usage_date < end,
    ]
    if scope.provider:
        clauses.append(CostDaily.provider == scope.provider)
    if scope.account:
        clauses.append(
            (CostDaily.sub_account_id == scope.account) | (CostDaily.billing_account_id == scope.account)
        )
    return clauses


def _currency(session: Session, where: list[ColumnElement[bool]], wanted: str | None) -> str:
    found = sorted(
        str(c) for c in session.scalars(select(CostDaily.billing_currency).where(*where).distinct())
    )
    if wanted:
        return wanted.upper()
    if len(found) > 1:
        raise ToolInputError(f"costs are in several currencies ({', '.join(found)}); pass currency")
    return found[0] if found else "USD"


def _dimension(group_by: str) -> Any:
    if group_by in _DIMENSIONS:
        return _DIMENSIONS[group_by]
    if group_by.startswith("tag:") and len(group_by) > 4:
        return func.coalesce(CostDaily.tag_values[group_by[4:]].astext, "(untagged)")
    raise ToolInputError(f"group_by must be one of {', '.join(_DIMENSIONS)} or tag:<key> (got {group_by!r})")


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


_BUCKETS = {
    "daily": CostDaily.usage_date,
    "weekly": func.date_trunc("week", CostDaily.usage_date),
    "monthly": func.date_trunc("month", CostDaily.usage_date),
}


def cost_by_dimension(ctx: ToolContext, params: CostByDimensionInput) -> CostByDimensionOutput:
    start, end = day_range(params.start_date, params.end_date, ctx.now().date(), 30)
    offset = decode_cursor(params)
    dim = _dimension(params.group_by).label("key")
    with ctx.read_session() as session:
        where = _where(ctx, params, start, end)
        currency = _currency(session, where, params.currency)
        where.append(CostDaily.billing_currency == currency)
        total = session.scalar(select(func.coalesce(func.sum(CostDaily.billed_cost), 0)).where(*where))
        total = Decimal(total or 0)
        grouped = (
            select(
                dim,
                func.sum(CostDaily.billed_cost),
                func.sum(CostDaily.effective_cost),
                func.sum(CostDaily.list_cost),
                func.sum(CostDaily.row_count),
            )
            .where(*where)
            .group_by(dim)
        )
        count = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
        rows = session.execute(
            grouped.order_by(func.sum(CostDaily.billed_cost).desc(), dim)
            .offset(offset)
            .limit(params.limit + 1)
        ).all()
        series: list[TimeBucket] = []
        if params.granularity != "none":
            bucket = _BUCKETS[params.granularity]
            series = [
                TimeBucket(period_start=b.date() if hasattr(b, "date") else b, billed_cost=Decimal(c))
                for b, c in session.execute(
                    select(bucket, func.sum(CostDaily.billed_cost))
                    .where(*where)
                    .group_by(bucket)
                    .order_by(bucket)
                )
            ]
    page, cursor = page_of(params, list(rows), count, offset)
    items = [
        CostGroup(
            key=str(key),
            billed_cost=Decimal(billed),
            effective_cost=Decimal(effective or 0),
            list_cost=Decimal(listed or 0),
            percent_of_total=(Decimal(billed) / total * 100).quantize(Decimal("0.01")) if total else None,
            charge_rows=int(n or 0),
        )
        for key, billed, effective, listed, n in page
    ]
    return CostByDimensionOutput(
        items=items,
        returned=len(items),
        total=count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=currency,
        group_by=params.group_by,
        total_billed_cost=total,
        series=series,
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
    length = end - start
    previous_start = params.previous_start_date or start - length
    previous_end = previous_start + length
    dim = _dimension(params.group_by).label("key")
    with ctx.read_session() as session:
        where_now = _where(ctx, params, start, end)
        currency = _currency(session, where_now, params.currency)
        totals: list[dict[str, Decimal]] = []
        for d0, d1 in ((start, end), (previous_start, previous_end)):
            where = [*_where(ctx, params, d0, d1), CostDaily.billing_currency == currency]
            rows = session.execute(
                select(dim, func.sum(CostDaily.billed_cost)).where(*where).group_by(dim)
            ).all()
            totals.append({str(k): Decimal(v) for k, v in rows})
    now, before = totals
    current_total, previous_total = sum(now.values(), Decimal(0)), sum(before.values(), Decimal(0))
    change = current_total - previous_total
    drivers = []
    for key in set(now) | set(before):
        cur, prev = now.get(key, Decimal(0)), before.get(key, Decimal(0))
        drivers.append(
            Driver(
                key=key,
                current=cur,
                previous=prev,
                change=cur - prev,
                change_percent=_pct(cur - prev, prev),
                share_of_change_percent=_pct(cur - prev, change),
            )
        )
    drivers.sort(key=lambda d: (-abs(d.change), d.key))
    return ComparePeriodsOutput(
        currency=currency,
        group_by=params.group_by,
        current_start=start,
        current_end=end,
        previous_start=previous_start,
        previous_end=previous_end,
        current_total=current_total,
        previous_total=previous_total,
        change=change,
        change_percent=_pct(change, previous_total),
        increases=[d for d in drivers if d.change > 0][: params.top_drivers],
        decreases=[d for d in drivers if d.change < 0][: params.top_drivers],
        new_keys=len(set(now) - set(before)),
        gone_keys=len(set(before) - set(now)),
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
    t0, t1 = _midnight(start), _midnight(end)
    where: list[ColumnElement[bool]] = [
        CostRow.organization_id == ctx.organization_id,
        CostRow.charge_period_start >= t0,
        CostRow.charge_period_start < t1,
        CostRow.resource_id.is_not(None),
    ]
    if params.provider:
        where.append(CostRow.provider == params.provider)
    if params.account:
        where.append(
            (CostRow.sub_account_id == params.account) | (CostRow.billing_account_id == params.account)
        )
    if params.service:
        where.append(CostRow.service_name == params.service)
    with ctx.read_session() as session:
        currency = _currency(session, _where(ctx, params, start, end), params.currency)
        where.append(CostRow.billing_currency == currency)
        cost = func.sum(CostRow.billed_cost)
        grouped = (
            select(
                CostRow.resource_id,
                func.max(CostRow.resource_name),
                func.max(CostRow.service_name),
                func.max(func.coalesce(CostRow.sub_account_id, CostRow.billing_account_id)),
                func.max(CostRow.region_id),
                CostRow.provider,
                cost,
            )
            .where(*where)
            .group_by(CostRow.resource_id, CostRow.provider)
        )
        count = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
        rows = session.execute(
            grouped.order_by(cost.desc(), CostRow.resource_id).offset(offset).limit(params.limit + 1)
        ).all()
    page, cursor = page_of(params, list(rows), count, offset)
    items = [
        Spender(
            resource_id=r[0],
            resource_name=r[1],
            service=r[2],
            account=r[3],
            region=r[4],
            provider=r[5],
            billed_cost=Decimal(r[6]),
        )
        for r in page
    ]
    return TopSpendersOutput(
        items=items,
        returned=len(items),
        total=count,
        next_cursor=cursor,
        start_date=start,
        end_date=end,
        currency=currency,
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


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
