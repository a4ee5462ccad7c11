"""``/v1/costs``: overview, forecast, by-service (cached per organisation), anomalies and their triage.

Cost answers are cached in Redis under the organisation's cost version (``cloudoptima.services.cache``):
new data for the organisation bumps the version, so the next request recomputes. Dates are UTC days;
``end_date`` is exclusive; a range may span at most 365 days.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cloudoptima.domain.analytics import ForecastModelName
from cloudoptima.domain.budgets import BudgetScope, ScopeType
from cloudoptima.domain.cost_filters import CostFilterError
from cloudoptima.domain.costs import CostQueryError
from cloudoptima.services import provider_forecasts
from cloudoptima.services.anomalies import AnomalyFeedback, AnomalyService, AnomalyStatus
from cloudoptima.services.budgets import BudgetService
from cloudoptima.services.cost_analytics import CostAnalytics
from cloudoptima.services.cost_analytics.dashboard import trend_basis
from cloudoptima.services.cost_forecast import forecast_organisation
from cloudoptima.services.cost_scope import ForecastScope
from cloudoptima.services.row_currency import window_currencies
from cloudoptima.storage.models import Anomaly
from cloudoptima.storage.tenancy import tenant_session
from cloudoptima_gateway.audit import AuditedRoute
from cloudoptima_gateway.cost_filter_params import parse_cost_filters
from cloudoptima_gateway.deps import Permission, Principal, RuntimeDep, TenantDb
from cloudoptima_gateway.edge_cache import edge_text
from cloudoptima_gateway.live_events import announce
from cloudoptima_gateway.runtime import Runtime
from cloudoptima_gateway.schemas.common import invalid, not_found
from cloudoptima_gateway.schemas.costs import (
    AccuracyOut,
    AnomalyDriversOut,
    AnomalyFeedbackIn,
    AnomalyList,
    AnomalyOut,
    AnomalyStatusUpdate,
    CloudProviderName,
    CostOverviewOut,
    CostsByServiceOut,
    ForecastOut,
    ForecastPointOut,
    Granularity,
    GroupBy,
    ProviderForecastOut,
)

router = APIRouter(prefix="/costs", tags=["costs"], route_class=AuditedRoute)
Reader = Annotated[Principal, Permission("read:costs")]
Triager = Annotated[Principal, Permission("write:resources")]
MAX_RANGE_DAYS = 365
Currency = Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO 4217 code")]


def _today() -> date:
    return datetime.now(UTC).date()


def _range(start: date | None, end: date | None, default_days: int = 30) -> tuple[date, date]:
    end = end or _today() + timedelta(days=1)
    start = start or end - timedelta(days=default_days)
    if end <= start:
        raise invalid("end_date", "end_date must be after start_date (end_date is exclusive)")
    if (end - start).days > MAX_RANGE_DAYS:
        raise invalid("end_date", f"date range cannot exceed {MAX_RANGE_DAYS} days")
    return start, end


def _query_error(exc: CostQueryError) -> Exception:
    if isinstance(exc, CostFilterError):
        return invalid(exc.field, str(exc))
    field = "currency" if "currenc" in str(exc) else "group_by"
    return invalid(field, str(exc))


async def _cached(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    name: str,
    params: dict[str, Any],
    compute: Callable[[], str],
) -> Response:
    """The cached answer (also stored under the request's edge text for ``cloudoptima_gateway.edge_cache``)."""

    async def run() -> str:
        try:
            return await run_in_threadpool(compute)
        except CostQueryError as exc:
            raise _query_error(exc) from exc

    edge = edge_text(request.url.path, request.scope.get("query_string", b""))
    body, hit = await runtime.cost_cache().get_or_compute(
        principal.organization_id, name, params, run, edge=edge
    )
    return Response(body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})


@router.get("/overview", response_model=CostOverviewOut)
async def cost_overview(
    request: Request,
    principal: Reader,
    runtime: RuntimeDep,
    start_date: date | None = None,
    end_date: Annotated[date | None, Query(description="exclusive; default tomorrow (UTC)")] = None,
    granularity: Granularity = "daily",
    group_by: GroupBy = "service",
    tag_key: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    cloud_provider: CloudProviderName | None = None,
    currency: Currency = None,
    cloud_account_id: Annotated[
        list[str] | None, Query(description="Cloud account ids (repeatable or comma-separated).")
    ] = None,
    service: Annotated[
        list[str] | None, Query(description="Service names (repeatable or comma-separated).")
    ] = None,
    region: Annotated[
        list[str] | None, Query(description="Region ids (repeatable or comma-separated).")
    ] = None,
    tag: Annotated[str | None, Query(description="key:value, a rollup tag key", max_length=300)] = None,
    series_by_group: Annotated[bool, Query(description="Add group_series (top groups + other).")] = False,
    series_groups: Annotated[int, Query(ge=1, le=20, description="How many groups get a series.")] = 8,
    period: Annotated[
        Literal["month_to_date"] | None,
        Query(
            description="month_to_date: the complete days of this month through yesterday against the same "
            "days of last month (see trend_basis); not with start_date/end_date."
        ),
    ] = None,
) -> Response:
    """Total, previous-period comparison, breakdown and time series of ``[start_date, end_date)``, narrowed by
    the filters (every given one must hold; within one, any listed value); with ``series_by_group`` the top
    ``series_groups`` groups' series and an ``(other)`` remainder, adding up per period to ``time_series``.
    The previous period is the same length just before; with ``period=month_to_date`` the range is month to
    date and the previous period the same days of last month, both stated in ``trend_basis``."""
    basis = None
    if period == "month_to_date":
        if start_date is not None or end_date is not None:
            raise invalid("period", "period=month_to_date sets the dates: leave out start_date and end_date")
        basis = trend_basis(_today())
        start, end = basis.current_start, basis.current_end
    else:
        start, end = _range(start_date, end_date)
    if group_by == "tag" and not tag_key:
        raise invalid("tag_key", "group_by=tag needs tag_key")
    dimension = f"tag:{tag_key}" if group_by == "tag" else group_by
    filters = parse_cost_filters(cloud_account_id, service, region, tag)
    params = {
        "s": start,
        "e": end,
        "g": granularity,
        "d": dimension,
        "p": cloud_provider,
        "c": currency,
        "f": filters.describe(),
        "n": series_groups if series_by_group else 0,
        "b": basis.model_dump(mode="json") if basis is not None else None,
    }
    org = principal.organization_id

    def compute() -> str:
        with runtime.engine().connect() as connection:
            result = CostAnalytics.for_organisation(connection, org).overview(
                start,
                end,
                granularity=granularity,
                group_by=dimension,
                provider=cloud_provider,
                currency=currency,
                filters=filters,
                series_groups=series_groups if series_by_group else 0,
                previous=(basis.previous_start, basis.previous_end) if basis is not None else None,
                basis=basis,
            )
        return CostOverviewOut.model_validate(result.model_dump()).model_dump_json()

    return await _cached(request, runtime, principal, "overview", params, compute)


@router.get("/forecast", response_model=ForecastOut)
async def cost_forecast(
    request: Request,
    principal: Reader,
    runtime: RuntimeDep,
    session: TenantDb,
    days_ahead: Annotated[int, Query(ge=1, le=365)] = 30,
    confidence_level: Annotated[float, Query(gt=0.5, lt=1.0)] = 0.95,
    model: ForecastModelName = "auto",
    currency: Currency = None,
    provider: CloudProviderName | None = None,
    account: Annotated[list[str] | None, Query(description="Account ids (repeatable).")] = None,
    service: Annotated[list[str] | None, Query(description="Service names (repeatable).")] = None,
    budget_id: Annotated[uuid.UUID | None, Query(description="Forecast what this budget covers.")] = None,
) -> Response:
    """Daily forecast with intervals and backtest accuracy: of the organisation's daily totals, or of a
    scope — a provider, accounts, services and/or what a budget covers (every given part must hold)."""
    today = _today()
    budget = None
    if budget_id is not None:
        try:
            row = await run_in_threadpool(BudgetService(session, principal.organization_id).get, budget_id)
        except LookupError:
            raise not_found("budget", budget_id) from None
        budget = BudgetScope.model_validate(row.scope_filters or {"type": row.scope_type or "account"})
        if budget.type is ScopeType.ALLOCATION:
            raise invalid(
                "budget_id",
                "this budget counts allocation values: its forecast is the budget's own forecasted_spend "
                "(GET /v1/budgets/{id}); this endpoint forecasts scopes of the unallocated costs",
            )
    scope = ForecastScope(
        provider=provider, accounts=tuple(account or ()), services=tuple(service or ()), budget=budget
    )
    params = {
        "t": today,
        "n": days_ahead,
        "l": confidence_level,
        "m": model,
        "c": currency,
        "s": scope.describe(),
    }
    org = principal.organization_id

    def compute() -> str:
        with runtime.engine().connect() as connection:
            found = forecast_organisation(
                connection,
                org,
                today=today,
                days_ahead=days_ahead,
                confidence_level=confidence_level,
                currency=currency,
                model=model,
                scope=scope,
            )
            beside = [
                ProviderForecastOut.model_validate(comparison, from_attributes=True)
                for comparison in provider_forecasts.compare(
                    connection, org, scope, today=today, confidence_level=confidence_level, model=model
                )
            ]
        result = found.result
        if result is None:
            empty = ForecastOut(
                currency=found.currency,
                days_ahead=days_ahead,
                confidence_level=confidence_level,
                model=None,
                forecast=[],
                total_forecasted=0,  # type: ignore[arg-type]
                total_lower=0,  # type: ignore[arg-type]
                total_upper=0,  # type: ignore[arg-type]
                accuracy_metrics=None,
                history_start=None,
                history_end=None,
                scope=scope.describe(),
                message="no cost history in this scope to forecast from",
                provider_forecasts=beside,
            )
            return empty.model_dump_json()
        accuracy = result.accuracy
        return ForecastOut(
            currency=found.currency,
            days_ahead=days_ahead,
            confidence_level=confidence_level,
            model=result.model,
            forecast=[
                ForecastPointOut(
                    date=p.date, predicted_cost=p.predicted, lower_bound=p.lower, upper_bound=p.upper
                )
                for p in result.points
            ],
            total_forecasted=result.total,
            total_lower=result.total_lower,
            total_upper=result.total_upper,
            accuracy_metrics=AccuracyOut.model_validate(accuracy.model_dump()) if accuracy else None,
            history_start=result.history_start,
            history_end=result.history_end,
            scope=scope.describe(),
            provider_forecasts=beside,
        ).model_dump_json()

    return await _cached(request, runtime, principal, "forecast", params, compute)


@router.get("/by-service", response_model=CostsByServiceOut)
async def costs_by_service(
    request: Request,
    principal: Reader,
    runtime: RuntimeDep,
    cloud_provider: CloudProviderName | None = None,
    currency: Currency = None,
) -> Response:
    """Month to date (the complete days of this month through yesterday; on the 1st, the whole previous month)
    per service with each service's top resources; ``trend`` compares it with the same days of the month
    before (``last_month_same_days``, the period in ``trend_basis``, clamped to that month's last day),
    ``last_month`` is that whole month."""
    today = _today()
    org = principal.organization_id

    def compute() -> str:
        with runtime.engine().connect() as connection:
            result = CostAnalytics(connection, org).by_service(
                today, provider=cloud_provider, currency=currency
            )
        return CostsByServiceOut.model_validate(result.model_dump()).model_dump_json()

    return await _cached(
        request, runtime, principal, "by_service", {"t": today, "p": cloud_provider, "c": currency}, compute
    )


# ---- anomalies ---------------------------------------------------------------------------------------------
def _anomalies(session: Session, org: uuid.UUID, rows: list[Anomaly]) -> list[AnomalyOut]:
    """The rows as answered, each with the currency of its window's costs (None when unknown or several)."""
    currencies = window_currencies(session, org, ((r.start_date, r.end_date) for r in rows))
    return [
        _anomaly(r).model_copy(update={"currency": currencies.get((r.start_date, r.end_date))}) for r in rows
    ]


def _anomaly(row: Anomaly) -> AnomalyOut:
    return AnomalyOut(
        id=row.id,
        detected_at=row.detected_at,
        start_date=row.start_date,
        end_date=row.end_date,
        service=row.service_name,
        region=row.region,
        severity=row.severity,
        kind="change" if row.kind == "change" else "anomaly",
        impact_amount=row.impact_amount,
        expected_spend=row.expected_spend,
        actual_spend=row.actual_spend,
        deviation_percent=float(row.deviation_percent) if row.deviation_percent is not None else None,
        root_cause=row.root_cause,
        root_cause_source=row.root_cause_source or "contributions",
        status=row.status,
        feedback=row.feedback,
        affected_resources=[str(r) for r in row.affected_resources or []],
        drivers=AnomalyDriversOut.model_validate(row.drivers) if row.drivers else None,
    )


@router.get("/anomalies", response_model=AnomalyList)
def list_anomalies(
    principal: Reader,
    session: TenantDb,
    start_date: date | None = None,
    end_date: Annotated[date | None, Query(description="exclusive")] = None,
    severity: Literal["high", "medium", "low"] | None = None,
    status: Literal["active", "resolved", "ignored"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AnomalyList:
    """Incidents whose first day lies in ``[start_date, end_date)`` (default: the last 90 days)."""
    start, end = _range(start_date, end_date, default_days=90)
    rows = AnomalyService(session, principal.organization_id).list(
        AnomalyStatus(status) if status else None, limit=5000
    )
    found = [
        r
        for r in rows
        if (severity is None or r.severity == severity)
        and (r.start_date is None or start <= r.start_date < end)
    ][:limit]
    return AnomalyList(anomalies=_anomalies(session, principal.organization_id, found), total=len(found))


@router.get("/anomalies/{anomaly_id}", response_model=AnomalyOut)
def get_anomaly(anomaly_id: uuid.UUID, principal: Reader, session: TenantDb) -> AnomalyOut:
    """One incident by id, as the list gives it; 404 when unknown or of another organisation."""
    try:
        row = AnomalyService(session, principal.organization_id).get(anomaly_id)
    except LookupError as exc:
        raise not_found("anomaly", anomaly_id) from exc
    return _anomalies(session, principal.organization_id, [row])[0]


async def _triage(
    runtime: Runtime,
    principal: Principal,
    anomaly_id: uuid.UUID,
    change: Callable[[AnomalyService], Anomaly],
    what: str,
) -> AnomalyOut:
    """Apply ``change`` to one incident and commit, then tell the organisation's browsers on the
    ``anomalies`` channel (``{"anomaly_id", "status", "feedback", "change"}``); 404 when it is not theirs."""
    org = principal.organization_id

    def apply() -> AnomalyOut:
        with tenant_session(runtime.sessions(), org) as session:
            return _anomaly(change(AnomalyService(session, org)))

    try:
        out = await run_in_threadpool(apply)
    except LookupError as exc:
        raise not_found("anomaly", anomaly_id) from exc
    data = {"anomaly_id": str(out.id), "status": out.status, "feedback": out.feedback, "change": what}
    await announce(runtime, org, "anomalies", data, now=datetime.now(UTC))
    return out


@router.post("/anomalies/{anomaly_id}/status", response_model=AnomalyOut)
async def update_anomaly_status(
    anomaly_id: uuid.UUID, body: AnomalyStatusUpdate, principal: Triager, runtime: RuntimeDep
) -> AnomalyOut:
    """Resolve, ignore or re-open an incident; later detection runs keep the user's status. Published on
    the ``anomalies`` channel once stored."""
    status = AnomalyStatus(body.status)
    return await _triage(
        runtime, principal, anomaly_id, lambda s: s.set_status(anomaly_id, status, body.note), "status"
    )


@router.post("/anomalies/{anomaly_id}/feedback", response_model=AnomalyOut)
async def anomaly_feedback(
    anomaly_id: uuid.UUID, body: AnomalyFeedbackIn, principal: Triager, runtime: RuntimeDep
) -> AnomalyOut:
    """Label an incident (yes / no / planned_activity); recommendations skip what planned activity launched.
    Published on the ``anomalies`` channel once stored."""
    feedback = AnomalyFeedback(body.feedback)
    return await _triage(
        runtime, principal, anomaly_id, lambda s: s.set_feedback(anomaly_id, feedback), "feedback"
    )
